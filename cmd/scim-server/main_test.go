package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

const agency = "e1e19bb4-ecab-4ffa-b60d-3fd152d50892"

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "scim-server-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "scim-server")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic(fmt.Sprintf("build scim-server: %v", err))
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// org serves one signing key on 127.0.0.1, as an Okta org's authorization server does.
type org struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

func newOrg(t *testing.T) *org {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	o := &org{key: k}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).
			Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k1", "alg": "RS256",
				"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())}}})
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *org) token(t *testing.T) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": o.srv.URL + "/oauth2/default",
		"aud": "api://default", "cid": "0oa-e2e", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(o.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// instance is a running scim-server process.
type instance struct {
	cmd     *exec.Cmd
	api     string
	metrics string
	stderr  *bytes.Buffer
}

func writeConfig(t *testing.T, dir, orgURL, api, metrics string) string {
	t.Helper()
	cfg := fmt.Sprintf(`agencyID: %s
oktaOrgURL: %s
syncMode: UsersAndGroups
listenAddress: %q
metricsAddress: %q
database: sqlite://%s
ranks: [Officer, Sergeant]
roles: [User, Admin]
userGroups: [Patrol-A]
`, agency, orgURL, api, metrics, filepath.Join(dir, "scim.db"))
	path := filepath.Join(dir, scimconfig.FileName)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func start(t *testing.T, config, api, metrics string) *instance {
	t.Helper()
	in := launch(t, config, api, metrics)
	in.waitReady(t)
	return in
}

// launch starts a scim-server process without waiting for it to be ready.
func launch(t *testing.T, config, api, metrics string) *instance {
	t.Helper()
	in := &instance{api: "http://" + api, metrics: "http://" + metrics, stderr: &bytes.Buffer{}}
	in.cmd = exec.Command(binary, "--config", config)
	in.cmd.Stderr = in.stderr
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if in.cmd.ProcessState == nil {
			_ = in.cmd.Process.Kill()
			_ = in.cmd.Wait()
		}
	})
	return in
}

// waitReady waits until /readyz answers 200 and the API listens.
func (in *instance) waitReady(t *testing.T) {
	t.Helper()
	api := strings.TrimPrefix(in.api, "http://")
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get(in.metrics + "/readyz"); err == nil {
			_ = r.Body.Close()
			if r.StatusCode == http.StatusOK {
				// The API listener opens right after the store.
				if c, err := net.Dial("tcp", api); err == nil {
					_ = c.Close()
					return
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("scim-server did not become ready: %s", in.stderr)
}

// scimRequest is a SCIM request with a JSON body (none when body is "") and the bearer token.
func scimRequest(ctx context.Context, method, url, token, body string) (*http.Request, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	return req, nil
}

func call(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := scimRequest(context.Background(), method, url, token, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestServer_AcknowledgedWriteSurvivesKill9(t *testing.T) {
	o := newOrg(t)
	dir := t.TempDir()
	api, metrics := freeAddr(t), freeAddr(t)
	config := writeConfig(t, dir, o.srv.URL, api, metrics)
	token := o.token(t)
	in := start(t, config, api, metrics)
	base := in.api + "/api/v2/agencies/" + agency + "/scim"

	status, body := call(t, http.MethodPost, base+"/Users", token, `{"userName": "kill9@agency.example",
		"emails": [{"value": "kill9@agency.example", "primary": true}], "externalId": "00uKILL9", "active": true,
		"urn:ietf:params:scim:schemas:extension:2.0:axon": {"badgeId": "999", "rankName": "Sergeant"}}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	var created struct{ ID string }
	_ = json.Unmarshal(body, &created)

	if err := in.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = in.cmd.Wait()

	in = start(t, config, api, metrics)
	status, body = call(t, http.MethodGet, base+"/Users/"+created.ID, token, "")
	if status != http.StatusOK || !strings.Contains(string(body), `"rankName":"Sergeant"`) {
		t.Fatalf("after kill -9: %d %s", status, body)
	}

	// The metrics port tells the operator what happened.
	_, _ = call(t, http.MethodGet, base+"/Users", "bad-token", "")
	status, body = call(t, http.MethodGet, in.metrics+scimconfig.ReportPath, "", "")
	var rep scimconfig.Report
	if err := json.Unmarshal(body, &rep); status != http.StatusOK || err != nil {
		t.Fatalf("report: %d %v %s", status, err, body)
	}
	if rep.Users != 1 || rep.LastAuthenticated == nil || rep.LastAuthenticated.ClientID != "0oa-e2e" ||
		rep.Rejections[scimconfig.ReasonMalformedToken].Count != 1 {
		t.Errorf("report = %s", body)
	}
	_, body = call(t, http.MethodGet, in.metrics+"/metrics", "", "")
	for _, want := range []string{`scim_requests_total{method="GET",resource="Users",status="200"}`,
		`scim_auth_rejections_total{reason="MalformedToken"} 1`, "scim_request_duration_seconds_bucket",
		"process_resident_memory_bytes"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// SIGTERM: a clean exit.
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := in.cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, in.stderr)
	}
	for _, secret := range []string{token, "kill9@agency.example"} {
		if strings.Contains(in.stderr.String(), secret) {
			t.Errorf("logs hold a token or personal data")
		}
	}
}

func TestServer_BadConfigStopsWithOneLineNamingTheKey(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		key  string
	}{
		{
			name: "plain http org",
			yaml: "agencyID: a\noktaOrgURL: http://examplepd.okta.com\ndatabase: sqlite:///tmp/x.db\n",
			key:  "oktaOrgURL",
		},
		{name: "no database", yaml: "agencyID: a\noktaOrgURL: https://examplepd.okta.com\n", key: "database"},
		{
			name: "unknown key",
			yaml: "agencyID: a\noktaOrgURL: https://examplepd.okta.com\ndatabase: sqlite:///tmp/x.db\nsyncmodes: x\n",
			key:  "syncmodes",
		},
		{
			name: "a user group the directory cannot keep (U+0000)",
			yaml: "agencyID: a\noktaOrgURL: https://examplepd.okta.com\ndatabase: sqlite:///tmp/x.db\n" +
				"userGroups: [\"Patrol\\u0000A\"]\n",
			key: "userGroups[0]",
		},
		{
			name: "an extension schema that is the enterprise schema",
			yaml: "agencyID: a\noktaOrgURL: https://examplepd.okta.com\ndatabase: sqlite:///tmp/x.db\n" +
				"extensionSchema: urn:ietf:params:scim:schemas:extension:enterprise:2.0:user\n",
			key: "extensionSchema",
		},
		{
			name: "TLS certificate missing, before any port listens",
			yaml: "agencyID: a\noktaOrgURL: https://examplepd.okta.com\ndatabase: sqlite:///tmp/x.db\n" +
				"tls: {certFile: /no/such.pem, keyFile: /no/such.key}\n",
			key: "tls",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(binary, "--config", path).CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("exit: %v, want code 2; output %s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.key) {
				t.Errorf("output %q: want one line naming %s", out, tt.key)
			}
		})
	}
}

func TestServer_HelpIsNotAFailure(t *testing.T) {
	out, err := exec.Command(binary, "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "-config") {
		t.Fatalf("--help: %v, output %s; want exit 0 and the usage", err, out)
	}
}

func TestServer_SIGTERMFinishesInFlightRequests(t *testing.T) {
	o := newOrg(t)
	dir := t.TempDir()
	api, metrics := freeAddr(t), freeAddr(t)
	in := start(t, writeConfig(t, dir, o.srv.URL, api, metrics), api, metrics)
	base := in.api + "/api/v2/agencies/" + agency + "/scim"

	// A request whose body arrives slowly is in flight when SIGTERM comes.
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/Users", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+o.token(t))
	done := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("in-flight request failed: %v", err)
			done <- nil
			return
		}
		done <- resp
	}()
	_, _ = pw.Write([]byte(`{"userName": "slow@agency.example", `))
	time.Sleep(300 * time.Millisecond)
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	_, _ = pw.Write([]byte(`"urn:ietf:params:scim:schemas:extension:2.0:axon": {"badgeId": "5"}}`))
	_ = pw.Close()
	resp := <-done
	if resp == nil {
		return
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("in-flight request answered %d, want 201", resp.StatusCode)
	}
	if err := in.cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, in.stderr)
	}
}

// TestServer_ReportSaysWhyTheStoreDoesNotOpen: while the directory cannot be opened, the
// server keeps retrying, /readyz fails, and the report names the problem for the operator,
// without the database password.
func TestServer_ReportSaysWhyTheStoreDoesNotOpen(t *testing.T) {
	const password = "pw-never-shown-4711"
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string) (database string)
		reason  string
		want    string
	}{
		{
			name: "postgres that does not answer",
			prepare: func(t *testing.T, _ string) string {
				return "postgres://scim:" + password + "@" + freeAddr(t) + "/agency?sslmode=disable"
			},
			reason: scimconfig.StoreUnreachable,
			want:   "connect",
		},
		{
			name: "sqlite file whose tables belong to another program",
			prepare: func(t *testing.T, dir string) string {
				path := filepath.Join(dir, "other.db")
				db, err := sql.Open("sqlite", path)
				if err != nil {
					t.Fatal(err)
				}
				defer func() { _ = db.Close() }()
				if _, err := db.ExecContext(t.Context(), "CREATE TABLE users (name TEXT)"); err != nil {
					t.Fatal(err)
				}
				return "sqlite://" + path
			},
			reason: scimconfig.MigrationFailed,
			want:   "migration 0001_init.sql",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			api, metrics := freeAddr(t), freeAddr(t)
			config := writeConfig(t, dir, "https://examplepd.okta.com", api, metrics)
			b, err := os.ReadFile(config)
			if err != nil {
				t.Fatal(err)
			}
			cfg := regexp.MustCompile(`(?m)^database: .*$`).ReplaceAllLiteralString(string(b),
				"database: "+tt.prepare(t, dir))
			if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd := exec.Command(binary, "--config", config)
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				if strings.Contains(stderr.String(), password) {
					t.Errorf("the log holds the database password:\n%s", stderr.String())
				}
			}()

			var rep scimconfig.Report
			var body []byte
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
				if r, err := http.Get("http://" + metrics + scimconfig.ReportPath); err == nil {
					body, _ = io.ReadAll(r.Body)
					_ = r.Body.Close()
					if err := json.Unmarshal(body, &rep); err == nil && rep.Store != nil {
						break
					}
				}
				time.Sleep(50 * time.Millisecond)
			}
			p := rep.Store
			if p == nil || p.Reason != tt.reason || !strings.Contains(p.Message, tt.want) || p.Since.IsZero() ||
				!rep.CountsUnavailable {
				t.Fatalf("report %s: want store problem %s mentioning %q", body, tt.reason, tt.want)
			}
			if strings.Contains(string(body), password) {
				t.Errorf("the report holds the database password: %s", body)
			}
			r, err := http.Get("http://" + metrics + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			_ = r.Body.Close()
			if r.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("/readyz = %d, want 503", r.StatusCode)
			}
		})
	}
}
