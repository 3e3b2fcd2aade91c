package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/provisioning-dev/scim-operator/internal/directory"
)

// renderUser returns the JSON form of u. base is the absolute SCIM base URL. Members come in
// a fixed order, the agency extension last; empty attributes are left out.
func (s *Server) renderUser(u *directory.User, base string) []byte {
	return s.appendUser(make([]byte, 0, 1024), u, base)
}

// appendUser appends renderUser's JSON form of u to b.
func (s *Server) appendUser(b []byte, u *directory.User, base string) []byte {
	w := jsonWriter{b: b}
	hasEnterprise := u.Enterprise != (directory.EnterpriseUser{})
	hasExt := u.Extension != (directory.Extension{})
	w.begin('{')
	w.key("schemas")
	w.begin('[')
	w.str(SchemaUser)
	if hasEnterprise {
		w.str(SchemaEnterprise)
	}
	if hasExt {
		w.str(s.extURN)
	}
	w.end(']')
	w.field("id", u.ID)
	w.optional("externalId", u.ExternalID)
	w.field("userName", u.UserName)
	if n := u.Name; n != (directory.Name{}) {
		w.key("name")
		w.begin('{')
		w.optional("formatted", n.Formatted)
		w.optional("familyName", n.FamilyName)
		w.optional("givenName", n.GivenName)
		w.optional("middleName", n.MiddleName)
		w.optional("honorificPrefix", n.HonorificPrefix)
		w.optional("honorificSuffix", n.HonorificSuffix)
		w.end('}')
	}
	w.optional("displayName", u.DisplayName)
	w.optional("nickName", u.NickName)
	w.optional("profileUrl", u.ProfileURL)
	w.optional("title", u.Title)
	w.optional("userType", u.UserType)
	w.optional("preferredLanguage", u.PreferredLanguage)
	w.optional("locale", u.Locale)
	w.optional("timezone", u.Timezone)
	w.key("active")
	w.boolean(u.Active)
	writeEmails(&w, u.Emails)
	writeMultiValues(&w, "phoneNumbers", u.PhoneNumbers)
	writeMultiValues(&w, "ims", u.IMs)
	writeMultiValues(&w, "photos", u.Photos)
	writeAddresses(&w, u.Addresses)
	if len(u.Groups) > 0 {
		w.key("groups")
		w.begin('[')
		for _, g := range u.Groups {
			writeRef(&w, base, "/Groups/", g.ID, g.DisplayName, "direct")
		}
		w.end(']')
	}
	writeMultiValues(&w, "roles", u.Roles)
	if hasEnterprise {
		writeEnterprise(&w, u.Enterprise)
	}
	writeMeta(&w, "User", base, "/Users/", u.ID, u.Meta)
	if hasExt {
		x := u.Extension
		w.rawKey(s.extKey)
		w.begin('{')
		w.optional("badgeId", x.BadgeID)
		w.optional("rankName", x.RankName)
		w.optional("evidenceGroupName", x.EvidenceGroupName)
		w.optional("userGroupName", x.UserGroupName)
		w.optional("axonRole", x.AxonRole)
		w.end('}')
	}
	w.end('}')
	return w.b
}

func writeEmails(w *jsonWriter, emails []directory.Email) {
	if len(emails) == 0 {
		return
	}
	w.key("emails")
	w.begin('[')
	for _, e := range emails {
		writeValue(w, directory.MultiValue(e))
	}
	w.end(']')
}

func writeMultiValues(w *jsonWriter, key string, values []directory.MultiValue) {
	if len(values) == 0 {
		return
	}
	w.key(key)
	w.begin('[')
	for _, v := range values {
		writeValue(w, v)
	}
	w.end(']')
}

// writeValue writes one value of a multi-valued attribute (an email is one too).
func writeValue(w *jsonWriter, v directory.MultiValue) {
	w.begin('{')
	w.field("value", v.Value)
	w.optional("type", v.Type)
	w.optional("display", v.Display)
	w.flag("primary", v.Primary)
	w.end('}')
}

func writeAddresses(w *jsonWriter, addresses []directory.Address) {
	if len(addresses) == 0 {
		return
	}
	w.key("addresses")
	w.begin('[')
	for _, a := range addresses {
		w.begin('{')
		w.optional("formatted", a.Formatted)
		w.optional("streetAddress", a.StreetAddress)
		w.optional("locality", a.Locality)
		w.optional("region", a.Region)
		w.optional("postalCode", a.PostalCode)
		w.optional("country", a.Country)
		w.optional("type", a.Type)
		w.flag("primary", a.Primary)
		w.end('}')
	}
	w.end(']')
}

func writeEnterprise(w *jsonWriter, e directory.EnterpriseUser) {
	w.key(SchemaEnterprise)
	w.begin('{')
	w.optional("employeeNumber", e.EmployeeNumber)
	w.optional("costCenter", e.CostCenter)
	w.optional("organization", e.Organization)
	w.optional("division", e.Division)
	w.optional("department", e.Department)
	if m := e.Manager; m != (directory.Manager{}) {
		w.key("manager")
		w.begin('{')
		w.optional("value", m.Value)
		w.optional("displayName", m.DisplayName)
		w.end('}')
	}
	w.end('}')
}

// writeRef writes a reference to another resource (a user's group, a group's member): its
// id, its location base + path + id, and its display name and type when known.
func writeRef(w *jsonWriter, base, path, id, display, typ string) {
	w.begin('{')
	w.field("value", id)
	w.key("$ref")
	w.concat(base, path, id)
	w.optional("display", display)
	w.optional("type", typ)
	w.end('}')
}

// writeMeta writes a resource's meta member (RFC 7643 section 3.1). The resource's location
// is base + path + id; times are RFC 3339 in UTC.
func writeMeta(w *jsonWriter, resourceType, base, path, id string, m directory.Meta) {
	w.key("meta")
	w.begin('{')
	w.field("resourceType", resourceType)
	w.key("created")
	w.time(m.Created)
	w.key("lastModified")
	w.time(m.LastModified)
	w.key("location")
	w.concat(base, path, id)
	w.key("version")
	w.etag(m.Version)
	w.end('}')
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
	u.Roles = r.multiValues(d, "roles")
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
