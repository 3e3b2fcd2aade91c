package okta

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

// ownerKey is the app profile key that carries the operator's owner marker.
const ownerKey = "scimOperatorOwner"

// Grant types of the OIDC web app.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
)

// CheckCredentials implements Authenticator with one small read of the apps list.
func (c *Client) CheckCredentials(ctx context.Context) error {
	_, resp, err := c.sdk.Application.ListApplications(ctx, query.NewQueryParams(query.WithLimit(1)))
	if err := classify(resp, err); err != nil {
		return fmt.Errorf("list apps (the credentials check): %w", err)
	}
	return nil
}

// FindApps implements Apps.
func (c *Client) FindApps(ctx context.Context, label string) ([]App, error) {
	apps, resp, err := c.sdk.Application.ListApplications(ctx,
		query.NewQueryParams(query.WithQ(label), query.WithLimit(200)))
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("list apps labelled %q: %w", label, err)
	}
	var out []App
	for _, a := range apps {
		app, ok := a.(*sdk.Application)
		if !ok || app.Label != label {
			continue
		}
		out = append(out, App{
			ID: app.Id, Name: app.Name, Label: app.Label, Status: app.Status,
			SignOnMode: app.SignOnMode, Owner: ownerOf(app.Profile),
		})
	}
	return out, nil
}

// GetApp implements Apps.
func (c *Client) GetApp(ctx context.Context, id string) (*App, error) {
	got, resp, err := c.sdk.Application.GetApplication(ctx, id, sdk.NewOpenIdConnectApplication(), nil)
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("get app %s: %w", id, err)
	}
	app, ok := got.(*sdk.OpenIdConnectApplication)
	if !ok {
		return nil, fmt.Errorf("get app %s: unexpected type %T", id, got)
	}
	return fromOIDCApp(app), nil
}

func fromOIDCApp(a *sdk.OpenIdConnectApplication) *App {
	out := &App{
		ID: a.Id, Name: a.Name, Label: a.Label, Status: a.Status,
		SignOnMode: a.SignOnMode, Owner: ownerOf(a.Profile),
	}
	if a.Credentials != nil && a.Credentials.OauthClient != nil {
		out.ClientID = a.Credentials.OauthClient.ClientId
		out.ClientSecret = a.Credentials.OauthClient.ClientSecret
	}
	if a.Settings != nil && a.Settings.OauthClient != nil {
		out.RedirectURIs = a.Settings.OauthClient.RedirectUris
		for _, g := range a.Settings.OauthClient.GrantTypes {
			if g != nil {
				out.GrantTypes = append(out.GrantTypes, string(*g))
			}
		}
	}
	return out
}

func ownerOf(profile any) string {
	m, ok := profile.(map[string]any)
	if !ok {
		return ""
	}
	s, _ := m[ownerKey].(string)
	return s
}

func oidcBody(spec OIDCAppSpec) *sdk.OpenIdConnectApplication {
	code, refresh := sdk.OAuthGrantType(GrantAuthorizationCode), sdk.OAuthGrantType(GrantRefreshToken)
	respCode := sdk.OAuthResponseType("code")
	app := sdk.NewOpenIdConnectApplication()
	app.Label = spec.Label
	app.Profile = map[string]any{ownerKey: spec.Owner}
	app.Credentials = &sdk.OAuthApplicationCredentials{
		OauthClient: &sdk.ApplicationCredentialsOAuthClient{TokenEndpointAuthMethod: "client_secret_basic"},
	}
	app.Settings = &sdk.OpenIdConnectApplicationSettings{
		OauthClient: &sdk.OpenIdConnectApplicationSettingsClient{
			ApplicationType: "web",
			GrantTypes:      []*sdk.OAuthGrantType{&code, &refresh},
			ResponseTypes:   []*sdk.OAuthResponseType{&respCode},
			RedirectUris:    spec.RedirectURIs,
			ConsentMethod:   "REQUIRED",
		},
	}
	return app
}

// CreateOIDCApp implements Apps. The answer carries the client secret.
func (c *Client) CreateOIDCApp(ctx context.Context, spec OIDCAppSpec) (*App, error) {
	got, resp, err := c.sdk.Application.CreateApplication(ctx, oidcBody(spec),
		query.NewQueryParams(query.WithActivate(true)))
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("create OIDC app %q: %w", spec.Label, err)
	}
	app, ok := got.(*sdk.OpenIdConnectApplication)
	if !ok {
		return nil, fmt.Errorf("create OIDC app %q: unexpected type %T", spec.Label, got)
	}
	return fromOIDCApp(app), nil
}

// UpdateOIDCApp implements Apps: it reads the app and writes back the wanted label, grants and
// redirect URIs, leaving every other setting as it was.
func (c *Client) UpdateOIDCApp(ctx context.Context, id string, spec OIDCAppSpec) (*App, error) {
	got, resp, err := c.sdk.Application.GetApplication(ctx, id, sdk.NewOpenIdConnectApplication(), nil)
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("get OIDC app %s: %w", id, err)
	}
	cur, ok := got.(*sdk.OpenIdConnectApplication)
	if !ok {
		return nil, fmt.Errorf("get OIDC app %s: unexpected type %T", id, got)
	}
	want := oidcBody(spec)
	cur.Label = want.Label
	if cur.Settings == nil {
		cur.Settings = want.Settings
	}
	if cur.Settings.OauthClient == nil {
		cur.Settings.OauthClient = want.Settings.OauthClient
	}
	cur.Settings.OauthClient.GrantTypes = want.Settings.OauthClient.GrantTypes
	cur.Settings.OauthClient.RedirectUris = spec.RedirectURIs
	if cur.Credentials != nil && cur.Credentials.OauthClient != nil {
		cur.Credentials.OauthClient.ClientSecret = ""
	}
	upd, resp, err := c.sdk.Application.UpdateApplication(ctx, id, cur)
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("update OIDC app %s: %w", id, err)
	}
	app, ok := upd.(*sdk.OpenIdConnectApplication)
	if !ok {
		return nil, fmt.Errorf("update OIDC app %s: unexpected type %T", id, upd)
	}
	out := fromOIDCApp(app)
	out.ClientSecret = ""
	return out, nil
}

// CreateSAMLApp implements Apps: a custom SAML 2.0 app with placeholder endpoints, as the
// admin procedure creates it; Okta assigns its name.
func (c *Client) CreateSAMLApp(ctx context.Context, spec SAMLAppSpec) (*App, error) {
	app := sdk.NewSamlApplication()
	app.Label = spec.Label
	app.Profile = map[string]any{ownerKey: spec.Owner}
	app.Visibility = &sdk.ApplicationVisibility{AutoSubmitToolbar: boolPtr(false)}
	app.Settings = &sdk.SamlApplicationSettings{SignOn: &sdk.SamlApplicationSettingsSignOn{
		SsoAcsUrl:             "http://localhost",
		Audience:              "http://localhost",
		Recipient:             "http://localhost",
		Destination:           "http://localhost",
		SubjectNameIdTemplate: "${user.userName}",
		SubjectNameIdFormat:   "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
		ResponseSigned:        boolPtr(true),
		AssertionSigned:       boolPtr(true),
		SignatureAlgorithm:    "RSA_SHA256",
		DigestAlgorithm:       "SHA256",
		AuthnContextClassRef:  "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
		AttributeStatements:   []*sdk.SamlAttributeStatement{},
	}}
	got, resp, err := c.sdk.Application.CreateApplication(ctx, app,
		query.NewQueryParams(query.WithActivate(true)))
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("create SAML app %q: %w", spec.Label, err)
	}
	saml, ok := got.(*sdk.SamlApplication)
	if !ok {
		return nil, fmt.Errorf("create SAML app %q: unexpected type %T", spec.Label, got)
	}
	return &App{
		ID: saml.Id, Name: saml.Name, Label: saml.Label, Status: saml.Status,
		SignOnMode: saml.SignOnMode, Owner: ownerOf(saml.Profile),
	}, nil
}

// DeleteApp implements Apps. A missing app counts as deleted.
func (c *Client) DeleteApp(ctx context.Context, id string) error {
	resp, err := c.sdk.Application.DeactivateApplication(ctx, id)
	if err := classify(resp, err); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("deactivate app %s: %w", id, err)
	}
	resp, err = c.sdk.Application.DeleteApplication(ctx, id)
	if err := classify(resp, err); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("delete app %s: %w", id, err)
	}
	return nil
}

// NewClientSecret implements Apps.
func (c *Client) NewClientSecret(ctx context.Context, appID string) (string, error) {
	s, resp, err := c.sdk.Application.CreateNewClientSecretForApplication(ctx, appID, sdk.ClientSecretMetadata{})
	if err := classify(resp, err); err != nil {
		return "", fmt.Errorf("create client secret for app %s: %w", appID, err)
	}
	return s.ClientSecret, nil
}

// ListGroupAssignments implements Apps: the ids of the groups assigned to the app, sorted.
func (c *Client) ListGroupAssignments(ctx context.Context, appID string) ([]string, error) {
	as, resp, err := c.sdk.Application.ListApplicationGroupAssignments(ctx, appID,
		query.NewQueryParams(query.WithLimit(200)))
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("list group assignments of app %s: %w", appID, err)
	}
	ids := make([]string, 0, len(as))
	for _, a := range as {
		ids = append(ids, a.Id)
	}
	slices.Sort(ids)
	return ids, nil
}

// AssignGroup implements Apps.
func (c *Client) AssignGroup(ctx context.Context, appID, groupID string) error {
	_, resp, err := c.sdk.Application.CreateApplicationGroupAssignment(ctx, appID, groupID,
		sdk.ApplicationGroupAssignment{})
	if err := classify(resp, err); err != nil {
		return fmt.Errorf("assign group %s to app %s: %w", groupID, appID, err)
	}
	return nil
}

// UnassignGroup implements Apps. A missing assignment counts as removed.
func (c *Client) UnassignGroup(ctx context.Context, appID, groupID string) error {
	resp, err := c.sdk.Application.DeleteApplicationGroupAssignment(ctx, appID, groupID)
	if err := classify(resp, err); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("unassign group %s from app %s: %w", groupID, appID, err)
	}
	return nil
}

// FindGroup implements Apps; it answers ErrNotFound when no group has exactly that name.
func (c *Client) FindGroup(ctx context.Context, name string) (*Group, error) {
	gs, resp, err := c.sdk.Group.ListGroups(ctx, query.NewQueryParams(query.WithQ(name), query.WithLimit(200)))
	if err := classify(resp, err); err != nil {
		return nil, fmt.Errorf("find group %q: %w", name, err)
	}
	for _, g := range gs {
		if g.Profile != nil && g.Profile.Name == name {
			return &Group{ID: g.Id, Name: name}, nil
		}
	}
	return nil, fmt.Errorf("find group %q: %w", name, ErrNotFound)
}

func boolPtr(b bool) *bool { return &b }

// escapePath escapes one path segment of a raw request.
func escapePath(s string) string { return url.PathEscape(s) }
