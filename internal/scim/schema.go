package scim

import "strings"

// Schema URNs the server knows.
const (
	SchemaUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaGroup      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	schemaListResp   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	schemaPatchOp    = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	schemaSearchReq  = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	schemaSPC        = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	schemaResType    = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	schemaSchema     = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// Attribute types, mutabilities and returned values of RFC 7643 section 7.
const (
	typeString    = "string"
	typeBoolean   = "boolean"
	typeDateTime  = "dateTime"
	typeReference = "reference"
	typeComplex   = "complex"

	mutReadWrite = "readWrite"
	mutReadOnly  = "readOnly"
	mutImmutable = "immutable"
	mutWriteOnly = "writeOnly"
)

// attribute describes one attribute of a schema, for /Schemas, for matching names
// case-insensitively and for ignoring read-only attributes a client sends.
type attribute struct {
	Name          string      `json:"name"`
	Type          string      `json:"type"`
	MultiValued   bool        `json:"multiValued"`
	Description   string      `json:"description,omitempty"`
	Required      bool        `json:"required"`
	CaseExact     bool        `json:"caseExact"`
	Mutability    string      `json:"mutability"`
	Returned      string      `json:"returned"`
	Uniqueness    string      `json:"uniqueness"`
	SubAttributes []attribute `json:"subAttributes,omitempty"`
}

func str(name string) attribute {
	return attribute{Name: name, Type: typeString, Mutability: mutReadWrite, Returned: "default", Uniqueness: "none"}
}

func (a attribute) required() attribute    { a.Required = true; return a }
func (a attribute) caseExact() attribute   { a.CaseExact = true; return a }
func (a attribute) unique() attribute      { a.Uniqueness = "server"; return a }
func (a attribute) mut(m string) attribute { a.Mutability = m; return a }
func (a attribute) multi() attribute       { a.MultiValued = true; return a }
func (a attribute) typed(t string) attribute {
	a.Type = t
	return a
}

func (a attribute) describe(d string) attribute {
	a.Description = d
	return a
}

func complexAttr(name string, subs ...attribute) attribute {
	a := str(name).typed(typeComplex)
	a.SubAttributes = subs
	return a
}

// multiValuedAttr is a multi-valued complex attribute with value, display, type and primary.
func multiValuedAttr(name string, extra ...attribute) attribute {
	subs := append([]attribute{str("value"), str("display"), str("type"),
		str("primary").typed(typeBoolean)}, extra...)
	return complexAttr(name, subs...).multi()
}

// schema is one schema: its URN and attributes.
type schema struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Attributes  []attribute `json:"attributes"`
}

// find returns the attribute named name, compared case-insensitively.
func find(attrs []attribute, name string) (attribute, bool) {
	for _, a := range attrs {
		if strings.EqualFold(a.Name, name) {
			return a, true
		}
	}
	return attribute{}, false
}

func userSchema() schema {
	return schema{
		ID:          SchemaUser,
		Name:        "User",
		Description: "An agency member provisioned from Okta.",
		Attributes: []attribute{
			str("id").caseExact().mut(mutReadOnly).unique(),
			str(
				"externalId",
			).caseExact().
				unique().
				describe("The Okta user id; unique in the agency, compared exactly."),
			str("userName").required().unique().describe("Unique in the agency, compared case-insensitively."),
			complexAttr("name", str("formatted"), str("familyName"), str("givenName"), str("middleName"),
				str("honorificPrefix"), str("honorificSuffix")),
			str("displayName"), str("nickName"), str("profileUrl").typed(typeReference), str("title"),
			str("userType"), str("preferredLanguage"), str("locale"), str("timezone"),
			str("active").typed(typeBoolean),
			str("password").mut(mutWriteOnly).describe("Accepted and discarded; never stored or returned."),
			multiValuedAttr("emails").describe("The primary (else first) email is unique in the agency."),
			multiValuedAttr("phoneNumbers"),
			multiValuedAttr("ims"),
			multiValuedAttr("photos"),
			complexAttr("addresses", str("formatted"), str("streetAddress"), str("locality"), str("region"),
				str("postalCode"), str("country"), str("type"), str("primary").typed(typeBoolean)).multi(),
			multiValuedAttr("groups", str("$ref").typed(typeReference)).mut(mutReadOnly),
			multiValuedAttr("roles"),
		},
	}
}

func enterpriseSchema() schema {
	return schema{
		ID:          SchemaEnterprise,
		Name:        "EnterpriseUser",
		Description: "Enterprise user attributes.",
		Attributes: []attribute{
			str("employeeNumber"), str("costCenter"), str("organization"), str("division"), str("department"),
			complexAttr("manager", str("value"), str("$ref").typed(typeReference), str("displayName").mut(mutReadOnly)),
		},
	}
}

func extensionSchema(urn string) schema {
	return schema{ID: urn, Name: "AgencyUser", Description: "The agency's user attributes.", Attributes: []attribute{
		str("badgeId").required().describe("The officer's badge number. Required."),
		str("rankName").describe("Must name one of the agency's ranks."),
		str("evidenceGroupName").describe("Must name one of the agency's evidence groups."),
		str("userGroupName").describe("Must name one of the agency's user groups; the user joins it."),
		str("axonRole").describe(`Must name one of the agency's roles; "Blank" is ignored, none means "User".`),
	}}
}

func groupSchema() schema {
	return schema{ID: SchemaGroup, Name: "Group", Description: "A group of agency members.", Attributes: []attribute{
		str("id").caseExact().mut(mutReadOnly).unique(),
		str("externalId").caseExact(),
		str("displayName").required().unique(),
		complexAttr("members", str("value").mut(mutImmutable), str("display"), str("type"),
			str("$ref").typed(typeReference).mut(mutImmutable)).multi(),
	}}
}

// metaAttribute is the common meta attribute, read-only.
func metaAttribute() attribute {
	return complexAttr("meta", str("resourceType"), str("created").typed(typeDateTime),
		str("lastModified").typed(typeDateTime), str("location").typed(typeReference), str("version")).mut(mutReadOnly)
}
