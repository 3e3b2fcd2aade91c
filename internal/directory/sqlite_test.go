package directory

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const childDBEnv = "SCIM_DIRECTORY_TEST_CHILD_DB"

// TestHelperProcessWritesUntilKilled is not a test on its own: TestSQLite_AcknowledgedWritesSurviveKill9
// runs the test binary with it as a child that creates users and prints each id once its
// create has returned.
func TestHelperProcessWritesUntilKilled(t *testing.T) {
	path := os.Getenv(childDBEnv)
	if path == "" {
		t.Skip("runs only as the child of TestSQLite_AcknowledgedWritesSurviveKill9")
	}
	st, err := Open(context.Background(), "sqlite://"+path, agencyRules(), quiet(nil)...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		u, err := st.CreateUser(context.Background(), oktaUser(i))
		if err != nil {
			fmt.Fprintln(os.Stderr, "create:", err)
			os.Exit(4)
		}
		fmt.Fprintln(out, u.ID)
		if err := out.Flush(); err != nil {
			os.Exit(5)
		}
	}
}

func TestSQLite_AcknowledgedWritesSurviveKill9(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scim.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcessWritesUntilKilled$", "-test.count=1")
	cmd.Env = append(os.Environ(), childDBEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	var acked []string
	deadline := time.Now().Add(60 * time.Second)
	for len(acked) < 25 && lines.Scan() {
		acked = append(acked, lines.Text())
		if time.Now().After(deadline) {
			break
		}
	}
	// SIGKILL: no deferred code, no Close, no checkpoint runs in the child.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill: %v", err)
	}
	for lines.Scan() {
		acked = append(acked, lines.Text())
	}
	_ = cmd.Wait()
	if len(acked) < 25 {
		t.Fatalf("child acknowledged only %d writes; stderr: %s", len(acked), stderr.String())
	}

	st, err := Open(t.Context(), "sqlite://"+path, agencyRules(), quiet(nil)...)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer func() { _ = st.Close() }()
	for _, id := range acked {
		if _, err := st.GetUser(t.Context(), id); err != nil {
			t.Fatalf("acknowledged user %s lost after kill -9: %v", id, err)
		}
	}
	c, err := st.Counts(t.Context())
	if err != nil || c.Users < int64(len(acked)) {
		t.Fatalf("counts %+v after %d acknowledged writes (%v)", c, len(acked), err)
	}
}

func TestSQLite_WriterUsesWALAndFullSync(t *testing.T) {
	st := openTestSQLite(t, agencyRules()).(*sqlStore)
	var mode string
	var sync, busy int
	ctx := t.Context()
	if err := st.writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := st.writer.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if err := st.reader.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || sync != 2 || busy != 5000 {
		t.Fatalf("journal_mode=%s synchronous=%d busy_timeout=%d; want wal, 2 (FULL), 5000", mode, sync, busy)
	}
	if _, err := st.reader.ExecContext(ctx, "DELETE FROM counters"); err == nil {
		t.Fatal("the read pool must be query-only")
	}
}

// TestSQLite_LookupsAreAnsweredFromIndexes reads SQLite's plan for the queries Okta and Entra
// send most, and fails on a full scan of users.
func TestSQLite_LookupsAreAnsweredFromIndexes(t *testing.T) {
	st := openTestSQLite(t, agencyRules()).(*sqlStore)
	for i := range 50 {
		mustCreateUser(t, st, oktaUser(i))
	}
	cases := []struct{ name, filter, wantIndex string }{
		{name: "userName eq", filter: `userName eq "x"`, wantIndex: "users_user_name_ci"},
		{name: "userName sw", filter: `userName sw "off"`, wantIndex: "users_user_name_ci"},
		{name: "externalId eq", filter: `externalId eq "x"`, wantIndex: "users_external_id"},
		{name: "id eq", filter: `id eq "x"`, wantIndex: "sqlite_autoindex_users_1"},
		{name: "displayName eq", filter: `displayName eq "x"`, wantIndex: "users_display_name_ci"},
		{name: "emails eq", filter: `emails.value eq "x"`, wantIndex: "user_emails_value_ci"},
		{name: "emails value path", filter: `emails[type eq "work" and value eq "x"]`,
			wantIndex: "user_emails_value_ci"},
		{name: "or of two indexed lookups", filter: `userName eq "x" or externalId eq "y"`,
			wantIndex: "users_external_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			where, args, err := st.where(mustParse(t, tc.filter), userSchema)
			if err != nil {
				t.Fatal(err)
			}
			for _, query := range []string{
				selectUser + where + " ORDER BY u.seq LIMIT 100 OFFSET 0",
				"SELECT count(*) FROM users u" + where,
			} {
				plan := explain(t, st, query, args)
				if !strings.Contains(plan, tc.wantIndex) || strings.Contains(plan, "SCAN u") {
					t.Fatalf("plan for %s does not use %s:\n%s", query, tc.wantIndex, plan)
				}
			}
		})
	}
}

func explain(t *testing.T, st *sqlStore, query string, args []any) string {
	t.Helper()
	rows, err := st.reader.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer func() { _ = rows.Close() }()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}
