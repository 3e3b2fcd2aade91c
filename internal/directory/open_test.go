package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOpen_ReopeningKeepsDataAndAppliesMigrationsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scim.db")
	url := "sqlite://" + path
	st, err := Open(t.Context(), url, agencyRules(), quiet(nil)...)
	if err != nil {
		t.Fatal(err)
	}
	u := mustCreateUser(t, st, oktaUser(1))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = Open(t.Context(), url, agencyRules(), quiet(nil)...)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer func() { _ = st.Close() }()
	if _, err := st.GetUser(t.Context(), u.ID); err != nil {
		t.Fatalf("user lost on reopen: %v", err)
	}
	var applied int
	row := st.(*sqlStore).reader.QueryRowContext(t.Context(), "SELECT count(*) FROM schema_migrations")
	if err := row.Scan(&applied); err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations("sqlite")
	if err != nil || applied != len(ms) {
		t.Fatalf("schema_migrations has %d rows for %d migrations (%v)", applied, len(ms), err)
	}
	c, err := st.Counts(t.Context())
	if err != nil || c.Groups != 2 {
		t.Fatalf("user groups must be created once: counts %+v %v", c, err)
	}
}

func TestOpen_BothBackendsHaveTheSameMigrations(t *testing.T) {
	lite, err := loadMigrations("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := loadMigrations("postgres")
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) != len(pg) {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL ones", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].name != pg[i].name {
			t.Errorf("migration %d: %s vs %s", i, lite[i].name, pg[i].name)
		}
	}
}

func TestOpen_RejectsUnknownURLs(t *testing.T) {
	cases := []struct{ name, url string }{
		{name: "mysql", url: "mysql://localhost/db"},
		{name: "empty sqlite path", url: "sqlite://"},
		{name: "empty", url: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if st, err := Open(context.Background(), tc.url, Rules{}); err == nil {
				_ = st.Close()
				t.Fatalf("Open(%q) succeeded", tc.url)
			}
		})
	}
}

func TestStore_PingFailsOnceClosed(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		if err := st.Ping(t.Context()); err != nil {
			t.Fatalf("ping an open store: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if err := st.Ping(t.Context()); err == nil {
			t.Fatal("ping after Close must fail, so /readyz fails")
		}
	})
}

func TestStore_CountsFollowWrites(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		a := mustCreateUser(t, st, oktaUser(1))
		mustCreateUser(t, st, oktaUser(2))
		g := mustCreateGroup(t, st, Group{DisplayName: "Extra"})
		if _, err := st.DeactivateUser(t.Context(), a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.DeactivateUser(t.Context(), a.ID); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteGroup(t.Context(), g.ID); err != nil {
			t.Fatal(err)
		}
		c, err := st.Counts(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if c != (Counts{Users: 2, ActiveUsers: 1, Groups: 2}) {
			t.Fatalf("counts = %+v, want 2 users, 1 active, 2 groups", c)
		}
	})
}

func TestErrors_MatchSentinelsByKind(t *testing.T) {
	err := error(errorf(KindUniqueness, "userName", "taken"))
	if !strings.Contains(err.Error(), "userName") || KindOf(err) != KindUniqueness {
		t.Fatalf("error %v", err)
	}
	cases := []struct {
		name     string
		sentinel error
		want     bool
	}{
		{name: "same kind", sentinel: ErrUniqueness, want: true},
		{name: "other kind", sentinel: ErrNotFound, want: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := errorsIs(err, tc.sentinel); got != tc.want {
				t.Fatalf("errors.Is = %v, want %v", got, tc.want)
			}
		})
	}
}

func errorsIs(err, target error) bool { return errors.Is(fmt.Errorf("wrapped: %w", err), target) }

// TestOpen_ReplicasStartingTogetherAllOpenOnPostgres opens several stores on one new database at
// once, as the replicas of a new agency start: each opens at its first attempt (one of them
// failed to create schema_migrations, which the others were creating too, and retried).
func TestOpen_ReplicasStartingTogetherAllOpenOnPostgres(t *testing.T) {
	if os.Getenv(PostgresURLEnv) == "" {
		t.Skipf("%s is not set", PostgresURLEnv)
	}
	for round := range 5 {
		dbURL, drop, err := createPostgresDB()
		if err != nil {
			t.Fatal(err)
		}
		const replicas = 4
		var wg sync.WaitGroup
		errs := make([]error, replicas)
		for i := range replicas {
			wg.Go(func() {
				var st Store
				st, errs[i] = Open(context.Background(), dbURL, agencyRules(), quiet(nil)...)
				if errs[i] == nil {
					_ = st.Close()
				}
			})
		}
		wg.Wait()
		drop()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, replica %d: %v", round, i, err)
			}
		}
	}
}

// TestOpen_PostgresEndsTransactionsLeftIdleByAVanishedReplica: a replica that stops (frozen,
// or cut off from the network) in the middle of a create holds the lock every create takes,
// and PostgreSQL would keep its transaction open until TCP gives up (hours): every replica's
// creates failed meanwhile. The store's sessions end a transaction idle for
// idleTransactionTimeout, unless the database URL sets the parameter itself.
func TestOpen_PostgresEndsTransactionsLeftIdleByAVanishedReplica(t *testing.T) {
	if os.Getenv(PostgresURLEnv) == "" {
		t.Skipf("%s is not set", PostgresURLEnv)
	}
	cases := []struct {
		name  string
		param string
		want  string
	}{
		{name: "default", want: idleTransactionTimeout.String()},
		{name: "set in the URL", param: "&idle_in_transaction_session_timeout=5000", want: "5s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dbURL := postgresDatabase(t)
			if !strings.Contains(dbURL, "?") {
				dbURL += "?sslmode=disable"
			}
			st, err := Open(t.Context(), dbURL+tc.param, agencyRules(), quiet(nil)...)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = st.Close() }()
			var got string
			const show = "SHOW idle_in_transaction_session_timeout"
			err = st.(*sqlStore).reader.QueryRowContext(t.Context(), show).Scan(&got)
			if err != nil || got != tc.want {
				t.Fatalf("idle_in_transaction_session_timeout = %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}

// TestOpen_AFailedMigrationIsAMigrationError: a database that already holds a table of the
// same name as the schema's (another program's) fails the first migration, and Open says
// which migration, as a MigrationError, so that the SCIM server reports MigrationFailed rather
// than an unreachable store.
func TestOpen_AFailedMigrationIsAMigrationError(t *testing.T) {
	tests := []struct {
		name, driver string
		url          func(t *testing.T) string
	}{
		{name: "sqlite", driver: "sqlite", url: func(t *testing.T) string {
			return "sqlite://" + filepath.Join(t.TempDir(), "scim.db")
		}},
		{name: "postgres", driver: "pgx", url: postgresDatabase},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbURL := tt.url(t)
			raw, err := sql.Open(tt.driver, strings.TrimPrefix(dbURL, "sqlite://"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = raw.ExecContext(t.Context(), "CREATE TABLE users (name TEXT)")
			_ = raw.Close()
			if err != nil {
				t.Fatal(err)
			}
			st, err := Open(t.Context(), dbURL, agencyRules(), quiet(nil)...)
			if err == nil {
				_ = st.Close()
				t.Fatal("Open succeeded over a foreign users table")
			}
			var me *MigrationError
			if !errors.As(err, &me) || me.Name != "0001_init.sql" {
				t.Fatalf("error %v (%T), want a MigrationError for 0001_init.sql", err, err)
			}
		})
	}
}

// TestWrites_ADeadlockIsAConcurrentWrite: two transactions that lock the same rows in opposite
// orders deadlock, and PostgreSQL rolls one back. That write is ErrConcurrentWrite (the SCIM
// server answers 503 and the client sends it again), not a store failure.
func TestWrites_ADeadlockIsAConcurrentWrite(t *testing.T) {
	// Two replicas: one process runs its write transactions one at a time.
	replicas := postgresReplicas(t, 2)

	var held sync.WaitGroup
	held.Add(2)
	lockBoth := func(s *sqlStore, first, second string) error {
		return s.inTx(t.Context(), func(tx *conn) error {
			lock := s.q("UPDATE counters SET value = value WHERE name = ?")
			if _, err := tx.ExecContext(t.Context(), lock, first); err != nil {
				held.Done()
				return err
			}
			held.Done()
			held.Wait() // both hold their first row: each now waits for the other's
			_, err := tx.ExecContext(t.Context(), lock, second)
			return err
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- lockBoth(replicas[0], "users", "groups") }()
	go func() { errs <- lockBoth(replicas[1], "groups", "users") }()
	var failed []error
	for range 2 {
		if err := <-errs; err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) != 1 || !errors.Is(failed[0], ErrConcurrentWrite) {
		t.Fatalf("errors %v: want one ErrConcurrentWrite", failed)
	}
}

// TestOpen_PostgresThatNeverAnswersTimesOut: a server that accepts the connection but never
// answers (frozen, or its packets dropped past a proxy) makes Open fail after
// postgresConnectTimeout, so that the SCIM server can report why and try again, instead of
// waiting without end on a context that has no deadline.
func TestOpen_PostgresThatNeverAnswersTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	}()

	done := make(chan error, 1)
	began := time.Now()
	go func() {
		st, err := Open(context.Background(), "postgres://scim@"+ln.Addr().String()+"/agency?sslmode=disable",
			agencyRules(), quiet(nil)...)
		if err == nil {
			_ = st.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !Unreachable(err) {
			t.Errorf("Open = %v, want an error that says the database cannot be reached", err)
		}
		if took := time.Since(began); took < postgresConnectTimeout/2 {
			t.Errorf("Open failed after %s, before the connect timeout %s", took, postgresConnectTimeout)
		}
	case <-time.After(postgresConnectTimeout + 5*time.Second):
		t.Fatalf("Open did not return within %s from a server that never answers",
			postgresConnectTimeout+5*time.Second)
	}
}
