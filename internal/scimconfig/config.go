package scimconfig

// Config is the YAML file that `scim-server --config FILE` reads. The operator renders it into
// a ConfigMap from an AgencyProvisioning; the keys are part of the operator's contract with
// the SCIM server and must not be renamed.
type Config struct {
	// AgencyID is the agency whose directory this server holds. Required.
	AgencyID string `json:"agencyID"`
	// OktaOrgURL is the agency's Okta org, for example https://examplepd.okta.com. Tokens are
	// accepted only from this org's authorization servers. Required; https, or http on a
	// loopback host.
	OktaOrgURL string `json:"oktaOrgURL"`
	// SyncMode is UsersOnly (the default) or UsersAndGroups.
	SyncMode string `json:"syncMode,omitempty"`
	// Audience is the accepted `aud` claim; api://default when empty.
	Audience string `json:"audience,omitempty"`
	// ClientIDs are the accepted `cid` claims; empty accepts any client of the org.
	ClientIDs []string `json:"clientIDs,omitempty"`
	// ListenAddress serves the SCIM API; ":8443" when empty.
	ListenAddress string `json:"listenAddress,omitempty"`
	// MetricsAddress serves /healthz, /readyz, /metrics and /report; ":9090" when empty. It is
	// never exposed through the Ingress.
	MetricsAddress string `json:"metricsAddress,omitempty"`
	// Database is sqlite:///path/to/file.db or a postgres:// URL.
	Database string `json:"database"`
	// DatabaseURLEnv, when set, names an environment variable whose value replaces Database
	// when the file is loaded. The operator uses it for PostgreSQL, so the connection URL
	// (which carries a password) stays in a Secret and out of the ConfigMap.
	DatabaseURLEnv string `json:"databaseURLEnv,omitempty"`
	// TLS, when both files are set, makes the SCIM API serve HTTPS.
	TLS TLS `json:"tls,omitempty"`
	// ExtensionSchema is the URN of the agency's user extension schema.
	ExtensionSchema string `json:"extensionSchema,omitempty"`
	// DefaultLanguage is given to users that send neither preferredLanguage nor locale.
	DefaultLanguage string `json:"defaultLanguage,omitempty"`
	// Ranks, Roles, EvidenceGroups and UserGroups are the agency's lookup data: a user's
	// rankName, axonRole, evidenceGroupName and userGroupName must name one of them.
	Ranks          []string `json:"ranks,omitempty"`
	Roles          []string `json:"roles,omitempty"`
	EvidenceGroups []string `json:"evidenceGroups,omitempty"`
	UserGroups     []string `json:"userGroups,omitempty"`
	// CommandHierarchy names groups that cannot be deleted.
	CommandHierarchy []string `json:"commandHierarchy,omitempty"`
}

// TLS names the certificate and key files of the SCIM API listener.
type TLS struct {
	CertFile string `json:"certFile,omitempty"`
	KeyFile  string `json:"keyFile,omitempty"`
}

// Defaults used when a key is left out.
const (
	SyncModeUsersOnly      = "UsersOnly"
	SyncModeUsersAndGroups = "UsersAndGroups"
	DefaultAudience        = "api://default"
	DefaultListenAddress   = ":8443"
	DefaultMetricsAddress  = ":9090"
	DefaultExtensionSchema = "urn:ietf:params:scim:schemas:extension:2.0:axon"
	DefaultLanguage        = "EN_US"
	// FileName is the key of the ConfigMap entry the operator writes and the file name the
	// SCIM server's pods mount.
	FileName = "scim-server.yaml"
)
