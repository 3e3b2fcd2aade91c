package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provisioning-dev/scim-operator/internal/filter"
)

// PostgresURLEnv names the variable holding a PostgreSQL URL whose user may create databases
// (hack/postgres.sh sets it). Without it the PostgreSQL half of the suite is skipped, except
// under CI=true, where it fails.
const PostgresURLEnv = "SCIM_TEST_POSTGRES_URL"

// opener opens a fresh, empty store of one backend; the test closes and removes it.
type opener func(t testing.TB, rules Rules, opts ...Option) Store

type backend struct {
	name string
	open opener
}

// eachBackend runs fn once per backend, as subtests named after the backends.
func eachBackend(t *testing.T, fn func(t *testing.T, open opener)) {
	t.Helper()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open) })
	}
}

func backends(t testing.TB) []backend {
	t.Helper()
	bs := []backend{{name: "sqlite", open: openTestSQLite}}
	if os.Getenv(PostgresURLEnv) == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must run the PostgreSQL suite (hack/postgres.sh run -- go test ...)",
				PostgresURLEnv)
		}
		return bs
	}
	return append(bs, backend{name: "postgres", open: openTestPostgres})
}

func openTestSQLite(t testing.TB, rules Rules, opts ...Option) Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scim.db")
	st, err := Open(context.Background(), "sqlite://"+path, rules, quiet(opts)...)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// quiet puts a logger that drops everything before the test's options.
func quiet(opts []Option) []Option {
	return append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)
}

var pgDatabases atomic.Int64

// createPostgresDB creates a database of its own on the server PostgresURLEnv names and
// returns its URL and a function that drops it.
func createPostgresDB() (string, func(), error) {
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		return "", nil, fmt.Errorf("%s is not set", PostgresURLEnv)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("parse %s: %w", PostgresURLEnv, err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, fmt.Errorf("open postgres: %w", err)
	}
	name := fmt.Sprintf("scim_t%d_%d", os.Getpid(), pgDatabases.Add(1))
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		_ = admin.Close()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u.Path = "/" + name
	drop := func() {
		_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		_ = admin.Close()
	}
	return u.String(), drop, nil
}

// openTestPostgres opens a store in a database of its own, dropped after the test.
func openTestPostgres(t testing.TB, rules Rules, opts ...Option) Store {
	t.Helper()
	dbURL, drop, err := createPostgresDB()
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(context.Background(), dbURL, rules, quiet(opts)...)
	if err != nil {
		drop()
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() {
		_ = st.Close()
		drop()
	})
	return st
}

// agencyRules are the rules of the sample agency in the issue.
func agencyRules() Rules {
	return Rules{
		ExtensionSchema:  filter.AxonExtensionSchema,
		DefaultLanguage:  "EN_US",
		Ranks:            []string{"Officer", "Corporal", "Sergeant", "Lieutenant", "Captain"},
		Roles:            []string{"User", "Supervisor", "Admin"},
		EvidenceGroups:   []string{"Evidence-North", "Evidence-South"},
		UserGroups:       []string{"Patrol-A", "Patrol-B"},
		CommandHierarchy: []string{"Patrol Division"},
	}
}

// oktaUser is a user shaped like Okta's create request.
func oktaUser(n int) User {
	return User{
		UserName:    fmt.Sprintf("officer%d@agency.example", n),
		ExternalID:  fmt.Sprintf("00u%06dOKTA", n),
		Name:        Name{GivenName: fmt.Sprintf("Given%d", n), FamilyName: fmt.Sprintf("Family%d", n)},
		DisplayName: fmt.Sprintf("Given%d Family%d", n, n),
		Locale:      "en_US",
		Active:      true,
		Emails:      []Email{{Value: fmt.Sprintf("officer%d@agency.example", n), Type: "work", Primary: true}},
		Extension:   Extension{BadgeID: fmt.Sprintf("B%05d", n)},
	}
}

func mustCreateUser(t testing.TB, st Store, u User) *User {
	t.Helper()
	got, err := st.CreateUser(context.Background(), u)
	if err != nil {
		t.Fatalf("create user %s: %v", u.UserName, err)
	}
	return got
}

func mustCreateGroup(t testing.TB, st Store, g Group) *Group {
	t.Helper()
	got, err := st.CreateGroup(context.Background(), g)
	if err != nil {
		t.Fatalf("create group %s: %v", g.DisplayName, err)
	}
	return got
}

// wantKind fails unless err is a directory error of kind and, when field is set, field. It
// returns the error's detail.
func wantKind(t testing.TB, err error, kind ErrorKind, field string) string {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", kind)
	}
	var e *Error
	if !errors.As(err, &e) || e.Kind != kind {
		t.Fatalf("got error %v, want kind %s", err, kind)
	}
	if field != "" && e.Field != field {
		t.Fatalf("got field %q, want %q (error: %v)", e.Field, field, err)
	}
	return e.Detail
}

// fixedClock is a clock tests move by hand.
type fixedClock struct{ t atomic.Int64 }

func newClock() *fixedClock {
	c := &fixedClock{}
	c.t.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixMicro())
	return c
}

func (c *fixedClock) now() time.Time          { return time.UnixMicro(c.t.Load()).UTC() }
func (c *fixedClock) advance(d time.Duration) { c.t.Add(d.Microseconds()) }

func userNames(users []User) string {
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.UserName
	}
	return strings.Join(names, ",")
}

// postgresDatabase creates a database of its own for the test, dropped when it ends, and
// returns its URL; it skips the test without PostgresURLEnv.
func postgresDatabase(t *testing.T) string {
	t.Helper()
	if os.Getenv(PostgresURLEnv) == "" {
		t.Skipf("%s is not set", PostgresURLEnv)
	}
	dbURL, drop, err := createPostgresDB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return dbURL
}

// postgresReplicas opens n stores on one new PostgreSQL database, as n SCIM server replicas
// would; they are closed and the database dropped when the test ends. Skips without
// PostgresURLEnv.
func postgresReplicas(t *testing.T, n int) []*sqlStore {
	t.Helper()
	dbURL := postgresDatabase(t)
	replicas := make([]*sqlStore, n)
	for i := range replicas {
		st, err := Open(context.Background(), dbURL, agencyRules(), quiet(nil)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		replicas[i] = st.(*sqlStore)
	}
	return replicas
}
