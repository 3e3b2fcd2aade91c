/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// SyncMode says which Okta resources are pushed to the agency's SCIM server.
// +kubebuilder:validation:Enum=UsersOnly;UsersAndGroups
type SyncMode string

// Sync modes.
const (
	// SyncModeUsersOnly pushes users only; the SCIM server refuses every /Groups request.
	SyncModeUsersOnly SyncMode = "UsersOnly"
	// SyncModeUsersAndGroups pushes users and groups.
	SyncModeUsersAndGroups SyncMode = "UsersAndGroups"
)

// DeletionPolicy says what happens to the Okta objects the operator created when the
// AgencyProvisioning is deleted.
// +kubebuilder:validation:Enum=Retain;Delete
type DeletionPolicy string

// Deletion policies.
const (
	// DeletionPolicyRetain leaves the Okta apps, policy and rule in place.
	DeletionPolicyRetain DeletionPolicy = "Retain"
	// DeletionPolicyDelete deactivates and deletes the Okta objects the operator created.
	DeletionPolicyDelete DeletionPolicy = "Delete"
)

// UniqueIdentifier is the Okta user attribute that Okta sends as the SCIM userName.
// +kubebuilder:validation:Enum=email;userName
type UniqueIdentifier string

// Unique identifiers.
const (
	// UniqueIdentifierEmail sends the user's email as userName.
	UniqueIdentifierEmail UniqueIdentifier = "email"
	// UniqueIdentifierUserName sends the user's Okta username as userName.
	UniqueIdentifierUserName UniqueIdentifier = "userName"
)

// OktaAuthMode says how the operator signs in to the Okta management API.
// +kubebuilder:validation:Enum=APIToken;PrivateKey
type OktaAuthMode string

// Okta authentication modes.
const (
	// OktaAuthModeAPIToken uses an SSWS API token read from the Secret key "apiToken".
	OktaAuthModeAPIToken OktaAuthMode = "APIToken"
	// OktaAuthModePrivateKey uses an OAuth service app: Secret keys "clientID", "privateKey"
	// (PEM) and optionally "keyID".
	OktaAuthModePrivateKey OktaAuthMode = "PrivateKey"
)

// Keys read from the Okta credentials Secret.
const (
	CredentialsKeyAPIToken   = "apiToken"
	CredentialsKeyClientID   = "clientID"
	CredentialsKeyPrivateKey = "privateKey"
	CredentialsKeyKeyID      = "keyID"
)

// StorageType selects the SCIM server's directory store.
// +kubebuilder:validation:Enum=sqlite;postgres
type StorageType string

// Storage types.
const (
	// StorageTypeSQLite keeps the directory in one SQLite file on a PersistentVolumeClaim.
	// It serves one replica.
	StorageTypeSQLite StorageType = "sqlite"
	// StorageTypePostgres keeps the directory in PostgreSQL; it serves several replicas.
	StorageTypePostgres StorageType = "postgres"
)

// AgencyProvisioningSpec is what an agency wants: its Okta org connected to a SCIM server
// that holds the agency's directory.
// +kubebuilder:validation:XValidation:rule="(has(self.okta.samlAppLabel) && size(self.okta.samlAppLabel) > 0 ? self.okta.samlAppLabel : self.agencyId + ' SCIM') != (has(self.okta.oidcAppLabel) && size(self.okta.oidcAppLabel) > 0 ? self.okta.oidcAppLabel : self.agencyId + ' SCIM OAuth')",fieldPath=".okta.oidcAppLabel",message="spec.okta.oidcAppLabel and spec.okta.samlAppLabel (by default '<agencyId> SCIM OAuth' and '<agencyId> SCIM') must differ: the operator finds its two Okta apps by label"
type AgencyProvisioningSpec struct {
	// agencyId identifies the agency in the directory and in the SCIM endpoint path
	// (/api/v2/agencies/{agencyId}/scim). Letters, digits, '.', '_' and '-'; it cannot be
	// changed after creation.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.agencyId is immutable: create a new AgencyProvisioning for another agency"
	AgencyID string `json:"agencyId"`

	// syncMode is UsersOnly (Okta pushes users; /Groups is refused) or UsersAndGroups
	// (Okta also pushes groups and their members). Defaults to UsersOnly.
	// +optional
	// +kubebuilder:default=UsersOnly
	SyncMode SyncMode `json:"syncMode,omitempty"`

	// deletionPolicy says what happens to the Okta objects the operator created (apps, access
	// policy and rule) when this resource is deleted: Retain (the default) leaves them, Delete
	// deactivates and deletes them. The agency's directory is always kept.
	// +optional
	// +kubebuilder:default=Retain
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// okta connects the agency's Okta org.
	// +required
	Okta OktaSpec `json:"okta"`

	// scimServer configures the SCIM server pods the operator runs for this agency.
	// +optional
	// +kubebuilder:default={}
	ScimServer ScimServerSpec `json:"scimServer,omitzero"`

	// directory holds the agency's lookup data: the ranks, roles and groups that provisioned
	// users may name, and the default language.
	// +optional
	Directory DirectorySpec `json:"directory,omitzero"`
}

// OktaSpec connects an Okta org.
type OktaSpec struct {
	// orgURL is the agency's Okta org, for example https://examplepd.okta.com: https, no
	// path. Plain http is accepted only for a loopback host (127.0.0.1, localhost, [::1]),
	// for local test orgs.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (url(self).getScheme() == 'https' || (url(self).getScheme() == 'http' && url(self).getHostname() in ['127.0.0.1', 'localhost', '::1']))",message="spec.okta.orgURL must be an https URL such as https://examplepd.okta.com (http only for a loopback host)"
	// +kubebuilder:validation:XValidation:rule="!isURL(self) || (url(self).getEscapedPath() in ['', '/'] && url(self).getQuery().size() == 0)",message="spec.okta.orgURL must have no path or query: give the org itself, such as https://examplepd.okta.com"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[^:/?#]+://[^/?#]*@')",message="spec.okta.orgURL must not carry a user name or password: give the org itself, such as https://examplepd.okta.com"
	// +kubebuilder:validation:XValidation:rule="self == self.lowerAscii()",message="spec.okta.orgURL must be in lowercase, such as https://examplepd.okta.com"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[^:/?#]+://[^/?#]*:([0-9]{6,}|6553[6-9]|655[4-9][0-9]|65[6-9][0-9][0-9]|6[6-9][0-9][0-9][0-9]|[7-9][0-9][0-9][0-9][0-9])/?$')",message="spec.okta.orgURL has a port out of range (1 to 65535)"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[^:/?#]+:///')",message="spec.okta.orgURL must name the org's host, such as https://examplepd.okta.com"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[^:/?#]+://[^/?#]*[.](:[0-9]*)?/?$')",message="spec.okta.orgURL must have no trailing dot after the host, such as https://examplepd.okta.com"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[^:/?#]+://[^/?#]*-admin[.](okta|oktapreview|okta-emea|okta-gov)[.]com(:[0-9]*)?/?$')",message="spec.okta.orgURL is the Okta Admin Console's address: give the org's own, without -admin (https://examplepd.okta.com, not https://examplepd-admin.okta.com)"
	OrgURL string `json:"orgURL"`

	// credentialsSecretRef names the Secret, in this namespace, that holds the operator's
	// Okta management credentials: key "apiToken" (SSWS API token) for authMode APIToken, or
	// keys "clientID", "privateKey" (PEM) and optionally "keyID" for an OAuth service app
	// (authMode PrivateKey). Only the operator reads it.
	// +required
	CredentialsSecretRef OktaCredentialsRef `json:"credentialsSecretRef"`

	// authorizationServerId is the Okta authorization server that issues the access tokens
	// Okta's SCIM client sends. Defaults to "default", whose issuer is {orgURL}/oauth2/default.
	// +optional
	// +kubebuilder:default=default
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]+$`
	AuthorizationServerID string `json:"authorizationServerId,omitempty"`

	// audience is the access tokens' accepted "aud" claim; the default authorization server
	// issues api://default.
	// +optional
	// +kubebuilder:default="api://default"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Audience string `json:"audience,omitempty"`

	// oidcAppLabel is the label of the OIDC web app that Okta's SCIM client authenticates
	// with. Defaults to "<agencyId> SCIM OAuth".
	// +optional
	// +kubebuilder:validation:MaxLength=100
	OIDCAppLabel string `json:"oidcAppLabel,omitempty"`

	// samlAppLabel is the label of the custom SAML app that carries SCIM provisioning and
	// the user assignments. Defaults to "<agencyId> SCIM".
	// +optional
	// +kubebuilder:validation:MaxLength=100
	SAMLAppLabel string `json:"samlAppLabel,omitempty"`

	// redirectURI overrides the OIDC app's redirect URI. By default it follows the SAML app's
	// name: https://system-admin.okta.com/admin/app/cpc/{appName}/oauth/callback. Must be https.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https'",message="spec.okta.redirectURI must be an https URL"
	RedirectURI string `json:"redirectURI,omitempty"`

	// assignGroups are the Okta group names assigned to the SAML app; their members are
	// provisioned to the agency (and, with syncMode UsersAndGroups, the groups are pushed).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=255
	AssignGroups []string `json:"assignGroups,omitempty"`

	// uniqueIdentifier is the Okta attribute sent as the SCIM userName: email (the default)
	// or userName.
	// +optional
	// +kubebuilder:default=email
	UniqueIdentifier UniqueIdentifier `json:"uniqueIdentifier,omitempty"`

	// resyncPeriod is how often the operator re-reads the Okta side and repairs drift, for
	// example 10m. At least 1m; defaults to 10m.
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$') && duration(self) >= duration('1m')",message="spec.okta.resyncPeriod must be a duration of at least 1m, such as 10m or 1h"
	ResyncPeriod metav1.Duration `json:"resyncPeriod,omitzero"`
}

// OktaCredentialsRef names the Secret holding the Okta management credentials.
type OktaCredentialsRef struct {
	// name is the Secret's name, in the AgencyProvisioning's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// authMode is APIToken (the default; Secret key "apiToken") or PrivateKey (an OAuth
	// service app; Secret keys "clientID", "privateKey" and optionally "keyID").
	// +optional
	// +kubebuilder:default=APIToken
	AuthMode OktaAuthMode `json:"authMode,omitempty"`
}

// ScimServerSpec configures the agency's SCIM server pods.
// +kubebuilder:validation:XValidation:rule="!has(self.replicas) || self.replicas <= 1 || (has(self.storage) && has(self.storage.type) && self.storage.type == 'postgres')",fieldPath=".replicas",message="spec.scimServer.replicas greater than 1 requires spec.scimServer.storage.type postgres: sqlite serves a single replica"
// +kubebuilder:validation:XValidation:rule="!(has(self.ingress) && has(self.externalURL))",fieldPath=".externalURL",message="spec.scimServer.ingress and spec.scimServer.externalURL are mutually exclusive: set one"
type ScimServerSpec struct {
	// replicas is the number of SCIM server pods. More than 1 requires the postgres store.
	// Defaults to 1.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10
	Replicas int32 `json:"replicas,omitempty"`

	// image is the SCIM server container image. Defaults to the image the operator was
	// started with (its --scim-server-image flag).
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image,omitempty"`

	// imagePullPolicy is the pods' image pull policy: Always, IfNotPresent or Never.
	// +optional
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// resources are the SCIM server container's requests and limits. Defaults to requests
	// of 50m CPU and 64Mi memory and a 256Mi memory limit.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// storage selects where the agency's directory is kept.
	// +optional
	// +kubebuilder:default={}
	Storage StorageSpec `json:"storage,omitzero"`

	// ingress exposes the SCIM endpoint to Okta over public HTTPS. Okta must reach the
	// endpoint, so set this or externalURL.
	// +optional
	Ingress *IngressSpec `json:"ingress,omitempty"`

	// externalURL is the public https base URL through which Okta reaches the SCIM server
	// when it is exposed by other means than an Ingress this operator manages (for example
	// https://scim.examplepd.gov). The SCIM endpoint is this URL followed by
	// /api/v2/agencies/{agencyId}/scim.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https'",message="spec.scimServer.externalURL must be an https URL"
	ExternalURL string `json:"externalURL,omitempty"`

	// extensionSchema is the URN under which users' custom attributes (badgeId, rankName,
	// ...) travel. Defaults to urn:ietf:params:scim:schemas:extension:2.0:axon.
	// +optional
	// +kubebuilder:default="urn:ietf:params:scim:schemas:extension:2.0:axon"
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:Pattern=`^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[A-Za-z0-9()+,\-.:=@;$_!*'%/?#]+$`
	// +kubebuilder:validation:XValidation:rule="!(self.lowerAscii() in ['urn:ietf:params:scim:schemas:core:2.0:user', 'urn:ietf:params:scim:schemas:core:2.0:group', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user'])",message="spec.scimServer.extensionSchema must be the agency's own URN, not the core User or Group or the enterprise User schema (the SCIM server defines those itself)"
	ExtensionSchema string `json:"extensionSchema,omitempty"`
}

// StorageSpec selects the SCIM server's directory store.
// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type != 'postgres' || has(self.postgres)",fieldPath=".postgres",message="spec.scimServer.storage.postgres is required when spec.scimServer.storage.type is postgres"
// +kubebuilder:validation:XValidation:rule="(has(self.type) && self.type == 'postgres') || !has(self.postgres)",fieldPath=".postgres",message="spec.scimServer.storage.postgres is set but spec.scimServer.storage.type is sqlite: set type to postgres or remove postgres"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.type) || !has(self.type) || self.type == oldSelf.type",fieldPath=".type",message="spec.scimServer.storage.type cannot change: the new store would start empty while Okta keeps linking its users to the old one's ids; to move an agency to another store, create a new AgencyProvisioning"
type StorageSpec struct {
	// type is sqlite (the default: one file on a PersistentVolumeClaim, one replica) or
	// postgres (a PostgreSQL database; several replicas). It cannot change later: the new store
	// would start empty.
	// +optional
	// +kubebuilder:default=sqlite
	Type StorageType `json:"type,omitempty"`

	// sqlite sizes the PersistentVolumeClaim that holds the SQLite file.
	// +optional
	// +kubebuilder:default={}
	SQLite SQLiteStorage `json:"sqlite,omitzero"`

	// postgres names the Secret that holds the PostgreSQL connection URL.
	// +optional
	Postgres *PostgresStorage `json:"postgres,omitempty"`
}

// SQLiteStorage sizes the SQLite store's PersistentVolumeClaim.
type SQLiteStorage struct {
	// size of the PersistentVolumeClaim. Defaults to 1Gi. Growing it needs a storage class
	// that allows volume expansion.
	// +optional
	// +kubebuilder:default="1Gi"
	Size *resource.Quantity `json:"size,omitempty"`

	// storageClassName of the PersistentVolumeClaim; the cluster's default class when unset.
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`
}

// PostgresStorage points at a PostgreSQL connection URL kept in a Secret.
type PostgresStorage struct {
	// connectionSecretRef names the Secret, in this namespace, and the key in it that hold
	// the connection URL (postgres://user:password@host:5432/db?sslmode=require).
	// +required
	ConnectionSecretRef SecretKeyRef `json:"connectionSecretRef"`
}

// SecretKeyRef names one key of a Secret in the same namespace.
type SecretKeyRef struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// key in the Secret. Defaults to "url".
	// +optional
	// +kubebuilder:default=url
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key,omitempty"`
}

// IngressSpec exposes the SCIM endpoint through an Ingress.
type IngressSpec struct {
	// host is the public DNS name Okta connects to, for example scim.examplepd.gov.
	// +required
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$`
	Host string `json:"host"`

	// className is the IngressClass to use; the cluster's default class when unset.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ClassName *string `json:"className,omitempty"`

	// tlsSecretName is the Secret holding the host's TLS certificate (or the Secret
	// cert-manager fills when an issuer annotation is set). Okta requires HTTPS.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	TLSSecretName string `json:"tlsSecretName"`

	// annotations are added to the Ingress, for example
	// cert-manager.io/cluster-issuer: letsencrypt.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// DirectorySpec is the agency's lookup data.
type DirectorySpec struct {
	// ranks a user's rankName may name, for example Officer, Sergeant.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=500
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=255
	Ranks []string `json:"ranks,omitempty"`

	// roles a user's axonRole may name. A user without a role gets "User"; "Blank" is ignored.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=500
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=255
	Roles []string `json:"roles,omitempty"`

	// evidenceGroups a user's evidenceGroupName may name.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=500
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=255
	EvidenceGroups []string `json:"evidenceGroups,omitempty"`

	// userGroups a user's userGroupName may name; the user becomes a member.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=500
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=255
	UserGroups []string `json:"userGroups,omitempty"`

	// commandHierarchyGroups are groups in the agency's command hierarchy; the SCIM server
	// refuses to delete them.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=500
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=255
	CommandHierarchyGroups []string `json:"commandHierarchyGroups,omitempty"`

	// defaultLanguage is given to users that send neither preferredLanguage nor locale, for
	// example EN_US (the default) or ES_US.
	// +optional
	// +kubebuilder:default=EN_US
	// +kubebuilder:validation:Pattern=`^[A-Za-z]{2}([_-][A-Za-z]{2})?$`
	DefaultLanguage string `json:"defaultLanguage,omitempty"`
}

// AgencyProvisioningStatus is what the operator observed.
type AgencyProvisioningStatus struct {
	// observedGeneration is the spec generation the last successful reconcile acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready summarises OktaAuthenticated, IssuerVerified, OktaAppsConfigured,
	// ProvisioningConnected, ScimServerAvailable and ScimAuthenticated.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// scimEndpoint is the SCIM base URL to enter in Okta, for example
	// https://scim.examplepd.gov/api/v2/agencies/examplepd/scim.
	// +optional
	ScimEndpoint string `json:"scimEndpoint,omitempty"`

	// users is the number of users in the agency's directory, as its SCIM server reports.
	// +optional
	Users *int64 `json:"users,omitempty"`

	// activeUsers is the number of active users in the agency's directory.
	// +optional
	ActiveUsers *int64 `json:"activeUsers,omitempty"`

	// groups is the number of groups in the agency's directory.
	// +optional
	Groups *int64 `json:"groups,omitempty"`

	// lastProvisioningRequest is the most recent request from Okta that the SCIM server
	// accepted.
	// +optional
	LastProvisioningRequest *ProvisioningRequest `json:"lastProvisioningRequest,omitempty"`

	// okta holds the ids of the Okta objects the operator manages.
	// +optional
	Okta OktaStatus `json:"okta,omitzero"`

	// manualStep holds the exact values an Okta admin enters on the SAML app's Provisioning
	// tab, which the Okta API cannot set. Present while ProvisioningConnected is
	// ManualStepRequired and kept afterwards for reference.
	// +optional
	ManualStep *ManualStep `json:"manualStep,omitempty"`

	// connectedManualStep holds the manual step's values as they were when
	// ProvisioningConnected last turned True: what the admin entered in Okta. A spec change
	// that alters one of them is named in ProvisioningConnected's message until Okta connects
	// again.
	// +optional
	ConnectedManualStep *ManualStep `json:"connectedManualStep,omitempty"`
}

// ProvisioningRequest describes a request from Okta that the SCIM server accepted.
type ProvisioningRequest struct {
	// clientID is the OIDC client id carried by the request's access token.
	ClientID string `json:"clientID,omitempty"`
	// method is the HTTP method, for example PUT.
	Method string `json:"method,omitempty"`
	// path is the request path below the SCIM endpoint, for example /Users/{id}.
	Path string `json:"path,omitempty"`
	// status is the HTTP status the SCIM server answered.
	Status int32 `json:"status,omitempty"`
	// time the request was served.
	Time metav1.Time `json:"time,omitzero"`
}

// OktaStatus holds the ids of the Okta objects the operator manages.
type OktaStatus struct {
	// oidcAppId is the id of the OIDC web app Okta's SCIM client authenticates with.
	// +optional
	OIDCAppID string `json:"oidcAppId,omitempty"`
	// oidcClientId is that app's OAuth client id.
	// +optional
	OIDCClientID string `json:"oidcClientId,omitempty"`
	// clientSecretName is the Secret, in this namespace, holding the OIDC app's client id
	// (key "clientID") and client secret (key "clientSecret").
	// +optional
	ClientSecretName string `json:"clientSecretName,omitempty"`
	// samlAppId is the id of the custom SAML app that carries provisioning.
	// +optional
	SAMLAppID string `json:"samlAppId,omitempty"`
	// samlAppName is the name Okta gave the SAML app; the default redirect URI uses it.
	// +optional
	SAMLAppName string `json:"samlAppName,omitempty"`
	// accessPolicyId is the id of the access policy on the authorization server.
	// +optional
	AccessPolicyID string `json:"accessPolicyId,omitempty"`
	// accessPolicyRuleId is the id of that policy's rule.
	// +optional
	AccessPolicyRuleID string `json:"accessPolicyRuleId,omitempty"`
	// issuer is the authorization server's issuer, as Okta reports it.
	// +optional
	Issuer string `json:"issuer,omitempty"`
	// createdObjects lists the Okta objects this operator created, the only ones it may
	// delete (deletionPolicy Delete).
	// +optional
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=id
	CreatedObjects []OktaObjectRef `json:"createdObjects,omitempty"`
	// lastSyncTime is when the operator last read and repaired the Okta side. Between syncs
	// (spec.okta.resyncPeriod) a reconcile makes no Okta call.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`
	// syncedGeneration is the spec generation of the last Okta sync.
	// +optional
	SyncedGeneration int64 `json:"syncedGeneration,omitempty"`
	// syncRequest echoes the scim.provisioning.dev/okta-sync-request annotation of the last
	// Okta sync; changing the annotation asks for a sync now.
	// +optional
	SyncRequest string `json:"syncRequest,omitempty"`
	// credentialsVersion is the resourceVersion of the credentials Secret at the last Okta
	// sync; a Secret changed since (rotated, broken, deleted) asks for a sync now.
	// +optional
	CredentialsVersion string `json:"credentialsVersion,omitempty"`
	// groupPushWaiting is true while group push mappings wait for ProvisioningConnected (Okta
	// refuses them before provisioning is switched on).
	// +optional
	GroupPushWaiting bool `json:"groupPushWaiting,omitempty"`
}

// OktaObjectRef identifies one Okta object.
type OktaObjectRef struct {
	// kind of object: OIDCApp, SAMLApp, AccessPolicy, AccessPolicyRule, GroupPushMapping.
	// +required
	Kind string `json:"kind"`
	// id Okta gave the object.
	// +required
	ID string `json:"id"`
	// name or label of the object, for reading.
	// +optional
	Name string `json:"name,omitempty"`
}

// ManualStep holds the values an Okta admin enters by hand on the SAML app's Provisioning tab.
type ManualStep struct {
	// appName is the SAML app to open in the Okta admin console.
	// +optional
	AppName string `json:"appName,omitempty"`
	// scimConnectorBaseURL is the "SCIM connector base URL".
	// +optional
	ScimConnectorBaseURL string `json:"scimConnectorBaseURL,omitempty"`
	// uniqueIdentifierField is the "Unique identifier field for users".
	// +optional
	UniqueIdentifierField string `json:"uniqueIdentifierField,omitempty"`
	// supportedActions are the "Supported provisioning actions" to tick.
	// +optional
	SupportedActions []string `json:"supportedActions,omitempty"`
	// authenticationMode is the "Authentication Mode" to choose (OAuth 2).
	// +optional
	AuthenticationMode string `json:"authenticationMode,omitempty"`
	// authorizeEndpointURL is the "Authorize endpoint URL".
	// +optional
	AuthorizeEndpointURL string `json:"authorizeEndpointURL,omitempty"`
	// tokenEndpointURL is the "Token endpoint URL".
	// +optional
	TokenEndpointURL string `json:"tokenEndpointURL,omitempty"`
	// clientID is the OIDC app's client id to enter as "Client ID".
	// +optional
	ClientID string `json:"clientID,omitempty"`
	// clientSecretRef says where to read the "Client Secret": never shown here.
	// +optional
	ClientSecretRef string `json:"clientSecretRef,omitempty"`
	// redirectURI is the redirect URI registered on the OIDC app.
	// +optional
	RedirectURI string `json:"redirectURI,omitempty"`
	// toAppActions are the "To App" settings to enable.
	// +optional
	ToAppActions []string `json:"toAppActions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ap,categories=scim
// +kubebuilder:printcolumn:name="Agency",type=string,JSONPath=`.spec.agencyId`
// +kubebuilder:printcolumn:name="Org",type=string,JSONPath=`.spec.okta.orgURL`
// +kubebuilder:printcolumn:name="Sync",type=string,JSONPath=`.spec.syncMode`
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.status.scimEndpoint`
// +kubebuilder:printcolumn:name="Users",type=integer,JSONPath=`.status.users`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// AgencyProvisioning connects one agency's Okta org to a SCIM server that the operator runs
// for it, and keeps both sides configured.
type AgencyProvisioning struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec is what the agency wants.
	// +required
	Spec AgencyProvisioningSpec `json:"spec"`

	// status is what the operator observed.
	// +optional
	Status AgencyProvisioningStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// AgencyProvisioningList contains a list of AgencyProvisioning.
type AgencyProvisioningList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []AgencyProvisioning `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(SchemeGroupVersion, &AgencyProvisioning{}, &AgencyProvisioningList{})
		return nil
	})
}
