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
	"time"

	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
	"testing"
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
			statuses := make([]int, senders)
			bodies := make([][]byte, senders)
			var wg sync.WaitGroup
			for i := range senders {
				wg.Go(func() {
					statuses[i], bodies[i] = call(t, http.MethodPost, bases[i%len(bases)]+"/Users", token, tt.body(i))
				})
			}
			wg.Wait()
			created := 0
			for i, st := range statuses {
				switch st {
				case http.StatusCreated:
					created++
				case http.StatusConflict:
					e, err := decodeError(bodies[i])
					if err != nil || e.ScimType != "uniqueness" || !regexp.MustCompile(`\b`+tt.field+`\b`).MatchString(e.Detail) {
						t.Errorf("409 %s (%v), want uniqueness naming %s", bodies[i], err, tt.field)
					}
				default:
					t.Errorf("create %d answered %d %s", i, st, bodies[i])
				}
			}
			if created != 1 {
				t.Errorf("%d creates answered 201, want 1", created)
			}
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
		if st, b := call(t, http.MethodPost, bases[i]+"/Users", token, userBody(fmt.Sprintf("after%d@agency.example", i),
			fmt.Sprintf("after%d@agency.example", i), fmt.Sprintf("00uAFTER%d", i))); st != http.StatusCreated {
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
