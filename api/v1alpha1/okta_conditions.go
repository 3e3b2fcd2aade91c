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

// ScimUserMapping condition types (Ready summarises them).
const (
	// ConditionSchemaSynced is True when the SAML app's user profile has every declared custom
	// attribute with the declared title, type, required flag, external name and namespace.
	ConditionSchemaSynced = "SchemaSynced"
	// ConditionMappingsSynced is True when the Okta user -> app profile mapping carries every
	// effective mapping's expression.
	ConditionMappingsSynced = "MappingsSynced"
)

// ScimUserMapping condition reasons.
const (
	// ReasonBadgeIDRequired: the spec would drop or weaken the required badgeId attribute or
	// its mapping; nothing is written to Okta until it is fixed.
	ReasonBadgeIDRequired = "BadgeIDRequired"
	// ReasonDuplicateMapping: another ScimUserMapping, created earlier, maps the same
	// AgencyProvisioning; this one writes nothing to Okta while that one exists.
	ReasonDuplicateMapping = "DuplicateMapping"
	// ReasonWaitingForAgency: the referenced AgencyProvisioning is missing or has no SAML app
	// yet.
	ReasonWaitingForAgency = "WaitingForAgency"
	// ReasonWaitingForProvisioning: the custom attributes exist, but Okta keeps their external
	// name and namespace only once SCIM provisioning is on for the app; they are written again
	// when the agency's ProvisioningConnected turns True.
	ReasonWaitingForProvisioning = "WaitingForProvisioning"
	// ReasonSchemaNotKept: Okta accepted a schema write but its answer lacks part of it (an
	// attribute missing or different, or one still there after its removal); the message names
	// each and what differs. The write is tried again after the retry interval.
	ReasonSchemaNotKept = "SchemaNotKept"
	// ReasonOktaError: Okta refused or failed a request; the message says which and why.
	ReasonOktaError = "OktaError"
)
