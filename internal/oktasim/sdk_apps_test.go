package oktasim_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

func TestAPI_AppsWithoutTokenAnswer401E0000011(t *testing.T) {
	sim := startSim(t)
	for _, tc := range []struct {
		name, auth string
	}{
		{name: "no header"},
		{name: "wrong SSWS token", auth: "SSWS nope"},
		{name: "garbage bearer", auth: "Bearer not-a-jwt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, sim.URL()+"/api/v1/apps", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != http.StatusUnauthorized || body["errorCode"] != "E0000011" {
				t.Fatalf("got %d %v, want 401 E0000011", resp.StatusCode, body)
			}
			for _, h := range []string{"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"} {
				if resp.Header.Get(h) == "" {
					t.Errorf("missing %s on an error response", h)
				}
			}
		})
	}
}

func TestSDK_OIDCAppLifecycleAndClientSecrets(t *testing.T) {
	sim := startSim(t)
	ctx, c := sdkClient(t, sim)

	created, _, err := c.Application.CreateApplication(
		ctx,
		webApp("OIDC for Axon", "authorization_code", "refresh_token"),
		nil,
	)
	if err != nil {
		t.Fatalf("create OIDC app: %v", err)
	}
	oidc := created.(*okta.OpenIdConnectApplication)
	if oidc.Status != "ACTIVE" || oidc.Credentials.OauthClient.ClientId == "" ||
		oidc.Credentials.OauthClient.ClientSecret == "" {
		t.Fatalf("created app lacks status, client id or secret: %+v", oidc.Credentials.OauthClient)
	}

	got := okta.NewOpenIdConnectApplication()
	if _, _, err := c.Application.GetApplication(ctx, oidc.Id, got, nil); err != nil ||
		got.Label != "OIDC for Axon" {
		t.Fatalf("get app: %v %q", err, got.Label)
	}
	inactive, _, err := c.Application.CreateApplication(ctx, webApp("staged", "authorization_code"),
		query.NewQueryParams(query.WithActivate(false)))
	if err != nil || inactive.(*okta.OpenIdConnectApplication).Status != "INACTIVE" {
		t.Fatalf("create with activate=false: %v", err)
	}
	apps, _, err := c.Application.ListApplications(
		ctx,
		query.NewQueryParams(query.WithQ("OIDC"), query.WithFilter(`status eq "ACTIVE"`)),
	)
	if err != nil || len(apps) != 1 {
		t.Fatalf("list by q and filter: %v, %d apps", err, len(apps))
	}

	got.Settings.OauthClient.RedirectUris = []string{
		"https://system-admin.okta.com/admin/app/cpc/x/oauth/callback",
	}
	if _, _, err := c.Application.UpdateApplication(ctx, oidc.Id, got); err != nil {
		t.Fatalf("update redirect URIs: %v", err)
	}

	secrets, _, err := c.Application.ListClientSecretsForApplication(ctx, oidc.Id)
	if err != nil || len(secrets) != 1 {
		t.Fatalf("list secrets: %v %d", err, len(secrets))
	}
	second, _, err := c.Application.CreateNewClientSecretForApplication(
		ctx,
		oidc.Id,
		okta.ClientSecretMetadata{},
	)
	if err != nil || second.ClientSecret == "" {
		t.Fatalf("create second secret: %v", err)
	}
	_, _, err = c.Application.CreateNewClientSecretForApplication(ctx, oidc.Id, okta.ClientSecretMetadata{})
	if oe := oktaError(t, err); oe.ErrorCode != "E0000001" {
		t.Fatalf("third secret: got %s, want E0000001", oe.ErrorCode)
	}
	_, err = c.Application.DeleteClientSecretForApplication(ctx, oidc.Id, secrets[0].Id)
	if oe := oktaError(t, err); oe.ErrorCode != "E0000001" {
		t.Fatalf("delete active secret: got %s, want E0000001", oe.ErrorCode)
	}
	if _, _, err := c.Application.DeactivateClientSecretForApplication(ctx, oidc.Id, secrets[0].Id); err != nil {
		t.Fatalf("deactivate first secret: %v", err)
	}
	if _, err := c.Application.DeleteClientSecretForApplication(ctx, oidc.Id, secrets[0].Id); err != nil {
		t.Fatalf("delete inactive secret: %v", err)
	}

	_, err = c.Application.DeleteApplication(ctx, oidc.Id)
	if oe := oktaError(t, err); oe.ErrorCode != "E0000056" {
		t.Fatalf("delete ACTIVE app: got %s, want E0000056", oe.ErrorCode)
	}
	if _, err := c.Application.DeactivateApplication(ctx, oidc.Id); err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	if _, err := c.Application.ActivateApplication(ctx, oidc.Id); err != nil {
		t.Fatalf("activate: %v", err)
	}
	if _, _, _ = c.Application.GetApplication(ctx, oidc.Id, got, nil); got.Status != "ACTIVE" {
		t.Fatalf("status after activate: %s", got.Status)
	}
	if _, err := c.Application.DeactivateApplication(ctx, oidc.Id); err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	if _, err := c.Application.DeleteApplication(ctx, oidc.Id); err != nil {
		t.Fatalf("delete INACTIVE app: %v", err)
	}
	_, _, err = c.Application.GetApplication(ctx, oidc.Id, okta.NewOpenIdConnectApplication(), nil)
	if oe := oktaError(t, err); oe.ErrorCode != "E0000007" {
		t.Fatalf("get deleted app: got %s, want E0000007", oe.ErrorCode)
	}
}

func TestSDK_OIDCAppValidationRefusesWhatOktaRefuses(t *testing.T) {
	sim := startSim(t)
	ctx, c := sdkClient(t, sim)
	noRedirect := webApp("no redirect", "authorization_code")
	noRedirect.Settings.OauthClient.RedirectUris = nil
	for _, tc := range []struct {
		name  string
		app   okta.App
		cause string
	}{
		{name: "web app without authorization_code", app: webApp("cc only", "client_credentials"),
			cause: "authorization_code"},
		{name: "authorization_code without redirect URIs", app: noRedirect, cause: "redirect_uris"},
		{name: "unknown grant type", app: webApp("bad grant", "authorization_code", "magic"), cause: "magic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := c.Application.CreateApplication(ctx, tc.app, nil)
			oe := oktaError(t, err)
			if oe.ErrorCode != "E0000001" || !strings.Contains(oe.Error(), tc.cause) {
				t.Fatalf("got %s %q, want E0000001 naming %s", oe.ErrorCode, oe.Error(), tc.cause)
			}
		})
	}
}

func TestSDK_CustomSAMLAppTakesLabelAndRefusesProvisioningFeatures(t *testing.T) {
	sim := startSim(t)
	ctx, c := sdkClient(t, sim)

	named := samlApp("SAML for Axon")
	named.Name = "my_saml_app"
	_, _, err := c.Application.CreateApplication(ctx, named, nil)
	if oe := oktaError(t, err); oe.ErrorCode != "E0000001" || !strings.Contains(oe.Error(), "label") {
		t.Fatalf("SAML app with a name: got %s %q", oe.ErrorCode, oe.Error())
	}

	created, _, err := c.Application.CreateApplication(ctx, samlApp("SAML for Axon"), nil)
	if err != nil {
		t.Fatalf("create SAML app: %v", err)
	}
	app := created.(*okta.SamlApplication)
	if !strings.HasPrefix(app.Name, "oktasim_samlforaxon_") {
		t.Fatalf("Okta-assigned name %q", app.Name)
	}
	apps, _, err := c.Application.ListApplications(
		ctx,
		query.NewQueryParams(query.WithFilter(`name eq "`+app.Name+`"`)),
	)
	if err != nil || len(apps) != 1 {
		t.Fatalf("list by name filter: %v %d", err, len(apps))
	}

	_, _, err = c.Application.ListFeaturesForApplication(ctx, app.Id)
	if oe := oktaError(t, err); !strings.Contains(oe.Error(), "Provisioning is not supported") {
		t.Fatalf("list features before SCIM is on: %q", oe.Error())
	}
	_, _, err = c.Application.UpdateFeatureForApplication(
		ctx,
		app.Id,
		"USER_PROVISIONING",
		okta.CapabilitiesObject{
			Create: &okta.CapabilitiesCreateObject{
				LifecycleCreate: &okta.LifecycleCreateSettingObject{Status: "ENABLED"},
			}},
	)
	if oe := oktaError(t, err); oe.ErrorCode != "E0000001" {
		t.Fatalf("switch provisioning on through the API: got %s", oe.ErrorCode)
	}
	conn, _, err := c.Application.GetDefaultProvisioningConnectionForApplication(ctx, app.Id)
	if err != nil || conn.Status != "UNKNOWN" {
		t.Fatalf("provisioning connection: %v %+v", err, conn)
	}
}

func TestSDK_ListPaginatesWithLinkHeaders(t *testing.T) {
	sim := startSim(t)
	ctx, c := sdkClient(t, sim)
	for i := range 5 {
		_, _, err := c.Application.CreateApplication(ctx, samlApp("Page app "+string(rune('A'+i))), nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	apps, resp, err := c.Application.ListApplications(ctx, query.NewQueryParams(query.WithLimit(2)))
	if err != nil || len(apps) != 2 || !resp.HasNextPage() {
		t.Fatalf("first page: %v %d next=%v", err, len(apps), resp.HasNextPage())
	}
	seen := len(apps)
	for resp.HasNextPage() {
		var page []*okta.Application
		resp, err = resp.Next(ctx, &page)
		if err != nil {
			t.Fatalf("next page: %v", err)
		}
		seen += len(page)
	}
	if seen != 5 {
		t.Fatalf("paged through %d apps, want 5", seen)
	}
}
