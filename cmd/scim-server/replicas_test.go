package main

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// postgresURLEnv names the PostgreSQL server the replica tests use (hack/postgres.sh exports
// it); they are skipped without it.
const postgresURLEnv = "SCIM_TEST_POSTGRES_URL"

var databases atomic.Int64

// postgresDatabase creates an empty database of its own on the server postgresURLEnv names
// and returns its URL; the database is dropped after the test.
func postgresDatabase(t *testing.T) string {
	t.Helper()
	base := os.Getenv(postgresURLEnv)
	if base == "" {
		t.Skipf("%s is not set (run under hack/postgres.sh run)", postgresURLEnv)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("scim_server_t%d_%d", os.Getpid(), databases.Add(1))
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		_ = admin.Close()
	})
	u.Path = "/" + name
	return u.String()
}

// replicaConfig writes the configuration of one replica using database, on free ports.
func replicaConfig(t *testing.T, orgURL, database string) (config, api, metrics string) {
	t.Helper()
	dir := t.TempDir()
	api, metrics = freeAddr(t), freeAddr(t)
	config = writeConfig(t, dir, orgURL, api, metrics)
	b, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	cfg := regexp.MustCompile(`(?m)^database: .*$`).ReplaceAllLiteralString(string(b), "database: "+database)
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return config, api, metrics
}

// replicas starts n scim-server processes sharing database and returns their SCIM base URLs.
func replicas(t *testing.T, o *org, database string, n int) ([]*instance, []string) {
	t.Helper()
	var ins []*instance
	var bases []string
	for range n {
		config, api, metrics := replicaConfig(t, o.srv.URL, database)
		in := start(t, config, api, metrics)
		ins = append(ins, in)
		bases = append(bases, in.api+"/api/v2/agencies/"+agency+"/scim")
	}
	return ins, bases
}

// proxy forwards TCP connections from a fixed 127.0.0.1 address to a target; stopping it
// closes every connection, as a database server that went away does.
type proxy struct {
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	p := &proxy{addr: freeAddr(t), target: target, conns: map[net.Conn]struct{}{}}
	p.start(t)
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *proxy) forward(c net.Conn) {
	d, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[d] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(d, c); _ = d.Close() }()
	_, _ = io.Copy(c, d)
	_ = c.Close()
}

// stop closes the listener and every forwarded connection.
func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}

// scimError is the part of a SCIM error body the tests read.
type scimError struct {
	Status   string `json:"status"`
	ScimType string `json:"scimType"`
	Detail   string `json:"detail"`
}

func decodeError(b []byte) (scimError, error) {
	var e scimError
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("not a SCIM error body: %w: %s", err, b)
	}
	if e.Status == "" {
		return e, errors.New("SCIM error without status: " + string(b))
	}
	return e, nil
}

func userBody(userName, email, externalID string) string {
	return fmt.Sprintf(`{"userName": %q, "emails": [{"value": %q, "primary": true}], "externalId": %q,
		"active": true, "urn:ietf:params:scim:schemas:extension:2.0:axon": {"badgeId": "1"}}`,
		userName, email, externalID)
}

// TestReplicas_ConcurrentCreatesOfOneIdentifierGiveOne201 sends creates that share one unique
// identifier to three replicas of one PostgreSQL directory at once: exactly one is created,
// every other one is 409 uniqueness naming the shared field.
func TestReplicas_ConcurrentCreatesOfOneIdentifierGiveOne201(t *testing.T) {
	o := newOrg(t)
	_, bases := replicas(t, o, postgresDatabase(t), 3)
	token := o.token(t)
	const senders = 12
	tests := []struct {
		name  string
		field string
		body  func(i int) string
	}{
		{
			name:  "same userName in other cases",
			field: "userName",
			body: func(i int) string {
				name := "Same.User@agency.example"
				if i%2 == 1 {
					name = "same.user@AGENCY.example"
				}
				return userBody(name, fmt.Sprintf("u%d@mail.example", i), fmt.Sprintf("00uA%d", i))
			},
		},
		{
			name:  "same primary email in other cases",
			field: "emails",
			body: func(i int) string {
				email := "Shared@agency.example"
				if i%2 == 1 {
					email = "shared@AGENCY.EXAMPLE"
				}
				return userBody(fmt.Sprintf("e%d@agency.example", i), email, fmt.Sprintf("00uB%d", i))
			},
		},
		{
			name:  "same externalId",
			field: "externalId",
			body: func(i int) string {
				return userBody(fmt.Sprintf("x%d@agency.example", i), fmt.Sprintf("x%d@mail.example", i), "00uSAME")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oneWins(t, senders, http.StatusCreated, tt.field, func(i int) (int, []byte) {
				return call(t, http.MethodPost, bases[i%len(bases)]+"/Users", token, tt.body(i))
			})
		})
	}
}

// viaProxy returns database with its host replaced by a proxy to it, and a password added
// (the test server trusts local connections, so any password is accepted).
func viaProxy(t *testing.T, database, password string) (string, *proxy) {
	t.Helper()
	u, err := url.Parse(database)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String(), p
}

// TestReplicas_StoreOutageIs503AndRecoversWithoutRestart stops the database under running
// replicas: /readyz fails, the report names the problem without the password, SCIM requests
// get 503 SCIM errors quickly; when the database is back, all of it recovers without restart.
func TestReplicas_StoreOutageIs503AndRecoversWithoutRestart(t *testing.T) {
	const password = "pw-never-shown-8812"
	o := newOrg(t)
	database, db := viaProxy(t, postgresDatabase(t), password)
	ins, bases := replicas(t, o, database, 2)
	token := o.token(t)
	if st, b := call(t, http.MethodPost, bases[0]+"/Users", token, userBody("before@agency.example",
		"before@agency.example", "00uBEFORE")); st != http.StatusCreated {
		t.Fatalf("create before the outage: %d %s", st, b)
	}

	db.stop()
	for i, in := range ins {
		requests := []struct{ method, path, body string }{
			{http.MethodGet, "/Users?startIndex=1&count=2", ""},
			{http.MethodPost, "/Users", userBody(fmt.Sprintf("during%d@agency.example", i),
				fmt.Sprintf("during%d@agency.example", i), fmt.Sprintf("00uDURING%d", i))},
		}
		for _, r := range requests {
			began := time.Now()
			st, b := call(t, r.method, bases[i]+r.path, token, r.body)
			took := time.Since(began)
			if _, err := decodeError(b); st != http.StatusServiceUnavailable || err != nil {
				t.Errorf("replica %d %s %s during the outage: %d %s (%v), want a 503 SCIM error", i, r.method,
					r.path, st, b, err)
			}
			if took > 26*time.Second {
				t.Errorf("replica %d %s %s took %s", i, r.method, r.path, took)
			}
		}
		if st, _ := call(t, http.MethodGet, in.metrics+"/readyz", "", ""); st != http.StatusServiceUnavailable {
			t.Errorf("replica %d /readyz = %d during the outage, want 503", i, st)
		}
		_, b := call(t, http.MethodGet, in.metrics+scimconfig.ReportPath, "", "")
		var rep scimconfig.Report
		if err := json.Unmarshal(b, &rep); err != nil || rep.Store == nil ||
			rep.Store.Reason != scimconfig.StoreUnreachable || strings.Contains(string(b), password) {
			t.Errorf("replica %d report during the outage: %s", i, b)
		}
	}

	db.start(t)
	for i, in := range ins {
		deadline := time.Now().Add(20 * time.Second)
		for {
			st, _ := call(t, http.MethodGet, in.metrics+"/readyz", "", "")
			if st == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %d /readyz = %d 20 s after the database came back", i, st)
			}
			time.Sleep(100 * time.Millisecond)
		}
		after := fmt.Sprintf("after%d@agency.example", i)
		if st, b := call(t, http.MethodPost, bases[i]+"/Users", token, userBody(after, after,
			fmt.Sprintf("00uAFTER%d", i))); st != http.StatusCreated {
			t.Errorf("replica %d create after the outage: %d %s", i, st, b)
		}
		_, b := call(t, http.MethodGet, in.metrics+scimconfig.ReportPath, "", "")
		var rep scimconfig.Report
		if err := json.Unmarshal(b, &rep); err != nil || rep.Store != nil || rep.Users != int64(i+2) {
			t.Errorf("replica %d report after the outage: %s", i, b)
		}
		if strings.Contains(in.stderr.String(), password) {
			t.Errorf("replica %d log holds the database password", i)
		}
	}
}

// createUsers creates n users through the replicas in turn and returns their ids.
func createUsers(t *testing.T, bases []string, token, prefix string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		name := fmt.Sprintf("%s%d@agency.example", prefix, i)
		st, b := call(t, http.MethodPost, bases[i%len(bases)]+"/Users", token, userBody(name, name, "00u"+name))
		if st != http.StatusCreated {
			t.Fatalf("create %s: %d %s", name, st, b)
		}
		var u struct{ ID string }
		if err := json.Unmarshal(b, &u); err != nil {
			t.Fatal(err)
		}
		ids[i] = u.ID
	}
	return ids
}

// TestReplicas_ConcurrentGroupPatchesLoseNoMember adds and removes members of one group
// through three replicas at once: every add that answered 204 is a member at the end, every
// remove that answered 204 is not.
func TestReplicas_ConcurrentGroupPatchesLoseNoMember(t *testing.T) {
	o := newOrg(t)
	_, bases := replicas(t, o, postgresDatabase(t), 3)
	token := o.token(t)
	const adds, removes = 30, 10
	ids := createUsers(t, bases, token, "member", adds+removes)
	members := ""
	for _, id := range ids[adds:] {
		members += fmt.Sprintf(`,{"value": %q}`, id)
	}
	st, b := call(t, http.MethodPost, bases[0]+"/Groups", token,
		`{"displayName": "Night Shift", "members": [`+members[1:]+`]}`)
	if st != http.StatusCreated {
		t.Fatalf("create group: %d %s", st, b)
	}
	var g struct{ ID string }
	_ = json.Unmarshal(b, &g)

	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			op := fmt.Sprintf(`{"op": "add", "path": "members", "value": [{"value": %q}]}`, id)
			if i >= adds {
				op = fmt.Sprintf(`{"op": "remove", "path": "members[value eq \"%s\"]"}`, id)
			}
			st, b := call(t, http.MethodPatch, bases[i%len(bases)]+"/Groups/"+g.ID, token,
				`{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [`+op+`]}`)
			if st != http.StatusNoContent {
				t.Errorf("patch %d: %d %s", i, st, b)
			}
		})
	}
	wg.Wait()

	for r, base := range bases {
		st, b := call(t, http.MethodGet, base+"/Groups/"+g.ID, token, "")
		var got struct{ Members []struct{ Value string } }
		if err := json.Unmarshal(b, &got); st != http.StatusOK || err != nil {
			t.Fatalf("replica %d get group: %d %v %s", r, st, err, b)
		}
		have := map[string]bool{}
		for _, m := range got.Members {
			have[m.Value] = true
		}
		for i, id := range ids {
			if have[id] != (i < adds) {
				t.Errorf("replica %d: user %d member = %v, want %v", r, i, have[id], i < adds)
			}
		}
		if len(got.Members) != adds {
			t.Errorf("replica %d: %d members, want %d", r, len(got.Members), adds)
		}
	}
}

// TestReplicas_PagingWhileAnotherReplicaCreates pages through users on one replica while two
// others create users: no user is seen twice, and every user that existed before paging began
// is seen.
func TestReplicas_PagingWhileAnotherReplicaCreates(t *testing.T) {
	o := newOrg(t)
	_, bases := replicas(t, o, postgresDatabase(t), 3)
	token := o.token(t)
	before := createUsers(t, bases, token, "early", 60)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var created atomic.Int64
	const maxCreates = 400 // per creating replica
	for w := 1; w <= 2; w++ {
		wg.Go(func() {
			untilClosed(stop, func(i int) bool {
				if i == maxCreates {
					return false // so that the paging catches up and ends
				}
				name := fmt.Sprintf("late%d-%d@agency.example", w, i)
				st, b := call(t, http.MethodPost, bases[w]+"/Users", token, userBody(name, name, "00u"+name))
				if st != http.StatusCreated {
					t.Errorf("create during paging: %d %s", st, b)
					return false
				}
				created.Add(1)
				return true
			})
		})
	}
	seen := map[string]int{}
	for start := 1; ; start += 7 {
		st, b := call(t, http.MethodGet, fmt.Sprintf("%s/Users?startIndex=%d&count=7", bases[0], start), token, "")
		var page struct {
			TotalResults int
			Resources    []struct{ ID string }
		}
		if err := json.Unmarshal(b, &page); st != http.StatusOK || err != nil {
			t.Fatalf("page at %d: %d %v %s", start, st, err, b)
		}
		for _, u := range page.Resources {
			seen[u.ID]++
		}
		if len(page.Resources) < 7 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	for id, n := range seen {
		if n > 1 {
			t.Errorf("user %s seen %d times", id, n)
		}
	}
	for _, id := range before {
		if seen[id] != 1 {
			t.Errorf("user %s created before paging seen %d times", id, seen[id])
		}
	}
	t.Logf("paged %d users while %d were created", len(seen), created.Load())
}

// TestReplicas_ETagsHoldAcrossReplicas reads a user on one replica and writes it on others:
// the version read on one is current on all, and a write with a stale version fails on any.
func TestReplicas_ETagsHoldAcrossReplicas(t *testing.T) {
	o := newOrg(t)
	_, bases := replicas(t, o, postgresDatabase(t), 3)
	token := o.token(t)
	id := createUsers(t, bases, token, "etag", 1)[0]
	get := func(base string) string {
		st, b := call(t, http.MethodGet, base+"/Users/"+id, token, "")
		var u struct{ Meta struct{ Version string } }
		if err := json.Unmarshal(b, &u); st != http.StatusOK || err != nil || u.Meta.Version == "" {
			t.Fatalf("get: %d %v %s", st, err, b)
		}
		return u.Meta.Version
	}
	patch := func(base, ifMatch string) int {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPatch, base+"/Users/"+id, strings.NewReader(
			`{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			  "Operations": [{"op": "replace", "path": "displayName", "value": "Night Shift"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		req.Header.Set("If-Match", ifMatch)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	v1 := get(bases[0])
	if v := get(bases[1]); v != v1 {
		t.Fatalf("replica 1 shows version %s, replica 0 %s", v, v1)
	}
	if st := patch(bases[1], v1); st != http.StatusOK {
		t.Fatalf("patch with the current version on another replica: %d", st)
	}
	for r, base := range bases {
		if st := patch(base, v1); st != http.StatusPreconditionFailed {
			t.Errorf("replica %d: patch with the stale version answered %d, want 412", r, st)
		}
	}
	if v2 := get(bases[2]); v2 == v1 {
		t.Errorf("version did not change after the write: %s", v2)
	}
}

// TestReplicas_AcknowledgedWritesSurviveKill9OfAReplica kills one replica with SIGKILL while
// it creates users: every create it acknowledged is readable on the other replica, which keeps
// serving writes.
func TestReplicas_AcknowledgedWritesSurviveKill9OfAReplica(t *testing.T) {
	o := newOrg(t)
	ins, bases := replicas(t, o, postgresDatabase(t), 2)
	token := o.token(t)
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				name := fmt.Sprintf("k%d-%d@agency.example", w, i)
				req, err := scimRequest(t.Context(), http.MethodPost, bases[0]+"/Users", token,
					userBody(name, name, "00u"+name))
				if err != nil {
					t.Error(err)
					return
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the replica is gone
				}
				var u struct{ ID string }
				err = json.NewDecoder(resp.Body).Decode(&u)
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusCreated && err == nil {
					mu.Lock()
					acked = append(acked, u.ID)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(700 * time.Millisecond)
	if err := ins[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	_ = ins[0].cmd.Wait()
	if len(acked) == 0 {
		t.Fatal("no create was acknowledged before the kill")
	}
	for _, id := range acked {
		if st, b := call(t, http.MethodGet, bases[1]+"/Users/"+id, token, ""); st != http.StatusOK {
			t.Errorf("acknowledged user %s after kill -9: %d %s", id, st, b)
		}
	}
	began := time.Now()
	createUsers(t, bases[1:], token, "after-kill", 3)
	t.Logf("%d acknowledged creates survived; 3 creates after the kill took %s", len(acked), time.Since(began))
}

// TestReplicas_StartTogetherOnAnEmptyDatabase starts three replicas at the same moment on an
// empty database: each migration is applied once, the configured user groups are created
// once, and no replica reports a store problem or fails to open.
func TestReplicas_StartTogetherOnAnEmptyDatabase(t *testing.T) {
	o := newOrg(t)
	database := postgresDatabase(t)
	type replica struct{ config, api, metrics string }
	var rs []replica
	for range 3 {
		c, a, m := replicaConfig(t, o.srv.URL, database)
		rs = append(rs, replica{c, a, m})
	}
	var ins []*instance
	for _, r := range rs {
		ins = append(ins, launch(t, r.config, r.api, r.metrics))
	}
	token := o.token(t)
	for i, in := range ins {
		in.waitReady(t)
		if strings.Contains(in.stderr.String(), "Opening the directory failed") {
			t.Errorf("replica %d failed to open the directory:\n%s", i, in.stderr)
		}
		st, b := call(t, http.MethodGet, in.api+"/api/v2/agencies/"+agency+"/scim/Groups", token, "")
		var list struct{ TotalResults int }
		if err := json.Unmarshal(b, &list); st != http.StatusOK || err != nil || list.TotalResults != 1 {
			t.Errorf("replica %d groups: %d %v %s", i, st, err, b)
		}
	}
	db, err := sql.Open("pgx", database)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	var versions, distinct int
	if err := db.QueryRowContext(t.Context(), "SELECT count(*), count(DISTINCT version) FROM schema_migrations").
		Scan(&versions, &distinct); err != nil {
		t.Fatal(err)
	}
	if versions != distinct || versions == 0 {
		t.Errorf("schema_migrations holds %d rows for %d versions", versions, distinct)
	}
}

// TestReplicas_AFrozenReplicaHoldsOthersWritesOnce freezes (SIGSTOP) a replica in the middle
// of a burst of creates, as a node that stalls does. PostgreSQL ends each of its transactions
// left idle after idle_in_transaction_session_timeout (2 s here), but every transaction it had
// queued for the shared creation lock would get that lock in turn and hold it as long again,
// so the other replicas must be held no more than about one timeout.
func TestReplicas_AFrozenReplicaHoldsOthersWritesOnce(t *testing.T) {
	const idle = 2 * time.Second
	o := newOrg(t)
	u, err := url.Parse(postgresDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("idle_in_transaction_session_timeout", fmt.Sprint(idle.Milliseconds()))
	u.RawQuery = q.Encode()
	ins, bases := replicas(t, o, u.String(), 2)
	token := o.token(t)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 40 * time.Second}
	for w := range 8 {
		wg.Go(func() {
			untilClosed(stop, func(i int) bool {
				name := fmt.Sprintf("frozen%d-%d@agency.example", w, i)
				req, err := scimRequest(t.Context(), http.MethodPost, bases[0]+"/Users", token,
					userBody(name, name, "00u"+name))
				if err != nil {
					t.Error(err)
					return false
				}
				if resp, err := client.Do(req); err == nil {
					_ = resp.Body.Close()
				}
				return true
			})
		})
	}
	time.Sleep(500 * time.Millisecond)
	if err := ins[0].cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = ins[0].cmd.Process.Signal(syscall.SIGCONT)
		close(stop)
		wg.Wait()
	}()

	began := time.Now()
	name := "while-frozen@agency.example"
	st, b := call(t, http.MethodPost, bases[1]+"/Users", token, userBody(name, name, "00uWHILEFROZEN"))
	took := time.Since(began)
	t.Logf("create on the other replica took %s while one was frozen", took.Round(time.Millisecond))
	if st != http.StatusCreated {
		t.Fatalf("create on the other replica: %d %s after %s", st, b, took)
	}
	if limit := 2*idle + time.Second; took > limit {
		t.Errorf("create on the other replica took %s, want at most %s (about one idle timeout)", took, limit)
	}
}

// TestReplicas_ConcurrentRenamesToOneNameGiveOne200 renames different users, and creates
// groups, to one name through three replicas at once: one succeeds, the others are 409
// uniqueness naming the field.
func TestReplicas_ConcurrentRenamesToOneNameGiveOne200(t *testing.T) {
	o := newOrg(t)
	_, bases := replicas(t, o, postgresDatabase(t), 3)
	token := o.token(t)
	const senders = 9
	ids := createUsers(t, bases, token, "rename", senders)
	tests := []struct {
		name    string
		field   string
		success int
		send    func(i int) (int, []byte)
	}{
		{
			name: "PUT to one userName", field: "userName", success: http.StatusOK,
			send: func(i int) (int, []byte) {
				own := fmt.Sprintf("rename%d@agency.example", i)
				return call(t, http.MethodPut, bases[i%len(bases)]+"/Users/"+ids[i], token,
					userBody("Taken.Name@Agency.example", own, "00u"+own))
			},
		},
		{
			name: "PATCH to one primary email", field: "emails", success: http.StatusOK,
			send: func(i int) (int, []byte) {
				return call(t, http.MethodPatch, bases[i%len(bases)]+"/Users/"+ids[i], token,
					`{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace",
					  "path": "emails", "value": [{"value": "Taken@agency.example", "primary": true}]}]}`)
			},
		},
		{
			name: "POST groups of one displayName", field: "displayName", success: http.StatusCreated,
			send: func(i int) (int, []byte) {
				name := "Day Shift"
				if i%2 == 1 {
					name = "DAY SHIFT"
				}
				return call(t, http.MethodPost, bases[i%len(bases)]+"/Groups", token, `{"displayName": "`+name+`"}`)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oneWins(t, senders, tt.success, tt.field, tt.send)
		})
	}
}

// oneWins sends n requests at once (send(i) for i in 0..n-1): exactly one must answer success,
// every other one 409 uniqueness naming field.
func oneWins(t *testing.T, n, success int, field string, send func(i int) (int, []byte)) {
	t.Helper()
	statuses := make([]int, n)
	bodies := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { statuses[i], bodies[i] = send(i) })
	}
	wg.Wait()
	won := 0
	for i, st := range statuses {
		switch st {
		case success:
			won++
		case http.StatusConflict:
			e, err := decodeError(bodies[i])
			named := err == nil && regexp.MustCompile(`\b`+field+`\b`).MatchString(e.Detail)
			if !named || e.ScimType != "uniqueness" {
				t.Errorf("409 %s (%v), want uniqueness naming %s", bodies[i], err, field)
			}
		default:
			t.Errorf("request %d answered %d %s", i, st, bodies[i])
		}
	}
	if won != 1 {
		t.Errorf("%d requests answered %d, want 1", won, success)
	}
}

// untilClosed calls step(0), step(1), ... until stop is closed or a step returns false.
func untilClosed(stop <-chan struct{}, step func(i int) bool) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if !step(i) {
			return
		}
	}
}
