package oktasim_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/provisioning-dev/scim-operator/internal/oktasim"
)

// admin calls the simulator's admin API and decodes the answer into out (when not nil).
func admin(t *testing.T, sim *oktasim.Sim, method, path string, body, out any) int {
	t.Helper()
	var rdr *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rdr = bytes.NewReader(b)
	} else {
		rdr = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, sim.URL()+path, rdr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

func TestAdminAPI_DrivesTheOrgOverHTTP(t *testing.T) {
	o := setupOrg(t)
	rc := newReceiver(t, o.sim.URL())

	post := func(path string, body, out any) int { return admin(t, o.sim, http.MethodPost, path, body, out) }
	appPath := "/__sim/apps/" + o.appID
	var seed oktasim.SeedResult
	// setupOrg seeded 20 generated people already, so more logins collide here.
	st := post("/__sim/roster", map[string]any{"path": "../../testdata/roster.json"}, &seed)
	if st != http.StatusOK || seed.Users+len(seed.Rejected) != 500 || len(seed.Rejected) < 2 {
		t.Fatalf("seed from file: %d %+v", st, seed.Rejected)
	}

	p := o.provisioning(rc)
	p.ClientSecret = "not-the-secret-123"
	var apiErr map[string]any
	if st := post("/__sim/apps/"+o.appName+"/provisioning", p, &apiErr); st != http.StatusBadGateway ||
		!strings.Contains(strings.Join(causeTexts(apiErr), " "), "invalid_client") {
		t.Fatalf("admin step with a wrong secret: %d %v", st, apiErr)
	}
	var stored oktasim.Provisioning
	if st := post("/__sim/apps/SAML for Axon/provisioning", o.provisioning(rc), &stored); st != http.StatusOK ||
		stored.ClientSecret != "" ||
		stored.BaseURL != rc.baseURL() {
		t.Fatalf("admin step by label: %d %+v", st, stored)
	}
	o.mapAxonAttributes(t)

	tf := oktasim.TokenFault{Kind: oktasim.TokenForeignIssuer, Count: 1}
	if st := post("/__sim/token-faults", tf, nil); st != http.StatusCreated {
		t.Fatalf("token fault: %d", st)
	}
	if st := post(appPath+"/sync", nil, nil); st != http.StatusAccepted {
		t.Fatalf("sync: %d", st)
	}
	var progress oktasim.Progress
	if st := post("/__sim/wait?timeout=30s", nil, &progress); st != http.StatusOK {
		t.Fatalf("wait: %d", st)
	}
	admin(t, o.sim, http.MethodGet, "/__sim/progress?app="+o.appID, nil, &progress)
	if progress.Pushed+progress.Failed != progress.Total || progress.Failed < 1 {
		t.Fatalf("progress after a foreign-issuer push: %+v", progress)
	}
	var log []oktasim.PushRecord
	admin(t, o.sim, http.MethodGet, "/__sim/push-log?app="+o.appID+"&since=1", nil, &log)
	if len(log) == 0 || log[0].Seq != 2 {
		t.Fatalf("push log since 1: %d records", len(log))
	}

	user := seedLogin(t, o)
	if st := post("/__sim/users/"+user+"/profile", map[string]any{"title": "Sergeant"}, nil); st != http.StatusOK {
		t.Fatalf("profile: %d", st)
	}
	if st := post("/__sim/users/"+user+"/deactivate", nil, nil); st != http.StatusOK {
		t.Fatalf("deactivate: %d", st)
	}
	unassign := appPath + "/unassign"
	if st := post(unassign, map[string]any{"groupId": "Command Staff"}, nil); st != http.StatusNotFound {
		t.Fatalf("unassigning a group that is not assigned: got %d, want 404", st)
	}
	if st := post(unassign, map[string]any{"groupId": "Patrol Division"}, nil); st != http.StatusOK {
		t.Fatalf("unassign a division by name: %d", st)
	}

	var fault map[string]any
	if st := post("/__sim/faults", map[string]any{"kind": "rate_limit", "pathPrefix": "/api/v1/users",
		"count": 1, "resetAfterSeconds": 30}, &fault); st != http.StatusCreated {
		t.Fatalf("fault: %d", st)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, o.sim.URL()+"/api/v1/users", nil)
	req.Header.Set("Authorization", "SSWS "+o.sim.APIToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Fatalf("injected 429: %d %v", resp.StatusCode, resp.Header)
	}
	if st := post("/__sim/faults", map[string]any{"kind": "meltdown"}, nil); st != http.StatusBadRequest {
		t.Fatalf("unknown fault kind: %d", st)
	}

	if st := post("/__sim/authorization-servers/default/issuer",
		map[string]any{"issuer": "https://id.riverbendpd.example/oauth2/default"}, nil); st != http.StatusOK {
		t.Fatalf("issuer: %d", st)
	}
	var disco map[string]any
	resp, err = http.Get(o.sim.URL() + "/oauth2/default/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&disco)
	_ = resp.Body.Close()
	if disco["issuer"] != "https://id.riverbendpd.example/oauth2/default" {
		t.Fatalf("discovery issuer: %v", disco["issuer"])
	}
	if st := post("/__sim/authorization-servers/default/rotate-keys", nil, nil); st != http.StatusOK {
		t.Fatalf("rotate: %d", st)
	}
	var state oktasim.State
	admin(t, o.sim, http.MethodGet, "/__sim/state", nil, &state)
	if state.Users < 500 || len(state.Apps) != 2 || state.Apps[0].Provisioning == nil {
		t.Fatalf("state: %+v", state)
	}
}

func causeTexts(body map[string]any) []string {
	var out []string
	causes, _ := body["errorCauses"].([]any)
	for _, c := range causes {
		out = append(out, objMap(c)["errorSummary"].(string))
	}
	return out
}

func seedLogin(t *testing.T, o *org) string {
	t.Helper()
	users, _, err := o.c.User.ListUsers(o.ctx, nil)
	if err != nil || len(users) < 2 {
		t.Fatalf("list users: %v", err)
	}
	return (*users[1].Profile)["login"].(string)
}
