package okta

import "context"

// Authenticator checks that the credentials work.
type Authenticator interface {
	// CheckCredentials makes one cheap authenticated read.
	CheckCredentials(ctx context.Context) error
}

// AuthorizationServers reads authorization servers.
type AuthorizationServers interface {
	GetAuthorizationServer(ctx context.Context, id string) (*AuthorizationServer, error)
}

// Apps manages applications, their client secrets and group assignments.
type Apps interface {
	// FindApps lists apps whose label is exactly label.
	FindApps(ctx context.Context, label string) ([]App, error)
	GetApp(ctx context.Context, id string) (*App, error)
	CreateOIDCApp(ctx context.Context, spec OIDCAppSpec) (*App, error)
	UpdateOIDCApp(ctx context.Context, id string, spec OIDCAppSpec) (*App, error)
	CreateSAMLApp(ctx context.Context, spec SAMLAppSpec) (*App, error)
	// DeleteApp deactivates the app, then deletes it.
	DeleteApp(ctx context.Context, id string) error
	// NewClientSecret creates a client secret for an OIDC app and returns its value.
	NewClientSecret(ctx context.Context, appID string) (string, error)
	ListGroupAssignments(ctx context.Context, appID string) ([]string, error)
	AssignGroup(ctx context.Context, appID, groupID string) error
	UnassignGroup(ctx context.Context, appID, groupID string) error
	// FindGroup returns the Okta group whose name is exactly name.
	FindGroup(ctx context.Context, name string) (*Group, error)
}

// Policies manages access policies and rules on an authorization server.
type Policies interface {
	ListPolicies(ctx context.Context, serverID string) ([]Policy, error)
	CreatePolicy(ctx context.Context, serverID string, p Policy) (*Policy, error)
	UpdatePolicy(ctx context.Context, serverID string, p Policy) (*Policy, error)
	DeletePolicy(ctx context.Context, serverID, policyID string) error
	ListPolicyRules(ctx context.Context, serverID, policyID string) ([]PolicyRule, error)
	CreatePolicyRule(ctx context.Context, serverID, policyID string, r PolicyRule) (*PolicyRule, error)
	UpdatePolicyRule(ctx context.Context, serverID, policyID string, r PolicyRule) (*PolicyRule, error)
}

// Schemas manages an app's user profile schema (custom attributes).
type Schemas interface {
	// GetAppUserAttributes returns the app user schema's custom attributes by variable name.
	GetAppUserAttributes(ctx context.Context, appID string) (map[string]SchemaAttribute, error)
	// UpdateAppUserAttributes adds or replaces the given attributes and removes those named in
	// remove, and returns the custom attributes Okta kept. The caller serialises writes for one
	// app.
	UpdateAppUserAttributes(ctx context.Context, appID string, set []SchemaAttribute,
		remove []string) (map[string]SchemaAttribute, error)
}

// Mappings manages profile mappings.
type Mappings interface {
	// DefaultUserTypeID returns the id of the org's default user type.
	DefaultUserTypeID(ctx context.Context) (string, error)
	// FindProfileMapping returns the mapping from sourceID to targetID (both ends must match).
	FindProfileMapping(ctx context.Context, sourceID, targetID string) (*ProfileMapping, error)
	// UpdateProfileMapping sets the given properties; an empty expression removes the property
	// from the mapping.
	UpdateProfileMapping(ctx context.Context, mappingID string,
		properties map[string]MappingProperty) (*ProfileMapping, error)
}

// GroupPush manages group push mappings, which the SDK lacks; they go through its request
// executor.
type GroupPush interface {
	ListGroupPushMappings(ctx context.Context, appID string) ([]GroupPushMapping, error)
	CreateGroupPushMapping(ctx context.Context, appID, sourceGroupID string) (*GroupPushMapping, error)
	DeleteGroupPushMapping(ctx context.Context, appID, mappingID string) error
}

// Org is everything the operator does in one Okta org.
type Org interface {
	Authenticator
	AuthorizationServers
	Apps
	Policies
	Schemas
	Mappings
	GroupPush
	// OrgURL is the org's base URL.
	OrgURL() string
}

// NewOrgFunc builds an Org from credentials; controllers take one so tests can swap it.
type NewOrgFunc func(ctx context.Context, creds Credentials) (Org, error)

var _ Org = (*Client)(nil)

// AuthorizationServer is an Okta authorization server.
type AuthorizationServer struct {
	ID     string
	Name   string
	Issuer string
	// Status is ACTIVE or INACTIVE.
	Status string
}

// Status values of Okta objects.
const (
	StatusActive   = "ACTIVE"
	StatusInactive = "INACTIVE"
)

// App is an Okta application as the operator sees it.
type App struct {
	ID string
	// Name is Okta's app name (for custom SAML apps Okta assigns it; it is the {appName} of
	// the provisioning OAuth callback).
	Name       string
	Label      string
	Status     string
	SignOnMode string
	// Owner is the owner marker the operator put into the app's profile, if any.
	Owner string
	// ClientID, RedirectURIs and GrantTypes are set for OIDC apps.
	ClientID     string
	RedirectURIs []string
	GrantTypes   []string
	// ClientSecret is set only in the answer to CreateOIDCApp.
	ClientSecret string
}

// Sign-on modes.
const (
	SignOnModeOIDC = "OPENID_CONNECT"
	SignOnModeSAML = "SAML_2_0"
)

// OIDCAppSpec is the wanted OIDC web app: authorization code + refresh token grants.
type OIDCAppSpec struct {
	Label        string
	RedirectURIs []string
	// Owner is written into the app's profile so the operator recognises its own objects.
	Owner string
}

// SAMLAppSpec is the wanted custom SAML 2.0 app.
type SAMLAppSpec struct {
	Label string
	Owner string
}

// Group is an Okta group.
type Group struct {
	ID   string
	Name string
}

// Policy is an access policy on an authorization server.
type Policy struct {
	ID          string
	Name        string
	Description string
	Status      string
	// ClientIDs are the OIDC client ids the policy applies to.
	ClientIDs []string
	Priority  int64
}

// PolicyRule is a rule of an access policy.
type PolicyRule struct {
	ID         string
	Name       string
	Status     string
	Priority   int64
	GrantTypes []string
	Scopes     []string
	// GroupIDs are the people groups the rule applies to ("EVERYONE" for all).
	GroupIDs                    []string
	AccessTokenLifetimeMinutes  int64
	RefreshTokenLifetimeMinutes int64
	RefreshTokenWindowMinutes   int64
}

// SchemaAttribute is a custom attribute of an app user profile.
type SchemaAttribute struct {
	// Name is the variable name (the key in the schema).
	Name              string
	Title             string
	Type              string
	Required          bool
	ExternalName      string
	ExternalNamespace string
	Description       string
}

// ProfileMapping is an Okta profile mapping: target property name -> expression.
type ProfileMapping struct {
	ID         string
	SourceID   string
	TargetID   string
	Properties map[string]MappingProperty
}

// MappingProperty is one entry of a profile mapping.
type MappingProperty struct {
	Expression string
	// PushStatus is PUSH or DONT_PUSH; empty means PUSH.
	PushStatus string
}

// GroupPushMapping links an Okta group to a group in the app.
type GroupPushMapping struct {
	ID            string `json:"id,omitempty"`
	SourceGroupID string `json:"sourceGroupId,omitempty"`
	TargetGroupID string `json:"targetGroupId,omitempty"`
	Status        string `json:"status,omitempty"`
	ErrorSummary  string `json:"errorSummary,omitempty"`
}
