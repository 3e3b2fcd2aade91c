package oktasim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/provisioning-dev/scim-operator/internal/oktasim"
)

const axonURN = "urn:ietf:params:scim:schemas:extension:2.0:axon"

func badgeProperty() map[string]*okta.UserSchemaAttribute {
	return map[string]*okta.UserSchemaAttribute{"badgeId": {
		Title: "Badge ID", Type: "string", Scope: "NONE", Required: boolPtr(true),
		ExternalName: "badgeId", ExternalNamespace: axonURN,
	}}
}

func prop(name string, a *okta.UserSchemaAttribute) map[string]*okta.UserSchemaAttribute {
	return map[string]*okta.UserSchemaAttribute{name: a}
}

func addAppProperties(
	ctx context.Context,
	c *okta.Client,
	appID string,
	props map[string]*okta.UserSchemaAttribute,
) (*okta.UserSchema, error) {
	s, _, err := c.UserSchema.UpdateApplicationUserProfile(ctx, appID, okta.UserSchema{
		Definitions: &okta.UserSchemaDefinitions{
			Custom: &okta.UserSchemaPublic{Id: "#custom", Type: "object", Properties: props},
		}})
	return s, err
}

func TestSDK_AppUserSchemaValidatesAndDropsExternalNamesBeforeProvisioning(t *testing.T) {
	sim := startSim(t)
	ctx, c := sdkClient(t, sim)
	created, _, err := c.Application.CreateApplication(ctx, samlApp("SAML for Axon"), nil)
	if err != nil {
		t.Fatal(err)
	}
	appID := created.(*okta.SamlApplication).Id

	schema, err := addAppProperties(ctx, c, appID, badgeProperty())
	if err != nil {
		t.Fatalf("add badgeId: %v", err)
	}
	badge := schema.Definitions.Custom.Properties["badgeId"]
	if badge == nil || badge.ExternalNamespace != "" || badge.ExternalName != "" {
		t.Fatalf("before SCIM is on Okta keeps no external name or namespace: %+v", badge)
	}
	if !strings.Contains(strings.Join(schema.Definitions.Custom.Required, ","), "badgeId") {
		t.Fatalf("required list %v lacks badgeId", schema.Definitions.Custom.Required)
	}

	for _, tc := range []struct {
		name  string
		props map[string]*okta.UserSchemaAttribute
		cause string
	}{
		{name: "no title", props: map[string]*okta.UserSchemaAttribute{"rankName": {Type: "string"}}, cause: "title"},
		{name: "bad type", props: prop("rankName", &okta.UserSchemaAttribute{Title: "Rank", Type: "date"}),
			cause: "type"},
		{name: "bad variable name", props: prop("1rank", &okta.UserSchemaAttribute{Title: "Rank", Type: "string"}),
			cause: "Variable name"},
		{name: "base property", props: prop("userName", &okta.UserSchemaAttribute{Title: "User", Type: "string"}),
			cause: "base property"},
		{name: "namespace without name", props: prop("rankName",
			&okta.UserSchemaAttribute{Title: "Rank", Type: "string", ExternalNamespace: axonURN}),
			cause: "externalName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := addAppProperties(ctx, c, appID, tc.props)
			oe := oktaError(t, err)
			if oe.ErrorCode != "E0000001" || !strings.Contains(oe.Error(), tc.cause) {
				t.Fatalf("got %s %q, want E0000001 naming %s", oe.ErrorCode, oe.Error(), tc.cause)
			}
		})
	}
}

func TestSDK_ProfileMappingsFoundByBothEndsAndValidated(t *testing.T) {
	sim := startSim(t)
	ctx, c := sdkClient(t, sim)
	created, _, err := c.Application.CreateApplication(ctx, samlApp("SAML for Axon"), nil)
	if err != nil {
		t.Fatal(err)
	}
	appID := created.(*okta.SamlApplication).Id
	if _, err := addAppProperties(ctx, c, appID, badgeProperty()); err != nil {
		t.Fatal(err)
	}

	byTarget, _, err := c.ProfileMapping.ListProfileMappings(
		ctx,
		query.NewQueryParams(query.WithTargetId(appID)),
	)
	if err != nil || len(byTarget) != 1 {
		t.Fatalf("list by targetId: %v %d", err, len(byTarget))
	}
	byApp := 0
	all, _, _ := c.ProfileMapping.ListProfileMappings(ctx, nil)
	for _, m := range all {
		if m.Source.Id == appID || m.Target.Id == appID {
			byApp++
		}
	}
	if byApp != 2 {
		t.Fatalf("an app has a push and an import mapping, found %d", byApp)
	}
	both, _, err := c.ProfileMapping.ListProfileMappings(ctx, query.NewQueryParams(
		query.WithSourceId(sim.DefaultUserTypeID()), query.WithTargetId(appID)))
	if err != nil || len(both) != 1 || both[0].Source.Type != "user" {
		t.Fatalf("list by both ends: %v %+v", err, both)
	}
	id := both[0].Id

	updated, _, err := c.ProfileMapping.UpdateProfileMapping(ctx, id, okta.ProfileMapping{
		Properties: map[string]*okta.ProfileMappingProperty{
			"badgeId": {Expression: "user.employeeNumber", PushStatus: "PUSH"},
		}})
	if err != nil || updated.Properties["badgeId"].Expression != "user.employeeNumber" ||
		updated.Properties["givenName"] == nil {
		t.Fatalf("update mapping: %v %+v", err, updated)
	}
	for _, tc := range []struct {
		name, target, expr string
	}{
		{name: "target not in the app profile", target: "rankName", expr: "user.title"},
		{name: "source not in the user profile", target: "badgeId", expr: "user.badgeNumber"},
		{name: "unparseable expression", target: "badgeId", expr: "user.employeeNumber ?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := c.ProfileMapping.UpdateProfileMapping(ctx, id, okta.ProfileMapping{
				Properties: map[string]*okta.ProfileMappingProperty{
					tc.target: {Expression: tc.expr, PushStatus: "PUSH"},
				}})
			if oe := oktaError(t, err); oe.ErrorCode != "E0000001" {
				t.Fatalf("got %s, want E0000001", oe.ErrorCode)
			}
		})
	}
}

func TestSDK_AuthorizationServerPolicyAndRuleLifetimes(t *testing.T) {
	sim := startSim(t)
	ctx, c := sdkClient(t, sim)
	created, _, err := c.Application.CreateApplication(
		ctx,
		webApp("OIDC for Axon", "authorization_code", "refresh_token"),
		nil,
	)
	if err != nil {
		t.Fatal(err)
	}
	clientID := created.(*okta.OpenIdConnectApplication).Credentials.OauthClient.ClientId

	as, _, err := c.AuthorizationServer.GetAuthorizationServer(ctx, "default")
	if err != nil || as.Issuer != sim.URL()+"/oauth2/default" || as.Audiences[0] != "api://default" {
		t.Fatalf("default server: %v %+v", err, as)
	}
	if err := sim.SetIssuer("default", "https://id.agency.example/oauth2/default"); err != nil {
		t.Fatal(err)
	}
	as, _, _ = c.AuthorizationServer.GetAuthorizationServer(ctx, "default")
	if as.Issuer != "https://id.agency.example/oauth2/default" {
		t.Fatalf("issuer override not shown: %s", as.Issuer)
	}

	_, _, err = c.AuthorizationServer.CreateAuthorizationServerPolicy(
		ctx,
		"default",
		okta.AuthorizationServerPolicy{
			Type: "OAUTH_AUTHORIZATION_POLICY", Name: "bad", Conditions: &okta.PolicyRuleConditions{
				Clients: &okta.ClientPolicyCondition{Include: []string{"0oanotaclient"}}}},
	)
	if oe := oktaError(t, err); oe.ErrorCode != "E0000001" {
		t.Fatalf("policy for an unknown client: got %s", oe.ErrorCode)
	}
	pol, _, err := c.AuthorizationServer.CreateAuthorizationServerPolicy(
		ctx,
		"default",
		okta.AuthorizationServerPolicy{
			Type: "OAUTH_AUTHORIZATION_POLICY", Name: "OIDC for Axon Integration",
			Description: "Policy for OIDC for Axon Integration",
			PriorityPtr: okta.Int64Ptr(1),
			Conditions: &okta.PolicyRuleConditions{
				Clients: &okta.ClientPolicyCondition{Include: []string{clientID}},
			},
		},
	)
	if err != nil || *pol.PriorityPtr != 1 {
		t.Fatalf("create policy: %v", err)
	}

	rule := func(name string, refresh *int64, grants ...string) okta.AuthorizationServerPolicyRule {
		return okta.AuthorizationServerPolicyRule{Type: "RESOURCE_ACCESS", Name: name,
			Conditions: &okta.AuthorizationServerPolicyRuleConditions{
				GrantTypes: &okta.GrantTypePolicyRuleCondition{Include: grants},
				People: &okta.PolicyPeopleCondition{
					Groups: &okta.GroupCondition{Include: []string{"EVERYONE"}},
				},
				Scopes: &okta.OAuth2ScopesMediationPolicyRuleCondition{Include: []string{"*"}}},
			Actions: &okta.AuthorizationServerPolicyRuleActions{
				Token: &okta.TokenAuthorizationServerPolicyRuleAction{
					AccessTokenLifetimeMinutesPtr: okta.Int64Ptr(60), RefreshTokenLifetimeMinutesPtr: refresh,
					RefreshTokenWindowMinutesPtr: okta.Int64Ptr(10080)},
			}}
	}
	unlimited, _, err := c.AuthorizationServer.CreateAuthorizationServerPolicyRule(ctx, "default", pol.Id,
		rule("Authorization Code for Okta SAML Rule", okta.Int64Ptr(0), "authorization_code"))
	if err != nil || unlimited.Actions.Token.RefreshTokenLifetimeMinutesPtr == nil ||
		*unlimited.Actions.Token.RefreshTokenLifetimeMinutesPtr != 0 {
		t.Fatalf("rule with unlimited refresh lifetime: %v %+v", err, unlimited.Actions.Token)
	}
	omitted, _, err := c.AuthorizationServer.CreateAuthorizationServerPolicyRule(ctx, "default", pol.Id,
		rule("lifetime left out", nil, "authorization_code"))
	if err != nil || *omitted.Actions.Token.RefreshTokenLifetimeMinutesPtr == 0 {
		t.Fatalf(
			"a rule sent without the pointer field must not be unlimited: %v %+v",
			err,
			omitted.Actions.Token,
		)
	}
	_, _, err = c.AuthorizationServer.CreateAuthorizationServerPolicyRule(
		ctx,
		"default",
		pol.Id,
		rule("bad", okta.Int64Ptr(0), "refresh_token"),
	)
	if oe := oktaError(t, err); oe.ErrorCode != "E0000001" {
		t.Fatalf("rule with a grant type rules cannot name: got %s", oe.ErrorCode)
	}
	rules, _, err := c.AuthorizationServer.ListAuthorizationServerPolicyRules(ctx, "default", pol.Id)
	if err != nil || len(rules) != 2 {
		t.Fatalf("list rules: %v %d", err, len(rules))
	}
	keys, _, err := c.AuthorizationServer.ListAuthorizationServerKeys(ctx, "default")
	if err != nil || len(keys) != 1 || keys[0].Alg != "RS256" {
		t.Fatalf("keys: %v %+v", err, keys)
	}
	_, _, err = c.AuthorizationServer.RotateAuthorizationServerKeys(ctx, "default", okta.JwkUse{Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	keys, _, _ = c.AuthorizationServer.ListAuthorizationServerKeys(ctx, "default")
	if len(keys) != 2 {
		t.Fatalf("after rotation the old key stays published: %d keys", len(keys))
	}
}

var _ = oktasim.ForeignIssuer

func TestSDK_MappingSeesNewPropertyOnlyAfterSchemaSettles(t *testing.T) {
	clk := &clock{t: time.Now()}
	sim := startSim(t, oktasim.WithSchemaSettle(5*time.Second), oktasim.WithClock(clk.now))
	ctx, c := sdkClient(t, sim)
	created, _, err := c.Application.CreateApplication(ctx, samlApp("SAML for Axon"), nil)
	if err != nil {
		t.Fatal(err)
	}
	appID := created.(*okta.SamlApplication).Id
	if _, err := addAppProperties(ctx, c, appID, badgeProperty()); err != nil {
		t.Fatal(err)
	}
	maps, _, err := c.ProfileMapping.ListProfileMappings(ctx, query.NewQueryParams(
		query.WithSourceId(sim.DefaultUserTypeID()), query.WithTargetId(appID)))
	if err != nil || len(maps) != 1 {
		t.Fatal(err)
	}
	update := okta.ProfileMapping{Properties: map[string]*okta.ProfileMappingProperty{
		"badgeId": {Expression: "user.employeeNumber", PushStatus: "PUSH"}}}
	_, _, err = c.ProfileMapping.UpdateProfileMapping(ctx, maps[0].Id, update)
	if oe := oktaError(t, err); oe.ErrorCode != "E0000001" {
		t.Fatalf("mapping right after the schema write: got %s, want E0000001", oe.ErrorCode)
	}
	clk.add(6 * time.Second)
	if _, _, err := c.ProfileMapping.UpdateProfileMapping(ctx, maps[0].Id, update); err != nil {
		t.Fatalf("mapping once the schema settled: %v", err)
	}
}
