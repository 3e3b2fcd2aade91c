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

// Condition types. Each is True when the named thing is in the wanted state; Ready is True
// when every other condition present is True.
const (
	// ConditionReady summarises the others; it is computed last.
	ConditionReady = "Ready"
	// ConditionOktaAuthenticated is True when the operator's Okta credentials are accepted; it
	// is also False while the org is unreachable or rate-limits the operator, at any Okta step.
	ConditionOktaAuthenticated = "OktaAuthenticated"
	// ConditionIssuerVerified is True when the org's authorization server is active and its
	// issuer shares the org URL's host.
	ConditionIssuerVerified = "IssuerVerified"
	// ConditionOktaAppsConfigured is True when the OIDC app, its access policy and rule, the
	// SAML app, its group assignments and group push are in the wanted state.
	ConditionOktaAppsConfigured = "OktaAppsConfigured"
	// ConditionProvisioningConnected is True once Okta has reached the SCIM server with a valid
	// token from the OIDC app; False with ManualStepRequired until then.
	ConditionProvisioningConnected = "ProvisioningConnected"
	// ConditionScimServerAvailable is True when the SCIM server's Deployment has its desired
	// replicas available; otherwise it says why: the store problem a SCIM pod reports
	// (StoreUnreachable, MigrationFailed), or what a pod's status shows (unschedulable, image
	// pull, crash loop, unready).
	ConditionScimServerAvailable = "ScimServerAvailable"
	// ConditionScimAuthenticated is False when the SCIM server is rejecting Okta's tokens.
	ConditionScimAuthenticated = "ScimAuthenticated"
)

// Condition reasons. Positive reasons go with status True, the others with False or Unknown.
const (
	// ReasonSucceeded: the condition is True; for Ready, every other condition is True.
	ReasonSucceeded = "Succeeded"
	// ReasonReconciling: the operator has not yet observed the outcome (status Unknown).
	ReasonReconciling = "Reconciling"
	// ReasonReconcileFailed: the operator could not apply the wanted state; the message says
	// which object and why.
	ReasonReconcileFailed = "ReconcileFailed"
	// ReasonDeletionBlocked: the AgencyProvisioning is being deleted with deletionPolicy Delete,
	// but the Okta objects it created cannot be deleted yet; the message says why and how to
	// let the deletion finish (set spec.deletionPolicy to Retain).
	ReasonDeletionBlocked = "DeletionBlocked"
	// ReasonInvalidSpec: the spec cannot be acted on; the message names the field to fix.
	ReasonInvalidSpec = "InvalidSpec"

	// ReasonInvalidCredentials: Okta rejected the API token or the service app's key, or the
	// Secret's values cannot be used (a key that does not parse, a blank inside a token).
	ReasonInvalidCredentials = "InvalidCredentials"
	// ReasonCredentialsSecretMissing: the credentials Secret cannot be read, or one of its keys
	// is missing or blank.
	ReasonCredentialsSecretMissing = "CredentialsSecretMissing"
	// ReasonOrgUnreachable: the Okta org did not answer.
	ReasonOrgUnreachable = "OrgUnreachable"
	// ReasonRateLimited: Okta answered 429; the operator waits until the limit resets.
	ReasonRateLimited = "RateLimited"

	// ReasonIssuerMismatch: an issuer does not match the org URL (IssuerVerified) or a token's
	// issuer is not the expected one (ScimAuthenticated).
	ReasonIssuerMismatch = "IssuerMismatch"
	// ReasonAuthorizationServerInactive: the authorization server exists but is inactive.
	ReasonAuthorizationServerInactive = "AuthorizationServerInactive"

	// ReasonAppsOutOfSync: an Okta object is in a state the operator must not repair by itself
	// (an app someone deactivated, a label taken by another app, group push refused); the
	// message names it and what to do. Other failures are ReconcileFailed.
	ReasonAppsOutOfSync = "AppsOutOfSync"

	// ReasonManualStepRequired: an Okta admin must switch provisioning on by hand; the
	// message and status.manualStep give the exact values.
	ReasonManualStepRequired = "ManualStepRequired"

	// ReasonDeploymentAvailable: the SCIM server's pods are available (status True).
	ReasonDeploymentAvailable = "DeploymentAvailable"
	// ReasonDeploymentProgressing: the SCIM server's pods are starting or rolling out.
	ReasonDeploymentProgressing = "DeploymentProgressing"
	// ReasonDeploymentUnavailable: the rollout failed (the Deployment's progress deadline
	// passed); pods that are still starting are DeploymentProgressing.
	ReasonDeploymentUnavailable = "DeploymentUnavailable"
	// ReasonStoreUnreachable: the SCIM server cannot reach its database, or the spec's store
	// configuration is incomplete (a missing postgres Secret or key).
	ReasonStoreUnreachable = "StoreUnreachable"
	// ReasonMigrationFailed: the SCIM server could not migrate its database schema.
	ReasonMigrationFailed = "MigrationFailed"

	// ReasonTokensAccepted: the SCIM server accepts Okta's tokens (status True).
	ReasonTokensAccepted = "TokensAccepted"
	// ReasonInvalidSignature: a token's signature does not verify against the issuer's keys.
	ReasonInvalidSignature = "InvalidSignature"
	// ReasonTokenExpired: Okta sent an expired token.
	ReasonTokenExpired = "TokenExpired"
	// ReasonUnknownClient: a token came from another OIDC client than the operator's app.
	ReasonUnknownClient = "UnknownClient"
	// ReasonWrongAudience: a token's audience is not the configured one.
	ReasonWrongAudience = "WrongAudience"
)
