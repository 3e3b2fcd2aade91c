package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/provisioning-dev/scim-operator/internal/controller"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// maxBody bounds every answer read here.
const maxBody = 8 << 20

var httpClient = &http.Client{Timeout: 10 * time.Second}

// Report reads the SCIM server's /report, as the operator does.
func (e *Env) Report(ctx context.Context) (*scimconfig.Report, error) {
	var rep scimconfig.Report
	if _, err := getJSON(ctx, e.ScimMetricsURL()+scimconfig.ReportPath, "", &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// ScimClient reads the agency's directory over SCIM with a token of the operator's OIDC
// client, got the way Okta gets it (authorization code, from oktasim's authorization server).
type ScimClient struct {
	base  string
	token string
}

// NewScimClient signs in with the OIDC client whose id and secret the operator put in the
// Secret named in status.
func (e *Env) NewScimClient(ctx context.Context) (*ScimClient, error) {
	ap, err := e.GetAP(ctx)
	if err != nil {
		return nil, err
	}
	m := ap.Status.ManualStep
	if m == nil || ap.Status.Okta.ClientSecretName == "" {
		return nil, errors.New("status.manualStep or status.okta.clientSecretName is not set")
	}
	var sec corev1.Secret
	if err := e.Client.Get(ctx, types.NamespacedName{Namespace: ap.Namespace, Name: ap.Status.Okta.ClientSecretName},
		&sec); err != nil {
		return nil, fmt.Errorf("read the OIDC client Secret: %w", err)
	}
	secret := string(sec.Data[controller.ClientSecretKeyClientSecret])
	token, err := authorizationCodeToken(ctx, m.AuthorizeEndpointURL, m.TokenEndpointURL, m.ClientID, secret,
		m.RedirectURI)
	if err != nil {
		return nil, err
	}
	return &ScimClient{base: e.ScimBaseURL(ap.Spec.AgencyID), token: token}, nil
}

// authorizationCodeToken runs the authorization code grant against an authorization server
// that signs the user in without a form (oktasim's), and returns the access token.
func authorizationCodeToken(
	ctx context.Context,
	authorizeURL, tokenURL, clientID, secret, redirect string,
) (string, error) {
	u, err := url.Parse(authorizeURL)
	if err != nil {
		return "", fmt.Errorf("authorize URL: %w", err)
	}
	q := u.Query()
	q.Set("client_id", clientID)
	q.Set("redirect_uri", redirect)
	q.Set("response_type", "code")
	q.Set("state", strconv.FormatInt(time.Now().UnixNano(), 36))
	u.RawQuery = q.Encode()
	noFollow := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("build the authorize request: %w", err)
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		return "", fmt.Errorf("authorize: %w", err)
	}
	_ = resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return "", fmt.Errorf("authorize answered %d without a code (%s)", resp.StatusCode, loc.Query().Get("error"))
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {redirect}}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("build the token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err = httpClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var tok struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&tok); err != nil {
		return "", fmt.Errorf("decode the token answer (%d): %w", resp.StatusCode, err)
	}
	if tok.AccessToken == "" {
		return "", fmt.Errorf("the token endpoint answered %d: %s", resp.StatusCode, tok.Error)
	}
	return tok.AccessToken, nil
}

// Get fetches path (relative to the SCIM base URL) and returns the raw JSON; a non-2xx
// answer is an error carrying the SCIM error body.
func (c *ScimClient) Get(ctx context.Context, path string) ([]byte, error) {
	return getJSON(ctx, c.base+path, c.token, nil)
}

// List pages through /Users or /Groups with count=200 and returns every resource.
func (c *ScimClient) List(ctx context.Context, resource string) ([]map[string]any, error) {
	var out []map[string]any
	for start := 1; ; {
		var page struct {
			TotalResults int              `json:"totalResults"`
			Resources    []map[string]any `json:"Resources"`
		}
		path := fmt.Sprintf("%s/%s?startIndex=%d&count=200", c.base, resource, start)
		if _, err := getJSON(ctx, path, c.token, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Resources...)
		start += len(page.Resources)
		if len(page.Resources) == 0 || len(out) >= page.TotalResults {
			return out, nil
		}
	}
}

// FindUser returns the user whose userName is name.
func (c *ScimClient) FindUser(ctx context.Context, name string) ([]byte, error) {
	q := url.Values{"filter": {fmt.Sprintf("userName eq %q", name)}}
	raw, err := c.Get(ctx, "/Users?"+q.Encode())
	if err != nil {
		return nil, err
	}
	var page struct {
		Resources []json.RawMessage `json:"Resources"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		return nil, fmt.Errorf("decode the user search: %w", err)
	}
	if len(page.Resources) != 1 {
		return nil, fmt.Errorf("%d users named %q", len(page.Resources), name)
	}
	return page.Resources[0], nil
}

func getJSON(ctx context.Context, target, token string, into any) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("build GET %s: %w", target, err)
	}
	req.Header.Set("Accept", "application/scim+json, application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", target, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read GET %s: %w", target, err)
	}
	if resp.StatusCode/100 != 2 {
		return raw, fmt.Errorf("GET %s answered %d: %s", target, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	if into != nil {
		if err := json.Unmarshal(raw, into); err != nil {
			return raw, fmt.Errorf("decode GET %s: %w", target, err)
		}
	}
	return raw, nil
}
