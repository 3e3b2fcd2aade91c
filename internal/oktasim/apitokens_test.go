package oktasim_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"testing"

	"github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/provisioning-dev/scim-operator/internal/auth"
	"github.com/provisioning-dev/scim-operator/internal/oktasim"
)

// simCall sends one request to the simulator with an optional SSWS token and JSON body, and
// decodes a JSON answer into out when given.
func simCall(t *testing.T, sim *oktasim.Sim, method, path, token string, body, out any) int {
	t.Helper()
	var rd bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&rd).Encode(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), method, sim.URL()+path, &rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "SSWS "+token)
	}
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

func TestAPITokens_RevokedTokenIsRefusedAndOthersKeepWorking(t *testing.T) {
	sim := startSim(t)
	var issued struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	if code := simCall(t, sim, http.MethodPost, "/__sim/api-tokens", "", map[string]any{"name": "second"},
		&issued); code != http.StatusCreated || issued.Token == "" || issued.ID == "" {
		t.Fatalf("issue a token: HTTP %d, %+v", code, issued)
	}
	for _, tok := range []string{sim.APIToken(), issued.Token} {
		if code := simCall(t, sim, http.MethodGet, "/api/v1/apps", tok, nil, nil); code != http.StatusOK {
			t.Fatalf("GET /api/v1/apps with a valid token: HTTP %d", code)
		}
	}

	// The admin revokes the first token: it is refused as Okta refuses any unknown token.
	first := sim.APITokens()[0]
	if code := simCall(t, sim, http.MethodPost, "/__sim/api-tokens/revoke", "", map[string]any{"id": first.ID},
		nil); code != http.StatusOK {
		t.Fatalf("revoke: HTTP %d", code)
	}
	ctx, c := sdkClient(t, sim)
	_, _, err := c.Application.ListApplications(ctx, nil)
	if oe := oktaError(t, err); oe.ErrorCode != "E0000011" {
		t.Fatalf("revoked token: error code %q, want E0000011", oe.ErrorCode)
	}
	ctx, c = sdkClient(t, sim, okta.WithToken(issued.Token))
	if _, _, err := c.Application.ListApplications(ctx, nil); err != nil {
		t.Fatalf("the other token after the revocation: %v", err)
	}
	var listed []oktasim.APITokenInfo
	if code := simCall(t, sim, http.MethodGet, "/api/v1/api-tokens", issued.Token, nil, &listed); code !=
		http.StatusOK || len(listed) != 1 || listed[0].ID != issued.ID {
		t.Fatalf("GET /api/v1/api-tokens: HTTP %d, %+v", code, listed)
	}

	// A token revokes itself through the Okta API.
	if code := simCall(t, sim, http.MethodDelete, "/api/v1/api-tokens/current", issued.Token, nil, nil); code !=
		http.StatusNoContent {
		t.Fatalf("DELETE /api/v1/api-tokens/current: HTTP %d", code)
	}
	if code := simCall(t, sim, http.MethodGet, "/api/v1/apps", issued.Token, nil, nil); code !=
		http.StatusUnauthorized {
		t.Fatalf("a token that revoked itself: HTTP %d, want 401", code)
	}
	if err := sim.RevokeAPIToken(issued.Token); err == nil {
		t.Fatalf("revoking a token twice must fail")
	}
}

func TestServiceApp_DeactivationInvalidatesItsAccessTokens(t *testing.T) {
	sim := startSim(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sa, err := sim.CreateServiceApp("scim-operator", &key.PublicKey, "kid-1", []string{"okta.apps.manage"})
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY",
		Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	service := func() (*okta.Client, func() error) {
		ctx, c := sdkClient(t, sim, okta.WithToken(""), okta.WithAuthorizationMode("PrivateKey"),
			okta.WithClientId(sa.ClientID), okta.WithScopes([]string{"okta.apps.manage"}),
			okta.WithPrivateKey(pemKey), okta.WithPrivateKeyId("kid-1"))
		return c, func() error {
			_, _, err := c.Application.ListApplications(ctx, nil)
			return err
		}
	}
	_, list := service()
	if err := list(); err != nil {
		t.Fatalf("service app before deactivation: %v", err)
	}

	ctx, admin := sdkClient(t, sim)
	if _, err := admin.Application.DeactivateApplication(ctx, sa.ID); err != nil {
		t.Fatal(err)
	}
	// The access token the client already holds is refused, and no new one is issued.
	if oe := oktaError(t, list()); oe.ErrorCode != "E0000011" {
		t.Fatalf("access token of a deactivated app: error code %q, want E0000011", oe.ErrorCode)
	}
	_, fresh := service()
	if err := fresh(); err == nil {
		t.Fatalf("a deactivated service app got a working access token")
	}

	// Reactivated, the app gets new tokens; the old one stays revoked.
	if _, err := admin.Application.ActivateApplication(ctx, sa.ID); err != nil {
		t.Fatal(err)
	}
	_, again := service()
	if err := again(); err != nil {
		t.Fatalf("service app after reactivation: %v", err)
	}
	if err := list(); err == nil {
		t.Fatalf("the access token revoked at deactivation works again after reactivation")
	}
}

func TestAccessTokens_MintedTokenIsAcceptedByTheSCIMServersVerifier(t *testing.T) {
	sim := startSim(t)
	v, err := auth.NewVerifier(sim.URL())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, clientID, wantCID string
	}{
		{name: "made-up client when none is named", wantCID: "0oahandtest"},
		{name: "the named client", clientID: "0oaOperatorClient", wantCID: "0oaOperatorClient"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var minted struct {
				AccessToken string `json:"access_token"`
				ExpiresIn   int    `json:"expires_in"`
			}
			code := simCall(t, sim, http.MethodPost, "/__sim/access-tokens", "",
				map[string]any{"clientId": tt.clientID}, &minted)
			if code != http.StatusCreated || minted.ExpiresIn != 3600 {
				t.Fatalf("mint: HTTP %d, %+v", code, minted)
			}
			claims, err := v.Verify(t.Context(), minted.AccessToken)
			if err != nil {
				t.Fatalf("the SCIM server's verifier refused the minted token: %v", err)
			}
			if claims.ClientID != tt.wantCID {
				t.Fatalf("cid = %q, want %q", claims.ClientID, tt.wantCID)
			}
		})
	}
}
