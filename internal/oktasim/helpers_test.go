package oktasim_test

import (
	"context"
	"errors"
	"testing"

	"github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/provisioning-dev/scim-operator/internal/oktasim"
)

// startSim serves a fresh org on 127.0.0.1 for one test.
func startSim(t testing.TB, opts ...oktasim.Option) *oktasim.Sim {
	t.Helper()
	sim, err := oktasim.New(append([]oktasim.Option{oktasim.WithAPIToken("test-token")}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := sim.Listen("127.0.0.1:0"); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}

// sdkClient is the real okta-sdk-golang client pointed at the simulator with the API token.
func sdkClient(t testing.TB, sim *oktasim.Sim, extra ...okta.ConfigSetter) (context.Context, *okta.Client) {
	t.Helper()
	opts := []okta.ConfigSetter{
		okta.WithOrgUrl(sim.URL()), okta.WithToken(sim.APIToken()),
		okta.WithTestingDisableHttpsCheck(true), okta.WithCache(false),
		okta.WithRequestTimeout(10), okta.WithRateLimitMaxRetries(2), okta.WithRateLimitMaxBackOff(5),
	}
	ctx, c, err := okta.NewClient(t.Context(), append(opts, extra...)...)
	if err != nil {
		t.Fatalf("okta.NewClient: %v", err)
	}
	return ctx, c
}

// oktaError extracts the Okta error the SDK returned.
func oktaError(t *testing.T, err error) *okta.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("expected an Okta error, got none")
	}
	oe := &okta.Error{}
	if !errors.As(err, &oe) {
		t.Fatalf("expected *okta.Error, got %T: %v", err, err)
	}
	return oe
}

func boolPtr(b bool) *bool { return &b }

// webApp is an OIDC web client as the operator creates it.
func webApp(label string, grants ...okta.OAuthGrantType) *okta.OpenIdConnectApplication {
	gts := make([]*okta.OAuthGrantType, 0, len(grants))
	for i := range grants {
		gts = append(gts, &grants[i])
	}
	code := okta.OAuthResponseType("code")
	return &okta.OpenIdConnectApplication{
		Label:      label,
		Name:       "oidc_client",
		SignOnMode: "OPENID_CONNECT",
		Credentials: &okta.OAuthApplicationCredentials{OauthClient: &okta.ApplicationCredentialsOAuthClient{
			TokenEndpointAuthMethod: "client_secret_basic", AutoKeyRotation: boolPtr(true)}},
		Settings: &okta.OpenIdConnectApplicationSettings{
			OauthClient: &okta.OpenIdConnectApplicationSettingsClient{
				ApplicationType: "web",
				GrantTypes:      gts,
				ResponseTypes:   []*okta.OAuthResponseType{&code},
				RedirectUris:    []string{"http://localhost"},
			},
		},
	}
}

// samlApp is a custom SAML 2.0 app as the operator creates it (label only).
func samlApp(label string) *okta.SamlApplication {
	return &okta.SamlApplication{
		Label:      label,
		SignOnMode: "SAML_2_0",
		Settings: &okta.SamlApplicationSettings{SignOn: &okta.SamlApplicationSettingsSignOn{
			SsoAcsUrl: "http://localhost", Audience: "http://localhost", Recipient: "http://localhost",
			Destination: "http://localhost", SubjectNameIdTemplate: "${user.userName}",
			SubjectNameIdFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
			SignatureAlgorithm:  "RSA_SHA256", DigestAlgorithm: "SHA256",
			AuthnContextClassRef: "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
		}},
	}
}
