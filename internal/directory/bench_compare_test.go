package directory

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The comparison benchmarks interleave the two things they compare, one after the other in
// every iteration, so load from elsewhere on the machine falls on both alike, and report the
// ratio the targets are stated in.

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkLookupScaling: median `userName eq` lookup at 100,000 users over the median at
// 1,000 (target: at most 1.5).
func BenchmarkLookupScaling(b *testing.B) {
	for _, be := range benchBackends(b) {
		b.Run(be.name, func(b *testing.B) {
			small, large := seededStore(b, be, 1000), seededStore(b, be, 100000)
			ctx := context.Background()
			var ts, tl []time.Duration
			lookup := func(st Store, n, i int) time.Duration {
				f := mustParse(b, fmt.Sprintf(`userName eq "OFFICER%d@agency.example"`, (i*7919)%n))
				start := time.Now()
				page, err := st.ListUsers(ctx, Query{Filter: f, StartIndex: 1, Count: 100, WithMembers: true})
				if err != nil || page.Total != 1 {
					b.Fatalf("lookup: %+v %v", page, err)
				}
				return time.Since(start)
			}
			for i := 0; b.Loop(); i++ {
				ts = append(ts, lookup(small, 1000, i))
				tl = append(tl, lookup(large, 100000, i))
			}
			ms, ml := median(ts), median(tl)
			b.ReportMetric(float64(ms.Microseconds()), "p50-µs-1k")
			b.ReportMetric(float64(ml.Microseconds()), "p50-µs-100k")
			b.ReportMetric(float64(ml)/float64(ms), "p50-ratio")
		})
	}
}

// BenchmarkCreateVsRawInsert: CreateUser's rate over raw single-row inserts' rate with the
// same durability settings (target: at least 0.5).
func BenchmarkCreateVsRawInsert(b *testing.B) {
	st := openTestSQLite(b, agencyRules())
	raw, err := sql.Open("sqlite", SQLiteDSN(filepath.Join(b.TempDir(), "raw.db")))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = raw.Close() }()
	raw.SetMaxOpenConns(1)
	ctx := context.Background()
	if _, err := raw.ExecContext(ctx, "CREATE TABLE t (seq INTEGER PRIMARY KEY, name TEXT NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	var tc, tr time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		u := oktaUser(i)
		u.Extension.UserGroupName = "Patrol-A"
		if _, err := st.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		tc += time.Since(start)
		start = time.Now()
		if _, err := raw.ExecContext(ctx, "INSERT INTO t (name) VALUES (?)", fmt.Sprintf("user%d", i)); err != nil {
			b.Fatal(err)
		}
		tr += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(n/tc.Seconds(), "creates/s")
	b.ReportMetric(n/tr.Seconds(), "raw-inserts/s")
	b.ReportMetric(tr.Seconds()/tc.Seconds(), "rate-ratio")
}

// BenchmarkPagingVsOneRead: one pass over 100,000 users in pages of 100 over one read of all
// of them (target: at most 3).
func BenchmarkPagingVsOneRead(b *testing.B) {
	const n = 100000
	for _, be := range benchBackends(b) {
		b.Run(be.name, func(b *testing.B) {
			st := seededStore(b, be, n)
			ctx := context.Background()
			var tp, tf time.Duration
			for b.Loop() {
				start := time.Now()
				readAllByPages(b, ctx, st, n, 100)
				tp += time.Since(start)
				start = time.Now()
				page, err := st.ListUsers(ctx, Query{StartIndex: 1, Count: n, WithMembers: true})
				if err != nil || len(page.Resources) != n {
					b.Fatalf("full read: %v", err)
				}
				tf += time.Since(start)
			}
			b.ReportMetric(tp.Seconds()/float64(b.N), "s/paged-pass")
			b.ReportMetric(tf.Seconds()/float64(b.N), "s/one-read")
			b.ReportMetric(tp.Seconds()/tf.Seconds(), "ratio")
		})
	}
}
