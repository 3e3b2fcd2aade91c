package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/provisioning-dev/scim-operator/internal/directory"
)

// userOut is the JSON form of a user, without the agency extension, whose key is configured
// and is spliced in by renderUser.
type userOut struct {
	Schemas           []string               `json:"schemas"`
	ID                string                 `json:"id"`
	ExternalID        string                 `json:"externalId,omitempty"`
	UserName          string                 `json:"userName"`
	Name              *directory.Name        `json:"name,omitempty"`
	DisplayName       string                 `json:"displayName,omitempty"`
	NickName          string                 `json:"nickName,omitempty"`
	ProfileURL        string                 `json:"profileUrl,omitempty"`
	Title             string                 `json:"title,omitempty"`
	UserType          string                 `json:"userType,omitempty"`
	PreferredLanguage string                 `json:"preferredLanguage,omitempty"`
	Locale            string                 `json:"locale,omitempty"`
	Timezone          string                 `json:"timezone,omitempty"`
	Active            bool                   `json:"active"`
	Emails            []directory.Email      `json:"emails,omitempty"`
	PhoneNumbers      []directory.MultiValue `json:"phoneNumbers,omitempty"`
	IMs               []directory.MultiValue `json:"ims,omitempty"`
	Photos            []directory.MultiValue `json:"photos,omitempty"`
	Addresses         []directory.Address    `json:"addresses,omitempty"`
	Groups            []refOut               `json:"groups,omitempty"`

	Enterprise *enterpriseOut `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`

	Meta metaOut `json:"meta"`
}

type enterpriseOut struct {
	EmployeeNumber string      `json:"employeeNumber,omitempty"`
	CostCenter     string      `json:"costCenter,omitempty"`
	Organization   string      `json:"organization,omitempty"`
	Division       string      `json:"division,omitempty"`
	Department     string      `json:"department,omitempty"`
	Manager        *managerOut `json:"manager,omitempty"`
}

type managerOut struct {
	Value       string `json:"value,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// refOut is a user's group or a group's member.
type refOut struct {
	Value   string `json:"value"`
	Ref     string `json:"$ref,omitempty"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
}

type metaOut struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created"`
	LastModified string `json:"lastModified"`
	Location     string `json:"location"`
	Version      string `json:"version"`
}

func newMeta(resourceType, location string, m directory.Meta) metaOut {
	return metaOut{
		ResourceType: resourceType,
		Created:      m.Created.UTC().Format(time.RFC3339Nano),
		LastModified: m.LastModified.UTC().Format(time.RFC3339Nano),
		Location:     location,
		Version:      m.ETag(),
	}
}

// renderUser returns the JSON form of u. base is the absolute SCIM base URL.
func (s *Server) renderUser(u *directory.User, base string) []byte {
	out := userOut{
		Schemas: []string{SchemaUser}, ID: u.ID, ExternalID: u.ExternalID, UserName: u.UserName,
		DisplayName: u.DisplayName, NickName: u.NickName, ProfileURL: u.ProfileURL, Title: u.Title,
		UserType: u.UserType, PreferredLanguage: u.PreferredLanguage, Locale: u.Locale,
		Timezone: u.Timezone, Active: u.Active, Emails: u.Emails, PhoneNumbers: u.PhoneNumbers,
		IMs: u.IMs, Photos: u.Photos, Addresses: u.Addresses,
		Meta: newMeta("User", base+"/Users/"+u.ID, u.Meta),
	}
	if u.Name != (directory.Name{}) {
		out.Name = &u.Name
	}
	for _, g := range u.Groups {
		out.Groups = append(
			out.Groups,
			refOut{Value: g.ID, Ref: base + "/Groups/" + g.ID, Display: g.DisplayName, Type: "direct"},
		)
	}
	if e := u.Enterprise; e != (directory.EnterpriseUser{}) {
		out.Enterprise = &enterpriseOut{EmployeeNumber: e.EmployeeNumber, CostCenter: e.CostCenter,
			Organization: e.Organization, Division: e.Division, Department: e.Department}
		if e.Manager != (directory.Manager{}) {
			out.Enterprise.Manager = &managerOut{Value: e.Manager.Value, DisplayName: e.Manager.DisplayName}
		}
		out.Schemas = append(out.Schemas, SchemaEnterprise)
	}
	hasExt := u.Extension != (directory.Extension{})
	if hasExt {
		out.Schemas = append(out.Schemas, s.extURN)
	}
	body, err := json.Marshal(out)
	if err != nil || !hasExt {
		return body
	}
	ext, err := json.Marshal(u.Extension)
	if err != nil {
		return body
	}
	return spliceMember(body, s.extKey, ext)
}

// spliceMember adds "key": value as the last member of the JSON object obj. key is already
// a JSON string.
func spliceMember(obj, key, value []byte) []byte {
	out := make([]byte, 0, len(obj)+len(key)+len(value)+2)
	out = append(out, obj[:len(obj)-1]...)
	out = append(out, ',')
	out = append(out, key...)
	out = append(out, ':')
	out = append(out, value...)
	return append(out, '}')
}

// userDocument is a user's canonical document, for PATCH and attribute selection.
func (s *Server) userDocument(u *directory.User, base string) (document, error) {
	return toDocument(s.renderUser(u, base))
}

func toDocument(body []byte) (document, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var d document
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("decode own rendering: %w", err)
	}
	return d, nil
}

// userFromDocument reads a user from a canonical document. Types are checked: a string
// attribute given a number is a 400, except badgeId and employeeNumber, which an admin may
// map from a numeric Okta profile attribute.
func (s *Server) userFromDocument(d document) (directory.User, error) {
	r := reader{}
	u := directory.User{
		ExternalID: r.str(d, "externalId"), UserName: r.str(d, "userName"),
		DisplayName: r.str(d, "displayName"), NickName: r.str(d, "nickName"),
		ProfileURL: r.str(d, "profileUrl"), Title: r.str(d, "title"), UserType: r.str(d, "userType"),
		PreferredLanguage: r.str(d, "preferredLanguage"), Locale: r.str(d, "locale"),
		Timezone: r.str(d, "timezone"), Active: r.boolean(d, "active", true),
	}
	if n := r.object(d, "name"); n != nil {
		u.Name = directory.Name{Formatted: r.str(n, "formatted"), FamilyName: r.str(n, "familyName"),
			GivenName: r.str(n, "givenName"), MiddleName: r.str(n, "middleName"),
			HonorificPrefix: r.str(n, "honorificPrefix"), HonorificSuffix: r.str(n, "honorificSuffix")}
	}
	for _, e := range r.list(d, "emails") {
		u.Emails = append(u.Emails, directory.Email{Value: r.str(e, "value"), Type: r.str(e, "type"),
			Display: r.str(e, "display"), Primary: r.boolean(e, "primary", false)})
	}
	u.PhoneNumbers = r.multiValues(d, "phoneNumbers")
	u.IMs = r.multiValues(d, "ims")
	u.Photos = r.multiValues(d, "photos")
	for _, a := range r.list(d, "addresses") {
		u.Addresses = append(u.Addresses, directory.Address{Formatted: r.str(a, "formatted"),
			StreetAddress: r.str(a, "streetAddress"), Locality: r.str(a, "locality"), Region: r.str(a, "region"),
			PostalCode: r.str(a, "postalCode"), Country: r.str(a, "country"), Type: r.str(a, "type"),
			Primary: r.boolean(a, "primary", false)})
	}
	if e := r.object(d, SchemaEnterprise); e != nil {
		u.Enterprise = directory.EnterpriseUser{EmployeeNumber: r.text(e, "employeeNumber"),
			CostCenter: r.str(e, "costCenter"), Organization: r.str(e, "organization"),
			Division: r.str(e, "division"), Department: r.str(e, "department")}
		switch m := e["manager"].(type) {
		case map[string]any:
			u.Enterprise.Manager = directory.Manager{Value: r.str(m, "value"), DisplayName: r.str(m, "displayName")}
		case nil:
		default: // Entra sends the manager's id alone in a PATCH value.
			u.Enterprise.Manager.Value = r.str(e, "manager")
		}
	}
	if x := r.object(d, s.extURN); x != nil {
		u.Extension = directory.Extension{BadgeID: r.text(x, "badgeId"), RankName: r.str(x, "rankName"),
			EvidenceGroupName: r.str(x, "evidenceGroupName"), UserGroupName: r.str(x, "userGroupName"),
			AxonRole: r.str(x, "axonRole")}
	}
	return u, r.err
}

// reader reads typed values out of decoded JSON, keeping the first type error.
type reader struct {
	err error
}

func (r *reader) fail(key, want string) {
	if r.err == nil {
		r.err = badRequest(scimTypeInvalidValue, "attribute %q must be %s", key, want)
	}
}

func (r *reader) str(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		r.fail(key, "a string")
		return ""
	}
}

// boolean reads a boolean, also sent as the string "true" or "false" in any case (Entra).
// text reads a string attribute that an admin may map from a numeric Okta profile attribute
// (badgeId, employeeNumber): a JSON number is taken as its text.
func (r *reader) text(m map[string]any, key string) string {
	if n, ok := m[key].(json.Number); ok {
		return n.String()
	}
	return r.str(m, key)
}

func (r *reader) boolean(m map[string]any, key string, def bool) bool {
	switch v := m[key].(type) {
	case nil:
		return def
	case bool:
		return v
	case string:
		if b, ok := parseBool(v); ok {
			return b
		}
	}
	r.fail(key, "a boolean")
	return def
}

func parseBool(s string) (value, ok bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

func (r *reader) object(m map[string]any, key string) map[string]any {
	switch v := m[key].(type) {
	case nil:
		return nil
	case map[string]any:
		return v
	default:
		r.fail(key, "an object")
		return nil
	}
}

// list reads a multi-valued complex attribute; a single object is taken as a list of one.
func (r *reader) list(m map[string]any, key string) []map[string]any {
	var items []any
	switch v := m[key].(type) {
	case nil:
		return nil
	case []any:
		items = v
	case map[string]any:
		items = []any{v}
	default:
		r.fail(key, "a list of objects")
		return nil
	}
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		obj, ok := it.(map[string]any)
		if !ok {
			r.fail(key, "a list of objects")
			return nil
		}
		out = append(out, obj)
	}
	return out
}

func (r *reader) multiValues(m map[string]any, key string) []directory.MultiValue {
	var out []directory.MultiValue
	for _, e := range r.list(m, key) {
		out = append(out, directory.MultiValue{Value: r.str(e, "value"), Type: r.str(e, "type"),
			Display: r.str(e, "display"), Primary: r.boolean(e, "primary", false)})
	}
	return out
}
