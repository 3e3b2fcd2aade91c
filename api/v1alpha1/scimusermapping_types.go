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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// DefaultExtensionSchema is the URN under which the agency's custom user attributes travel.
const DefaultExtensionSchema = "urn:ietf:params:scim:schemas:extension:2.0:axon"

// Well-known custom attribute names of the agency's extension schema.
const (
	AttributeBadgeID           = "badgeId"
	AttributeRankName          = "rankName"
	AttributeEvidenceGroupName = "evidenceGroupName"
	AttributeUserGroupName     = "userGroupName"
	AttributeAxonRole          = "axonRole"
)

// AttributeType is the type of a custom app-profile attribute.
// +kubebuilder:validation:Enum=string;boolean;integer;number
type AttributeType string

// Attribute types.
const (
	AttributeTypeString  AttributeType = "string"
	AttributeTypeBoolean AttributeType = "boolean"
	AttributeTypeInteger AttributeType = "integer"
	AttributeTypeNumber  AttributeType = "number"
)

// PushStatus says whether Okta pushes a mapped attribute to the app on every profile change.
// +kubebuilder:validation:Enum=PUSH;DONT_PUSH
type PushStatus string

// Push statuses.
const (
	PushStatusPush     PushStatus = "PUSH"
	PushStatusDontPush PushStatus = "DONT_PUSH"
)

// ScimUserMappingSpec declares the SAML app's custom profile attributes and how Okta fills
// the SCIM attributes from Okta user profiles.
// +kubebuilder:validation:XValidation:rule="self.attributes.exists(a, a.variableName == 'badgeId')",fieldPath=".attributes",message="spec.attributes must declare badgeId: every provisioned user needs a badge id"
// +kubebuilder:validation:XValidation:rule="!has(self.mappings) || self.mappings.all(m, m.target in ['userName', 'givenName', 'familyName', 'middleName', 'honorificPrefix', 'honorificSuffix', 'displayName', 'nickName', 'email', 'secondEmail', 'primaryPhone', 'mobilePhone', 'title', 'locale', 'preferredLanguage', 'timezone', 'userType', 'employeeNumber', 'department', 'organization', 'manager'] || self.attributes.exists(a, a.variableName == m.target))",fieldPath=".mappings",message="spec.mappings[].target must be a base SCIM attribute (givenName, familyName, email, ...) or a variableName declared in spec.attributes"
type ScimUserMappingSpec struct {
	// agencyProvisioningRef names the AgencyProvisioning, in this namespace, whose SAML app
	// gets these attributes and mappings. It cannot be changed after creation.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.agencyProvisioningRef is immutable: delete this ScimUserMapping and create one for the other AgencyProvisioning"
	AgencyProvisioningRef LocalObjectRef `json:"agencyProvisioningRef"`

	// attributes are the custom attributes added to the SAML app's user profile. badgeId is
	// required; rankName, evidenceGroupName, userGroupName and axonRole are the usual others.
	// +required
	// +listType=map
	// +listMapKey=variableName
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=50
	Attributes []CustomAttribute `json:"attributes"`

	// mappings say which Okta expression fills each SCIM attribute. Targets left out get the
	// defaults: givenName <- user.firstName, familyName <- user.lastName and
	// badgeId <- user.employeeNumber.
	// +optional
	// +listType=map
	// +listMapKey=target
	// +kubebuilder:validation:MaxItems=100
	Mappings []AttributeMapping `json:"mappings,omitempty"`
}

// LocalObjectRef names an object in the same namespace.
type LocalObjectRef struct {
	// name of the object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// CustomAttribute is one custom property of the SAML app's user profile.
type CustomAttribute struct {
	// displayName is the label Okta's admin console shows, for example "Badge ID".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	DisplayName string `json:"displayName"`

	// variableName is the property's name in the app profile and its external name in the
	// SCIM extension schema, for example badgeId.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9_]*$`
	VariableName string `json:"variableName"`

	// externalNamespace is the SCIM schema URN the attribute travels under. Without it Okta
	// never sends the attribute. Defaults to urn:ietf:params:scim:schemas:extension:2.0:axon.
	// +optional
	// +kubebuilder:default="urn:ietf:params:scim:schemas:extension:2.0:axon"
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:Pattern=`^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[A-Za-z0-9()+,\-.:=@;$_!*'%/?#]+$`
	ExternalNamespace string `json:"externalNamespace,omitempty"`

	// type of the attribute: string (the default), boolean, integer or number.
	// +optional
	// +kubebuilder:default=string
	Type AttributeType `json:"type,omitempty"`

	// required makes Okta refuse to assign a user who has no value for the attribute.
	// +optional
	Required bool `json:"required,omitempty"`

	// description is shown in Okta's admin console.
	// +optional
	// +kubebuilder:validation:MaxLength=500
	Description string `json:"description,omitempty"`
}

// AttributeMapping fills one SCIM attribute from an Okta expression.
type AttributeMapping struct {
	// target is the app-profile attribute filled: a base attribute such as givenName, or a
	// variableName from spec.attributes.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9_]*$`
	Target string `json:"target"`

	// expression is the Okta expression that gives the value, for example user.firstName or
	// user.employeeNumber.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Expression string `json:"expression"`

	// pushStatus is PUSH (the default: Okta pushes the value on every profile change) or
	// DONT_PUSH.
	// +optional
	// +kubebuilder:default=PUSH
	PushStatus PushStatus `json:"pushStatus,omitempty"`
}

// DefaultMappings are the mappings a ScimUserMapping gets for targets it leaves out.
func DefaultMappings() []AttributeMapping {
	return []AttributeMapping{
		{Target: "givenName", Expression: "user.firstName", PushStatus: PushStatusPush},
		{Target: "familyName", Expression: "user.lastName", PushStatus: PushStatusPush},
		{Target: AttributeBadgeID, Expression: "user.employeeNumber", PushStatus: PushStatusPush},
	}
}

// EffectiveMappings returns the spec's mappings followed by the defaults for every target the
// spec leaves out, in a stable order.
func (s *ScimUserMappingSpec) EffectiveMappings() []AttributeMapping {
	out := make([]AttributeMapping, 0, len(s.Mappings)+len(DefaultMappings()))
	seen := make(map[string]bool, len(s.Mappings))
	for _, m := range s.Mappings {
		if m.PushStatus == "" {
			m.PushStatus = PushStatusPush
		}
		out = append(out, m)
		seen[m.Target] = true
	}
	for _, d := range DefaultMappings() {
		if !seen[d.Target] {
			out = append(out, d)
		}
	}
	return out
}

// ScimUserMappingStatus is what the operator last wrote to Okta.
type ScimUserMappingStatus struct {
	// observedGeneration is the spec generation the last successful reconcile acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready says whether the attributes and mappings are in Okta as declared.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// syncedAttributes are the variable names of the custom attributes present in Okta.
	// +optional
	// +listType=set
	SyncedAttributes []string `json:"syncedAttributes,omitempty"`

	// syncedMappings are the mappings present in Okta.
	// +optional
	// +listType=map
	// +listMapKey=target
	SyncedMappings []AttributeMapping `json:"syncedMappings,omitempty"`

	// samlAppId is the Okta SAML app the attributes and mappings were written to.
	// +optional
	SAMLAppID string `json:"samlAppId,omitempty"`

	// lastSyncTime is when the operator last read and repaired the app's schema and mapping in
	// Okta. Between syncs (the agency's spec.okta.resyncPeriod) a reconcile makes no Okta call.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`

	// syncRequest is the value of the agency's scim.provisioning.dev/okta-sync-request
	// annotation that the last sync served: a new value syncs the mapping too.
	// +optional
	SyncRequest string `json:"syncRequest,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=sum,categories=scim
// +kubebuilder:printcolumn:name="Agency",type=string,JSONPath=`.spec.agencyProvisioningRef.name`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// ScimUserMapping declares the custom user attributes of an agency's SAML app and the
// mappings that fill them from Okta user profiles.
type ScimUserMapping struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec declares the attributes and mappings.
	// +required
	Spec ScimUserMappingSpec `json:"spec"`

	// status is what the operator last wrote to Okta.
	// +optional
	Status ScimUserMappingStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// ScimUserMappingList contains a list of ScimUserMapping.
type ScimUserMappingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []ScimUserMapping `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(SchemeGroupVersion, &ScimUserMapping{}, &ScimUserMappingList{})
		return nil
	})
}
