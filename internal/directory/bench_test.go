package directory

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// Benchmarks for the store's hot paths. The seeded directories are built once per backend and
// size per run of the test binary (bulk-loaded, 1,000 users per transaction) and reused.
//
//	go test ./internal/directory -run '^$' -bench . -benchtime 2000x

var (
	benchDir     string
	benchDirOnce sync.Once
	benchSeeded  sync.Map // "backend/size" -> Store
	benchDrops   []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	benchSeeded.Range(func(_, v any) bool {
		_ = v.(Store).Close()
		return true
	})
	for _, drop := range benchDrops {
		drop()
	}
	if benchDir != "" {
		_ = os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// seededStore returns a store of the backend holding n users shaped like Okta's.
func seededStore(b *testing.B, be backend, n int) Store {
	b.Helper()
	key := fmt.Sprintf("%s/%d", be.name, n)
	if st, ok := benchSeeded.Load(key); ok {
		return st.(Store)
	}
	var st Store
	if be.name == "sqlite" {
		benchDirOnce.Do(func() {
			dir, err := os.MkdirTemp("", "scim-directory-bench-")
			if err != nil {
				b.Fatal(err)
			}
			benchDir = dir
		})
		var err error
		st, err = Open(context.Background(), "sqlite://"+filepath.Join(benchDir, key[len("sqlite/"):]+".db"),
			agencyRules(), quiet(nil)...)
		if err != nil {
			b.Fatal(err)
		}
	} else {
		st = openTestPostgresUncleaned(b)
	}
	s := st.(*sqlStore)
	const batch = 1000
	for start := 0; start < n; start += batch {
		err := s.inTx(context.Background(), func(tx *conn) error {
			for i := start; i < min(start+batch, n); i++ {
				u := oktaUser(i)
				if i%10 == 0 {
					u.Extension.UserGroupName = "Patrol-A"
				}
				if _, err := s.createUserTx(context.Background(), tx, u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatalf("seed %d users: %v", n, err)
		}
	}
	// Give PostgreSQL's planner statistics, as autovacuum does soon after a bulk load. SQLite
	// runs as the server runs it, without statistics.
	if be.name == "postgres" {
		if _, err := s.writer.ExecContext(context.Background(), "ANALYZE"); err != nil {
			b.Fatalf("analyze: %v", err)
		}
	}
	benchSeeded.Store(key, st)
	return st
}

// openTestPostgresUncleaned opens a store in a database of its own that lives until TestMain
// drops it.
func openTestPostgresUncleaned(b *testing.B) Store {
	b.Helper()
	url, drop, err := createPostgresDB()
	if err != nil {
		b.Fatal(err)
	}
	benchDrops = append(benchDrops, drop)
	st, err := Open(context.Background(), url, agencyRules(), quiet(nil)...)
	if err != nil {
		b.Fatal(err)
	}
	return st
}

func benchBackends(b *testing.B) []backend {
	return backends(b)
}

// BenchmarkLookupByUserName is Okta's create-time lookup, `userName eq "..."`, with the
// user's groups, at two directory sizes: an index lookup costs about the same at both.
func BenchmarkLookupByUserName(b *testing.B) {
	for _, be := range benchBackends(b) {
		for _, n := range []int{1000, 100000} {
			b.Run(fmt.Sprintf("%s/users=%d", be.name, n), func(b *testing.B) {
				st := seededStore(b, be, n)
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					f := mustParse(b, fmt.Sprintf(`userName eq "OFFICER%d@agency.example"`, (i*7919)%n))
					page, err := st.ListUsers(ctx, Query{Filter: f, StartIndex: 1, Count: 100, WithMembers: true})
					if err != nil || page.Total != 1 {
						b.Fatalf("lookup: %+v %v", page, err)
					}
				}
			})
		}
	}
}

// BenchmarkCreateUser is POST /Users at the store: one durable transaction per user.
func BenchmarkCreateUser(b *testing.B) {
	for _, be := range benchBackends(b) {
		b.Run(be.name, func(b *testing.B) {
			st := be.open(b, agencyRules())
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				u := oktaUser(i)
				u.Extension.UserGroupName = "Patrol-A"
				if _, err := st.CreateUser(ctx, u); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRawSQLiteInsert is the ceiling for BenchmarkCreateUser/sqlite: one single-row
// insert per transaction, with the store's durability settings (SQLiteDSN).
func BenchmarkRawSQLiteInsert(b *testing.B) {
	db, err := sql.Open("sqlite", SQLiteDSN(filepath.Join(b.TempDir(), "raw.db")))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (seq INTEGER PRIMARY KEY, name TEXT NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := db.ExecContext(ctx, "INSERT INTO t (name) VALUES (?)", fmt.Sprintf("user%d", i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadAllUsers compares one import pass over 100,000 users page by page (count=100,
// as Okta imports) with one read of all of them. One op is one whole pass.
func BenchmarkReadAllUsers(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("SCIM_BENCH_USERS")); err == nil && v > 0 {
		n = v
	}
	for _, be := range benchBackends(b) {
		st := seededStore(b, be, n)
		ctx := context.Background()
		b.Run(be.name+"/pages-of-100", func(b *testing.B) {
			for b.Loop() {
				readAllByPages(b, ctx, st, n, 100)
			}
		})
		b.Run(be.name+"/pages-of-100-offset-only", func(b *testing.B) {
			s := st.(*sqlStore)
			offsets := &sqlStore{d: s.d, writer: s.writer, reader: s.reader, rules: s.rules, now: s.now,
				log: s.log, noSeek: true}
			offsets.init()
			for b.Loop() {
				readAllByPages(b, ctx, offsets, n, 100)
			}
		})
		b.Run(be.name+"/one-read", func(b *testing.B) {
			for b.Loop() {
				page, err := st.ListUsers(ctx, Query{StartIndex: 1, Count: n, WithMembers: true})
				if err != nil || len(page.Resources) != n {
					b.Fatalf("full read: %d users, %v", len(page.Resources), err)
				}
			}
		})
	}
}

func readAllByPages(b *testing.B, ctx context.Context, st Store, n, size int) {
	b.Helper()
	seen := 0
	for start := 1; start <= n; start += size {
		page, err := st.ListUsers(ctx, Query{StartIndex: start, Count: size, WithMembers: true})
		if err != nil {
			b.Fatal(err)
		}
		seen += len(page.Resources)
	}
	if seen != n {
		b.Fatalf("paged through %d users, want %d", seen, n)
	}
}
