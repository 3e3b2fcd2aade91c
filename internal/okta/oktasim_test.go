package okta

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/provisioning-dev/scim-operator/internal/oktasim"
)

func startSim(t *testing.T) *oktasim.Sim {
	t.Helper()
	sim, err := oktasim.New(oktasim.WithOrgName("testorg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}

func simGroup(t *testing.T, sim *oktasim.Sim, name string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"profile": map[string]any{"name": name}})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, sim.URL()+"/api/v1/groups",
		bytes.NewReader(body))
	req.Header.Set("Authorization", "SSWS "+sim.APIToken())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var g struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&g); err != nil || g.ID == "" {
		t.Fatalf("create group: %d %v", resp.StatusCode, err)
	}
	return g.ID
}

// TestClient_AgainstOktaSim runs every call the operator makes against the simulator, in the
// order the controller makes them.
func TestClient_AgainstOktaSim(t *testing.T) {
	sim := startSim(t)
	// Nothing here is about timing: a loaded CI machine can stall one answer for seconds, and a
	// create (POST) that times out is not retried, so each attempt gets a generous timeout.
	opts := fastOptions()
	opts.CallTimeout = 30 * time.Second
	c, err := New(Credentials{OrgURL: sim.URL(), APIToken: sim.APIToken()}, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("check credentials", c.CheckCredentials(ctx))
	srv, err := c.GetAuthorizationServer(ctx, "default")
	must("get authorization server", err)
	if srv.Issuer != sim.URL()+"/oauth2/default" {
		t.Errorf("issuer = %q", srv.Issuer)
	}

	saml, err := c.CreateSAMLApp(ctx, SAMLAppSpec{Label: "pd SCIM", Owner: "ns/pd/uid"})
	must("create SAML app", err)
	if saml.ID == "" || saml.Name == "" {
		t.Fatalf("saml = %+v", saml)
	}
	found, err := c.FindApps(ctx, "pd SCIM")
	must("find apps", err)
	if len(found) != 1 || found[0].ID != saml.ID {
		t.Fatalf("found = %+v", found)
	}
	if found[0].Owner != "ns/pd/uid" {
		t.Logf("the simulator does not keep the app profile's owner marker (owner = %q)", found[0].Owner)
	}

	redirect := "https://system-admin.okta.com/admin/app/cpc/" + saml.Name + "/oauth/callback"
	oidc, err := c.CreateOIDCApp(ctx, OIDCAppSpec{Label: "pd SCIM OAuth", RedirectURIs: []string{redirect},
		Owner: "ns/pd/uid"})
	must("create OIDC app", err)
	if oidc.ClientID == "" || oidc.ClientSecret == "" {
		t.Fatalf("oidc = %+v", oidc)
	}
	got, err := c.GetApp(ctx, oidc.ID)
	must("get OIDC app", err)
	if !slices.Equal(got.RedirectURIs, []string{redirect}) || !slices.Contains(got.GrantTypes, GrantRefreshToken) {
		t.Fatalf("got = %+v", got)
	}
	upd, err := c.UpdateOIDCApp(ctx, oidc.ID, OIDCAppSpec{Label: "pd SCIM OAuth",
		RedirectURIs: []string{"https://x.example/cb"}})
	must("update OIDC app", err)
	if !slices.Equal(upd.RedirectURIs, []string{"https://x.example/cb"}) {
		t.Fatalf("updated = %+v", upd)
	}
	secret, err := c.NewClientSecret(ctx, oidc.ID)
	must("new client secret", err)
	if secret == "" {
		t.Fatal("empty client secret")
	}

	pol, err := c.CreatePolicy(ctx, "default", Policy{Name: "pd SCIM OAuth", Description: "owned",
		ClientIDs: []string{oidc.ClientID}})
	must("create policy", err)
	rule, err := c.CreatePolicyRule(ctx, "default", pol.ID, PolicyRule{
		Name: "r", GrantTypes: []string{GrantAuthorizationCode}, Scopes: []string{"*"}, GroupIDs: []string{"EVERYONE"},
		AccessTokenLifetimeMinutes: 60, RefreshTokenLifetimeMinutes: 0, RefreshTokenWindowMinutes: 10080,
	})
	must("create rule", err)
	rules, err := c.ListPolicyRules(ctx, "default", pol.ID)
	must("list rules", err)
	if len(rules) != 1 || rules[0].ID != rule.ID || rules[0].RefreshTokenLifetimeMinutes != 0 ||
		rules[0].RefreshTokenWindowMinutes != 10080 {
		t.Fatalf("rules = %+v", rules)
	}
	policies, err := c.ListPolicies(ctx, "default")
	must("list policies", err)
	if !slices.ContainsFunc(policies, func(p Policy) bool {
		return p.ID == pol.ID && slices.Contains(p.ClientIDs,
			oidc.ClientID)
	}) {
		t.Fatalf("policies = %+v", policies)
	}

	kept, err := c.UpdateAppUserAttributes(ctx, saml.ID, []SchemaAttribute{{
		Name: "badgeId", Title: "Badge ID", Type: "string", Required: true,
		ExternalName: "badgeId", ExternalNamespace: "urn:ietf:params:scim:schemas:extension:2.0:axon",
	}}, nil)
	must("update schema", err)
	attrs, err := c.GetAppUserAttributes(ctx, saml.ID)
	must("get schema", err)
	// Okta keeps the external name and namespace only once provisioning is on for the app, and
	// its answer to the write says so.
	if a := attrs["badgeId"]; !a.Required || a.Title != "Badge ID" || a.ExternalName != "" {
		t.Fatalf("attrs = %+v", attrs)
	}
	if !maps.Equal(kept, attrs) {
		t.Fatalf("the write's answer %+v differs from the schema read after it %+v", kept, attrs)
	}
	typeID, err := c.DefaultUserTypeID(ctx)
	must("default user type", err)
	if typeID != sim.DefaultUserTypeID() {
		t.Fatalf("user type = %q, want %q", typeID, sim.DefaultUserTypeID())
	}
	m, err := c.FindProfileMapping(ctx, typeID, saml.ID)
	must("find mapping", err)
	_, err = c.UpdateProfileMapping(ctx, m.ID,
		map[string]MappingProperty{"badgeId": {Expression: "user.employeeNumber"}})
	must("update mapping", err)
	m, err = c.FindProfileMapping(ctx, typeID, saml.ID)
	must("find mapping again", err)
	if m.Properties["badgeId"].Expression != "user.employeeNumber" {
		t.Fatalf("mapping = %+v", m)
	}

	gid := simGroup(t, sim, "Patrol")
	g, err := c.FindGroup(ctx, "Patrol")
	must("find group", err)
	if g.ID != gid {
		t.Fatalf("group = %+v", g)
	}
	must("assign group", c.AssignGroup(ctx, saml.ID, gid))
	ids, err := c.ListGroupAssignments(ctx, saml.ID)
	must("list assignments", err)
	if !slices.Equal(ids, []string{gid}) {
		t.Fatalf("assignments = %v", ids)
	}
	if _, err := c.FindGroup(ctx, "Nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing group err = %v", err)
	}

	must("delete policy", c.DeletePolicy(ctx, "default", pol.ID))
	must("delete OIDC app", c.DeleteApp(ctx, oidc.ID))
	must("delete SAML app", c.DeleteApp(ctx, saml.ID))
	if _, err := c.GetApp(ctx, saml.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted app err = %v", err)
	}
}
