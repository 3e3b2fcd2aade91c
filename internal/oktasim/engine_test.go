package oktasim_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/provisioning-dev/scim-operator/internal/oktasim"
	"github.com/provisioning-dev/scim-operator/internal/oktasim/roster"
)

// org is a simulator set up the way the operator and the admin guide leave it.
type org struct {
	sim      *oktasim.Sim
	ctx      context.Context
	c        *okta.Client
	appID    string
	appName  string
	clientID string
	secret   string
	groups   map[string]string
	people   int
}

func setupOrg(t testing.TB, opts ...oktasim.Option) *org {
	t.Helper()
	o := &org{sim: startSim(t, opts...)}
	o.ctx, o.c = sdkClient(t, o.sim)
	created, _, err := o.c.Application.CreateApplication(o.ctx, samlApp("SAML for Axon"), nil)
	if err != nil {
		t.Fatal(err)
	}
	o.appID, o.appName = created.(*okta.SamlApplication).Id, created.(*okta.SamlApplication).Name
	web := webApp("OIDC for Axon", "authorization_code", "refresh_token")
	web.Settings.OauthClient.RedirectUris = []string{
		"https://system-admin.okta.com/admin/app/cpc/" + o.appName + "/oauth/callback",
	}
	oidc, _, err := o.c.Application.CreateApplication(o.ctx, web, nil)
	if err != nil {
		t.Fatal(err)
	}
	cred := oidc.(*okta.OpenIdConnectApplication).Credentials.OauthClient
	o.clientID, o.secret = cred.ClientId, cred.ClientSecret
	pol, _, err := o.c.AuthorizationServer.CreateAuthorizationServerPolicy(
		o.ctx,
		"default",
		okta.AuthorizationServerPolicy{
			Type: "OAUTH_AUTHORIZATION_POLICY", Name: "OIDC for Axon Integration", PriorityPtr: okta.Int64Ptr(1),
			Conditions: &okta.PolicyRuleConditions{
				Clients: &okta.ClientPolicyCondition{Include: []string{o.clientID}},
			}},
	)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = o.c.AuthorizationServer.CreateAuthorizationServerPolicyRule(
		o.ctx,
		"default",
		pol.Id,
		okta.AuthorizationServerPolicyRule{
			Type: "RESOURCE_ACCESS", Name: "Authorization Code for Okta SAML Rule",
			Conditions: &okta.AuthorizationServerPolicyRuleConditions{
				GrantTypes: &okta.GrantTypePolicyRuleCondition{Include: []string{"authorization_code"}},
			},
			Actions: &okta.AuthorizationServerPolicyRuleActions{
				Token: &okta.TokenAuthorizationServerPolicyRuleAction{
					AccessTokenLifetimeMinutesPtr: okta.Int64Ptr(
						60,
					), RefreshTokenLifetimeMinutesPtr: okta.Int64Ptr(0),
					RefreshTokenWindowMinutesPtr: okta.Int64Ptr(10080)},
			}},
	)
	if err != nil {
		t.Fatal(err)
	}
	res := o.sim.SeedRoster(roster.Generate(7, 20))
	o.groups, o.people = res.GroupIDs, res.Users
	for _, d := range roster.Divisions {
		_, _, err := o.c.Application.CreateApplicationGroupAssignment(o.ctx, o.appID, o.groups[d],
			okta.ApplicationGroupAssignment{})
		if err != nil {
			t.Fatal(err)
		}
	}
	return o
}

func (o *org) provisioning(rc *receiver) oktasim.Provisioning {
	return oktasim.Provisioning{BaseURL: rc.baseURL(), UniqueIdentifier: "email", CreateUsers: true,
		UpdateUserAttributes: true, DeactivateUsers: true, PushGroups: true,
		ClientID: o.clientID, ClientSecret: o.secret}
}

// mapAxonAttributes adds the extension attributes (now that SCIM is on, with namespaces)
// and maps them, plus one attribute without a namespace that Okta must not send.
func (o *org) mapAxonAttributes(t testing.TB) {
	t.Helper()
	props := badgeProperty()
	props["rankName"] = &okta.UserSchemaAttribute{
		Title:             "Rank Name",
		Type:              "string",
		ExternalName:      "rankName",
		ExternalNamespace: axonURN,
	}
	props["internalNote"] = &okta.UserSchemaAttribute{Title: "Internal note", Type: "string"}
	if _, err := addAppProperties(o.ctx, o.c, o.appID, props); err != nil {
		t.Fatal(err)
	}
	got, _, err := o.c.UserSchema.GetApplicationUserSchema(o.ctx, o.appID)
	if err != nil || got.Definitions.Custom.Properties["badgeId"].ExternalNamespace != axonURN {
		t.Fatalf("after SCIM is on the namespace is kept: %v", err)
	}
	maps, _, err := o.c.ProfileMapping.ListProfileMappings(o.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range maps {
		if m.Source.Type == "user" && m.Target.Id == o.appID {
			_, _, err = o.c.ProfileMapping.UpdateProfileMapping(
				o.ctx,
				m.Id,
				okta.ProfileMapping{Properties: map[string]*okta.ProfileMappingProperty{
					"badgeId": {
						Expression: "user.employeeNumber",
						PushStatus: "PUSH",
					}, "rankName": {Expression: "user.title", PushStatus: "PUSH"},
					"internalNote": {Expression: "user.division", PushStatus: "PUSH"}}},
			)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

func waitIdle(t testing.TB, sim *oktasim.Sim) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := sim.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func countPrefix(reqs []string, prefix string) int {
	n := 0
	for _, r := range reqs {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func TestEngine_PushesAssignedUsersAndGroupsLikeACustomApp(t *testing.T) {
	o := setupOrg(t)
	rc := newReceiver(t, o.sim.URL())

	bad := o.provisioning(rc)
	bad.ClientSecret = "wrong-secret-0123456789"
	if err := o.sim.ConfigureProvisioning(t.Context(), o.appID, bad); err == nil ||
		!strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("a wrong client secret must fail authentication, got %v", err)
	}
	if err := o.sim.ConfigureProvisioning(t.Context(), o.appID, o.provisioning(rc)); err != nil {
		t.Fatalf("admin step: %v", err)
	}
	_, _, reqs := rc.snapshot()
	if len(reqs) != 1 || reqs[0] != "GET /Users?startIndex=1&count=2" {
		t.Fatalf("test connection: %v", reqs)
	}
	features, _, err := o.c.Application.ListFeaturesForApplication(o.ctx, o.appID)
	if err != nil || len(features) != 1 || features[0].Status != "ENABLED" {
		t.Fatalf("features once SCIM is on: %v %+v", err, features)
	}
	o.mapAxonAttributes(t)

	if err := o.sim.Sync(o.appID); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, o.sim)
	users, _, reqs := rc.snapshot()
	if len(users) != o.people {
		t.Fatalf("pushed %d users, want %d", len(users), o.people)
	}
	if p := o.sim.Progress(o.appID); p.Pushed != o.people || p.Failed != 0 || p.Pending != 0 {
		t.Fatalf("progress %+v", p)
	}
	for _, u := range users {
		ext := objMap(u[axonURN])
		if ext["badgeId"] == nil || ext["rankName"] == nil || ext["internalNote"] != nil ||
			u["internalNote"] != nil {
			t.Fatalf("extension attributes: %v", u)
		}
		if !strings.HasPrefix(fmt.Sprint(u["externalId"]), "00u") || u["active"] != true {
			t.Fatalf("externalId and active: %v", u)
		}
		emails, _ := u["emails"].([]any)
		if len(emails) != 1 || objMap(emails[0])["primary"] != true ||
			objMap(emails[0])["value"] != u["userName"] {
			t.Fatalf("userName follows the email unique identifier: %v", u)
		}
	}
	if countPrefix(reqs, "GET /Users?filter=userName%20eq%20") != o.people ||
		countPrefix(reqs, "POST /Users") != o.people {
		t.Fatalf("each user is looked up then created: %v", reqs)
	}

	var someone map[string]any
	for _, u := range users {
		someone = u
		break
	}
	login := fmt.Sprint(someone["userName"])
	before := len(reqs)
	err = o.sim.SetProfile(fmt.Sprint(someone["externalId"]), map[string]any{"lastName": "Núñez-Peña"})
	if err != nil {
		t.Fatal(err)
	}
	waitIdle(t, o.sim)
	_, _, reqs = rc.snapshot()
	id := fmt.Sprint(someone["id"])
	if got := reqs[before:]; len(got) != 2 || got[0] != "GET /Users/"+id || got[1] != "PUT /Users/"+id {
		t.Fatalf("a profile change is GET then PUT: %v", got)
	}
	if fam := objMap(rc.userByName(login)["name"])["familyName"]; fam != "Núñez-Peña" {
		t.Fatalf("familyName after update: %v", fam)
	}

	div := roster.Divisions[0]
	before = len(reqs)
	if _, err := o.c.Application.DeleteApplicationGroupAssignment(o.ctx, o.appID, o.groups[div]); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, o.sim)
	users, _, reqs = rc.snapshot()
	inactive := 0
	for _, u := range users {
		if u["active"] == false {
			inactive++
		}
	}
	if inactive == 0 || countPrefix(reqs[before:], "PUT /Users/") != inactive {
		t.Fatalf(
			"unassigning %s must PUT active:false for its members: %d inactive, requests %v",
			div,
			inactive,
			reqs[before:],
		)
	}

	pushed := roster.Divisions[1]
	rq := o.c.CloneRequestExecutor()
	req, _ := rq.WithAccept("application/json").
		WithContentType("application/json").
		NewRequest(http.MethodPost,
			"/api/v1/apps/"+o.appID+"/group-push/mappings",
			map[string]any{"sourceGroupId": o.groups[pushed], "targetGroupName": pushed})
	var mapping map[string]any
	if _, err := rq.Do(o.ctx, req, &mapping); err != nil {
		t.Fatalf("group push once provisioning is on: %v", err)
	}
	waitIdle(t, o.sim)
	_, groups, reqs := rc.snapshot()
	if len(groups) != 1 || countPrefix(reqs, "POST /Groups") != 1 || countPrefix(reqs, "PUT /Groups/") != 1 {
		t.Fatalf("group push is POST then PUT: %v", reqs)
	}
	for _, g := range groups {
		if g["displayName"] != pushed || len(g["members"].([]any)) == 0 {
			t.Fatalf("pushed group: %v", g)
		}
	}
	for _, rec := range o.sim.PushLog(o.appID) {
		if strings.Contains(rec.Path, "@") || rec.Outcome != oktasim.OutcomeSuccess {
			t.Fatalf("push log record leaks a filter value or failed: %+v", rec)
		}
	}
}

func TestEngine_PatchStyleSendsPathlessReplace(t *testing.T) {
	o := setupOrg(t)
	rc := newReceiver(t, o.sim.URL())
	p := o.provisioning(rc)
	p.PatchStyle = true
	if err := o.sim.ConfigureProvisioning(t.Context(), o.appID, p); err != nil {
		t.Fatal(err)
	}
	o.mapAxonAttributes(t)
	if err := o.sim.Sync(o.appID); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, o.sim)
	div := roster.Divisions[2]
	rq := o.c.CloneRequestExecutor()
	req, _ := rq.WithAccept("application/json").
		WithContentType("application/json").
		NewRequest(http.MethodPost,
			"/api/v1/apps/"+o.appID+"/group-push/mappings", map[string]any{"sourceGroupId": o.groups[div]})
	if _, err := rq.Do(o.ctx, req, &map[string]any{}); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, o.sim)
	_, groups, _ := rc.snapshot()
	var members []any
	for _, g := range groups {
		members, _ = g["members"].([]any)
	}
	if len(members) == 0 {
		t.Fatalf("PATCH add members: %v", groups)
	}
	leaving := fmt.Sprint(objMap(members[0])["display"])
	_, _, before := rc.snapshot()
	if err := o.sim.SetUserStatus(leaving, "DEPROVISIONED"); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, o.sim)
	users, groups, reqs := rc.snapshot()
	got := reqs[len(before):]
	if countPrefix(got, "PATCH /Users/") != 1 || countPrefix(got, "PUT ") != 0 {
		t.Fatalf("catalogue style deactivates with PATCH: %v", got)
	}
	if u := rc.userByName(leaving); u["active"] != false {
		t.Fatalf("deactivated user: %v (of %d)", u, len(users))
	}
	_ = groups
}

func TestEngine_TokenFaultsAreRejectedAndRecorded(t *testing.T) {
	kinds := []string{oktasim.TokenExpired, oktasim.TokenForeignIssuer, oktasim.TokenWrongAudience,
		oktasim.TokenBadSignature}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			o := setupOrg(t)
			rc := newReceiver(t, o.sim.URL())
			if err := o.sim.ConfigureProvisioning(t.Context(), o.appID, o.provisioning(rc)); err != nil {
				t.Fatal(err)
			}
			o.mapAxonAttributes(t)
			if err := o.sim.InjectTokenFault(oktasim.TokenFault{Kind: kind, Count: 1}); err != nil {
				t.Fatal(err)
			}
			if err := o.sim.Sync(o.appID); err != nil {
				t.Fatal(err)
			}
			waitIdle(t, o.sim)
			p := o.sim.Progress(o.appID)
			if p.Failed != 1 || p.Pushed != o.people-1 {
				t.Fatalf("one push carried the bad token: %+v", p)
			}
			var failed []oktasim.PushRecord
			for _, rec := range o.sim.PushLog(o.appID) {
				if rec.Outcome == oktasim.OutcomeFailure {
					failed = append(failed, rec)
				}
			}
			if len(failed) != 1 || failed[0].Status != http.StatusUnauthorized ||
				failed[0].TokenFault != kind ||
				!strings.Contains(failed[0].Error, "token rejected") {
				t.Fatalf("failure record: %+v", failed)
			}
			if n := o.sim.RetryFailed(o.appID); n != 1 {
				t.Fatalf("retried %d tasks", n)
			}
			waitIdle(t, o.sim)
			if p := o.sim.Progress(o.appID); p.Failed != 0 || p.Pushed != o.people {
				t.Fatalf("after retry: %+v", p)
			}
		})
	}
}

func TestEngine_RecordsRefusedUsers(t *testing.T) {
	o := setupOrg(t)
	rc := newReceiver(t, o.sim.URL())
	if err := o.sim.ConfigureProvisioning(t.Context(), o.appID, o.provisioning(rc)); err != nil {
		t.Fatal(err)
	}
	// No badgeId mapping: the receiver refuses every user, as the agency would.
	if err := o.sim.Sync(o.appID); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, o.sim)
	if p := o.sim.Progress(o.appID); p.Failed != o.people || p.Pushed != 0 {
		t.Fatalf("progress: %+v", p)
	}
	last := o.sim.PushLog(o.appID)
	rec := last[len(last)-1]
	if rec.Status != http.StatusBadRequest || !strings.Contains(rec.Error, "invalidValue") {
		t.Fatalf("the SCIM error is kept in the log: %+v", rec)
	}
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestEngine_RefreshesTheAccessTokenWithTheRefreshToken(t *testing.T) {
	clk := &clock{t: time.Now()}
	o := setupOrg(t, oktasim.WithClock(clk.now))
	rc := newReceiver(t, o.sim.URL())
	if err := o.sim.ConfigureProvisioning(t.Context(), o.appID, o.provisioning(rc)); err != nil {
		t.Fatal(err)
	}
	o.mapAxonAttributes(t)
	clk.add(2 * time.Hour) // past the 60-minute access token, within the 7-day refresh window
	if err := o.sim.Sync(o.appID); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, o.sim)
	if p := o.sim.Progress(o.appID); p.Pushed != o.people || p.Failed != 0 {
		t.Fatalf("after refresh: %+v, log %+v", p, o.sim.PushLog(o.appID))
	}
	clk.add(8 * 24 * time.Hour) // idle past the 7-day refresh window
	if err := o.sim.Sync(o.appID); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, o.sim)
	if p := o.sim.Progress(o.appID); p.Failed == 0 {
		t.Fatalf("a refresh token idle past its window must stop working: %+v", p)
	}
}

func TestEngine_AdminStepRefusedWhereOktaRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, o *org)
		want    string
	}{
		{name: "redirect URI not registered on the OIDC app", want: "redirect_uri",
			prepare: func(t *testing.T, o *org) {
				app := okta.NewOpenIdConnectApplication()
				id := appIDByClient(t, o)
				if _, _, err := o.c.Application.GetApplication(o.ctx, id, app, nil); err != nil {
					t.Fatal(err)
				}
				app.Settings.OauthClient.RedirectUris = []string{"http://localhost"}
				if _, _, err := o.c.Application.UpdateApplication(o.ctx, id, app); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "no policy lets the client use authorization_code", want: "Policy evaluation failed",
			prepare: func(t *testing.T, o *org) {
				pols, _, err := o.c.AuthorizationServer.ListAuthorizationServerPolicies(o.ctx, "default")
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range pols {
					_, err := o.c.AuthorizationServer.DeactivateAuthorizationServerPolicy(o.ctx, "default", p.Id)
					if err != nil {
						t.Fatal(err)
					}
				}
			}},
		{name: "OIDC app inactive", want: "invalid_client", prepare: func(t *testing.T, o *org) {
			if _, err := o.c.Application.DeactivateApplication(o.ctx, appIDByClient(t, o)); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := setupOrg(t)
			rc := newReceiver(t, o.sim.URL())
			tc.prepare(t, o)
			err := o.sim.ConfigureProvisioning(t.Context(), o.appID, o.provisioning(rc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
			if _, _, err := o.c.Application.ListFeaturesForApplication(o.ctx, o.appID); err == nil {
				t.Fatalf("a failed admin step must leave provisioning off")
			}
		})
	}
}

func appIDByClient(t *testing.T, o *org) string {
	t.Helper()
	for _, a := range o.sim.Snapshot().Apps {
		if a.ClientID == o.clientID {
			return a.ID
		}
	}
	t.Fatalf("no app for client %s", o.clientID)
	return ""
}

func TestEngine_InactiveAppPushesNothing(t *testing.T) {
	o := setupOrg(t)
	rc := newReceiver(t, o.sim.URL())
	if err := o.sim.ConfigureProvisioning(t.Context(), o.appID, o.provisioning(rc)); err != nil {
		t.Fatal(err)
	}
	if _, err := o.c.Application.DeactivateApplication(o.ctx, o.appID); err != nil {
		t.Fatal(err)
	}
	if err := o.sim.Sync(o.appID); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, o.sim)
	_, _, reqs := rc.snapshot()
	if p := o.sim.Progress(o.appID); p.Skipped != o.people || p.Pushed != 0 || len(reqs) != 1 {
		t.Fatalf("an inactive app must not push: %+v, requests %v", p, reqs)
	}
}
