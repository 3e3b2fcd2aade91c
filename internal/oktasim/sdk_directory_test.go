package oktasim_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/provisioning-dev/scim-operator/internal/oktasim"
)

func newUser(login, badge string) okta.CreateUserRequest {
	return okta.CreateUserRequest{Profile: &okta.UserProfile{
		"login": login, "email": login, "firstName": "Zoë", "lastName": "O'Brien", "employeeNumber": badge}}
}

func TestSDK_UsersGroupsAndAppAssignments(t *testing.T) {
	sim := startSim(t)
	ctx, c := sdkClient(t, sim)

	u, _, err := c.User.CreateUser(
		ctx,
		newUser("zoe.obrien@riverbendpd.example", "10001"),
		query.NewQueryParams(query.WithActivate(true)),
	)
	if err != nil || u.Status != "PROVISIONED" {
		t.Fatalf("create user: %v %+v", err, u)
	}
	_, _, err = c.User.CreateUser(ctx, newUser("Zoe.OBrien@riverbendpd.example", "10002"), nil)
	if oe := oktaError(t, err); oe.ErrorCode != "E0000001" ||
		!strings.Contains(oe.Error(), "already exists") {
		t.Fatalf("duplicate login: %s %q", oe.ErrorCode, oe.Error())
	}
	_, _, err = c.User.CreateUser(
		ctx,
		okta.CreateUserRequest{
			Profile: &okta.UserProfile{
				"login":     "x@y.example",
				"email":     "x@y.example",
				"firstName": "X",
				"lastName":  "Y",
				"badge":     "1",
			},
		},
		nil,
	)
	if oe := oktaError(t, err); !strings.Contains(oe.Error(), "not defined in profile") {
		t.Fatalf("undefined property: %q", oe.Error())
	}
	found, _, err := c.User.ListUsers(
		ctx,
		query.NewQueryParams(query.WithSearch(`profile.employeeNumber eq "10001"`)),
	)
	if err != nil || len(found) != 1 || found[0].Id != u.Id {
		t.Fatalf("search by employeeNumber: %v %d", err, len(found))
	}

	g, _, err := c.Group.CreateGroup(ctx, okta.Group{Profile: &okta.GroupProfile{Name: "Patrol Division"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Group.AddUserToGroup(ctx, g.Id, u.Id); err != nil {
		t.Fatalf("add member: %v", err)
	}
	groups, _, err := c.Group.ListGroups(ctx, query.NewQueryParams(query.WithQ("Patrol")))
	if err != nil || len(groups) != 1 {
		t.Fatalf("list groups by q: %v %d", err, len(groups))
	}

	created, _, err := c.Application.CreateApplication(ctx, samlApp("SAML for Axon"), nil)
	if err != nil {
		t.Fatal(err)
	}
	appID := created.(*okta.SamlApplication).Id
	_, _, err = c.Application.CreateApplicationGroupAssignment(ctx, appID, g.Id, okta.ApplicationGroupAssignment{})
	if err != nil {
		t.Fatalf("assign group: %v", err)
	}
	gas, _, err := c.Application.ListApplicationGroupAssignments(ctx, appID, nil)
	if err != nil || len(gas) != 1 || gas[0].Id != g.Id {
		t.Fatalf("list group assignments: %v %+v", err, gas)
	}
	appUsers, _, err := c.Application.ListApplicationUsers(ctx, appID, nil)
	if err != nil || len(appUsers) != 1 || appUsers[0].Scope != "GROUP" {
		t.Fatalf("member assigned through the group: %v %+v", err, appUsers)
	}
	_, err = c.Application.DeleteApplicationUser(ctx, appID, u.Id, nil)
	if oe := oktaError(t, err); oe.ErrorCode != "E0000001" {
		t.Fatalf("unassign a group-assigned user: got %s", oe.ErrorCode)
	}
	if _, err := c.Application.DeleteApplicationGroupAssignment(ctx, appID, g.Id); err != nil {
		t.Fatal(err)
	}
	appUsers, _, _ = c.Application.ListApplicationUsers(ctx, appID, nil)
	if len(appUsers) != 0 {
		t.Fatalf("unassigning the group left %d app users", len(appUsers))
	}

	if _, err := c.User.DeactivateUser(ctx, u.Id, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.User.DeactivateOrDeleteUser(ctx, u.Id, nil); err != nil {
		t.Fatalf("delete a deactivated user: %v", err)
	}
	_, _, err = c.User.GetUser(ctx, u.Id)
	if oe := oktaError(t, err); oe.ErrorCode != "E0000007" {
		t.Fatalf("deleted user: got %s", oe.ErrorCode)
	}
}

func TestSDK_GroupPushMappingRefusedBeforeProvisioning(t *testing.T) {
	sim := startSim(t)
	ctx, c := sdkClient(t, sim)
	created, _, err := c.Application.CreateApplication(ctx, samlApp("SAML for Axon"), nil)
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := c.Group.CreateGroup(ctx, okta.Group{Profile: &okta.GroupProfile{Name: "Traffic Division"}})
	if err != nil {
		t.Fatal(err)
	}
	rq := c.CloneRequestExecutor()
	req, err := rq.WithAccept("application/json").
		WithContentType("application/json").
		NewRequest(http.MethodPost,
			"/api/v1/apps/"+created.(*okta.SamlApplication).Id+"/group-push/mappings",
			map[string]any{"sourceGroupId": g.Id, "targetGroupName": "Traffic Division", "status": "ACTIVE"})
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	_, err = rq.Do(ctx, req, &out)
	if oe := oktaError(t, err); oe.ErrorCode != "E0000001" ||
		!strings.Contains(oe.Error(), "Group push is not enabled") {
		t.Fatalf("group push before the manual step: %s %q", oe.ErrorCode, oe.Error())
	}
}

func TestSDK_InjectedFaultsAreSeenByTheClient(t *testing.T) {
	sim := startSim(t)
	ctx, c := sdkClient(t, sim)

	if _, err := sim.InjectFault(oktasim.Fault{
		Kind: oktasim.FaultRateLimit, PathPrefix: "/api/v1/apps", Count: 1, ResetAfter: time.Second,
	}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, _, err := c.Application.ListApplications(ctx, nil); err != nil {
		t.Fatalf("the SDK should wait for X-Rate-Limit-Reset and retry: %v", err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Fatalf("the SDK retried after %v, before the reset", waited)
	}

	if _, err := sim.InjectFault(oktasim.Fault{
		Kind: oktasim.FaultRateLimit, PathPrefix: "/api/v1/groups", ResetAfter: time.Second,
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Group.ListGroups(ctx, nil); err == nil ||
		!strings.Contains(err.Error(), "too many requests") {
		t.Fatalf("a persistent 429 must reach the caller once the SDK's retries are spent, got %v", err)
	}
	if f := sim.Faults(); len(f) != 1 || f[0].Hits != 3 {
		t.Fatalf("the SDK should have tried 3 times (1 + 2 retries): %+v", f)
	}
	sim.ClearFaults()

	if _, err := sim.InjectFault(oktasim.Fault{
		Kind: oktasim.FaultServerError, PathPrefix: "/api/v1/users", Status: http.StatusServiceUnavailable, Count: 1,
	}); err != nil {
		t.Fatal(err)
	}
	_, resp, err := c.User.ListUsers(ctx, nil)
	if err == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("5xx fault: %v", err)
	}
	if _, _, err := c.User.ListUsers(ctx, nil); err != nil {
		t.Fatalf("the fault was for one request only: %v", err)
	}

	// A lost response: the group is created, the client sees a 502.
	if _, err := sim.InjectFault(oktasim.Fault{
		Kind: oktasim.FaultLostResponse, Method: http.MethodPost, PathPrefix: "/api/v1/groups", Count: 1,
	}); err != nil {
		t.Fatal(err)
	}
	lost := okta.Group{Profile: &okta.GroupProfile{Name: "Lost-Answer"}}
	if _, resp, err := c.Group.CreateGroup(ctx, lost); err == nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("lost response fault: %v", err)
	}
	found, _, err := c.Group.ListGroups(ctx, &query.Params{Q: "Lost-Answer"})
	if err != nil || len(found) != 1 {
		t.Fatalf("the request behind a lost response must have been served: %d groups, %v", len(found), err)
	}

	if _, err := sim.InjectFault(oktasim.Fault{
		Kind: oktasim.FaultLatency, PathPrefix: "/api/v1/meta", Count: 1, Delay: 300 * time.Millisecond,
	}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if _, _, err := c.UserType.ListUserTypes(ctx); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Fatalf("latency fault not applied")
	}
}

func TestSDK_PrivateKeyModeUsesGrantedScopes(t *testing.T) {
	sim := startSim(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sa, err := sim.CreateServiceApp(
		"scim-operator",
		&key.PublicKey,
		"kid-1",
		[]string{"okta.apps.manage", "okta.schemas.manage"},
	)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
	)
	ctx, c := sdkClient(
		t,
		sim,
		okta.WithToken(""),
		okta.WithAuthorizationMode("PrivateKey"),
		okta.WithClientId(sa.ClientID),
		okta.WithScopes(
			[]string{"okta.apps.manage", "okta.schemas.manage"},
		),
		okta.WithPrivateKey(pemKey),
		okta.WithPrivateKeyId("kid-1"),
	)
	if _, _, err := c.Application.ListApplications(ctx, nil); err != nil {
		t.Fatalf("list apps with okta.apps.manage: %v", err)
	}
	_, resp, err := c.User.ListUsers(ctx, nil)
	if err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("users without okta.users.read: want 403, got %v", err)
	}
	rq := c.CloneRequestExecutor()
	req, _ := rq.WithAccept("application/json").NewRequest(http.MethodGet,
		"/api/v1/apps/0oanone/group-push/mappings", nil)
	if resp, err := rq.Do(ctx, req, &[]any{}); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("group push also needs okta.groups.read: want 403, got %v", err)
	}

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherPEM := string(
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)}),
	)
	ctx2, c2 := sdkClient(
		t,
		sim,
		okta.WithToken(""),
		okta.WithAuthorizationMode("PrivateKey"),
		okta.WithClientId(sa.ClientID),
		okta.WithScopes(
			[]string{"okta.apps.manage"},
		),
		okta.WithPrivateKey(otherPEM),
		okta.WithPrivateKeyId("kid-1"),
	)
	if _, _, err := c2.Application.ListApplications(ctx2, nil); err == nil {
		t.Fatalf("an assertion signed by an unregistered key must be refused")
	}
	ctx3, c3 := sdkClient(
		t,
		sim,
		okta.WithToken(""),
		okta.WithAuthorizationMode("PrivateKey"),
		okta.WithClientId(sa.ClientID),
		okta.WithScopes(
			[]string{"okta.users.manage"},
		),
		okta.WithPrivateKey(pemKey),
		okta.WithPrivateKeyId("kid-1"),
	)
	if _, _, err := c3.Application.ListApplications(ctx3, nil); err == nil ||
		!strings.Contains(err.Error(), "not granted") {
		t.Fatalf("a scope that was never granted must be refused, got %v", err)
	}
}
