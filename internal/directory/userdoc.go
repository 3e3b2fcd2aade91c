package directory

import (
	"encoding/json"
	"unicode/utf8"
)

// decodeUserDoc reads a stored user document (written by encodeUser) into u. Every read of a
// user decodes one, so the common form, which encoding/json writes, is read here without
// reflection and without copying strings out of doc. Anything else (escaped strings, nulls,
// keys in another case, documents from a future version) is handed to encoding/json, so the
// result is always what json.Unmarshal gives.
func decodeUserDoc(doc string, u *User) error {
	if readUserDoc(doc, u) {
		return nil
	}
	return json.Unmarshal([]byte(doc), u)
}

// readUserDoc is decodeUserDoc's own reader; it leaves u alone and reports false when doc is
// not in the form it reads.
func readUserDoc(doc string, u *User) bool {
	d := docReader{s: doc}
	read := *u
	if !d.user(&read) || !d.end() {
		return false
	}
	*u = read
	return true
}

// docReader is a cursor over a JSON document. Its methods report false on anything outside
// the form encodeUser writes, and the caller falls back to encoding/json.
type docReader struct {
	s string
	i int
}

func (d *docReader) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// byte consumes c, after white space.
func (d *docReader) byte(c byte) bool {
	d.space()
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *docReader) end() bool {
	d.space()
	return d.i == len(d.s)
}

// str reads a string without escapes; it shares memory with the document.
func (d *docReader) str() (string, bool) {
	if !d.byte('"') {
		return "", false
	}
	start := d.i
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			v := d.s[start:d.i]
			d.i++
			// encoding/json replaces invalid UTF-8; leave that to it.
			return v, utf8.ValidString(v)
		case c == '\\' || c < 0x20:
			return "", false
		}
		d.i++
	}
	return "", false
}

func (d *docReader) boolean() (bool, bool) {
	d.space()
	switch {
	case len(d.s)-d.i >= 4 && d.s[d.i:d.i+4] == "true":
		d.i += 4
		return true, true
	case len(d.s)-d.i >= 5 && d.s[d.i:d.i+5] == "false":
		d.i += 5
		return false, true
	}
	return false, false
}

// object reads an object, calling member for each key with the cursor at its value.
func (d *docReader) object(member func(key string) bool) bool {
	if !d.byte('{') {
		return false
	}
	if d.byte('}') {
		return true
	}
	for {
		key, ok := d.str()
		if !ok || !d.byte(':') || !member(key) {
			return false
		}
		if d.byte('}') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

// array reads an array, calling elem for each element with the cursor at it.
func (d *docReader) array(elem func() bool) bool {
	if !d.byte('[') {
		return false
	}
	if d.byte(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.byte(']') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

// into reads a string into *p.
func (d *docReader) into(p *string) bool {
	v, ok := d.str()
	*p = v
	return ok
}

func (d *docReader) user(u *User) bool {
	return d.object(func(key string) bool {
		if p := userText(u, key); p != nil {
			return d.into(p)
		}
		switch key {
		case "name":
			return d.name(&u.Name)
		case "active":
			var ok bool
			u.Active, ok = d.boolean()
			return ok
		case "emails":
			return d.emails(&u.Emails)
		case "phoneNumbers":
			return d.multiValues(&u.PhoneNumbers)
		case "ims":
			return d.multiValues(&u.IMs)
		case "photos":
			return d.multiValues(&u.Photos)
		case "addresses":
			return d.addresses(&u.Addresses)
		case "roles":
			return d.multiValues(&u.Roles)
		case "enterprise":
			return d.enterprise(&u.Enterprise)
		case "extension":
			return d.extension(&u.Extension)
		}
		return false
	})
}

// userText is the string attribute of u stored under key, or nil.
func userText(u *User, key string) *string {
	switch key {
	case "id":
		return &u.ID
	case "externalId":
		return &u.ExternalID
	case "userName":
		return &u.UserName
	case "displayName":
		return &u.DisplayName
	case "nickName":
		return &u.NickName
	case "profileUrl":
		return &u.ProfileURL
	case "title":
		return &u.Title
	case "userType":
		return &u.UserType
	case "preferredLanguage":
		return &u.PreferredLanguage
	case "locale":
		return &u.Locale
	case "timezone":
		return &u.Timezone
	}
	return nil
}

func (d *docReader) name(n *Name) bool {
	return d.object(func(key string) bool {
		switch key {
		case "formatted":
			return d.into(&n.Formatted)
		case "familyName":
			return d.into(&n.FamilyName)
		case "givenName":
			return d.into(&n.GivenName)
		case "middleName":
			return d.into(&n.MiddleName)
		case "honorificPrefix":
			return d.into(&n.HonorificPrefix)
		case "honorificSuffix":
			return d.into(&n.HonorificSuffix)
		}
		return false
	})
}

// value reads the members an email and the other multi-valued attributes share.
func (d *docReader) value(key string, value, typ, display *string, primary *bool) bool {
	switch key {
	case "value":
		return d.into(value)
	case "type":
		return d.into(typ)
	case "display":
		return d.into(display)
	case "primary":
		var ok bool
		*primary, ok = d.boolean()
		return ok
	}
	return false
}

// readList reads an array whose elements elem reads into a new T each. An empty array gives an
// empty, non-nil slice, as encoding/json does.
func readList[T any](d *docReader, out *[]T, elem func(*T) bool) bool {
	items := []T{}
	ok := d.array(func() bool {
		var v T
		if !elem(&v) {
			return false
		}
		items = append(items, v)
		return true
	})
	*out = items
	return ok
}

func (d *docReader) emails(out *[]Email) bool {
	return readList(d, out, func(e *Email) bool {
		return d.object(func(key string) bool { return d.value(key, &e.Value, &e.Type, &e.Display, &e.Primary) })
	})
}

func (d *docReader) multiValues(out *[]MultiValue) bool {
	return readList(d, out, func(m *MultiValue) bool {
		return d.object(func(key string) bool { return d.value(key, &m.Value, &m.Type, &m.Display, &m.Primary) })
	})
}

func (d *docReader) addresses(out *[]Address) bool {
	return readList(d, out, func(a *Address) bool {
		return d.object(func(key string) bool {
			switch key {
			case "formatted":
				return d.into(&a.Formatted)
			case "streetAddress":
				return d.into(&a.StreetAddress)
			case "locality":
				return d.into(&a.Locality)
			case "region":
				return d.into(&a.Region)
			case "postalCode":
				return d.into(&a.PostalCode)
			case "country":
				return d.into(&a.Country)
			case "type":
				return d.into(&a.Type)
			case "primary":
				var ok bool
				a.Primary, ok = d.boolean()
				return ok
			}
			return false
		})
	})
}

func (d *docReader) enterprise(e *EnterpriseUser) bool {
	return d.object(func(key string) bool {
		switch key {
		case "employeeNumber":
			return d.into(&e.EmployeeNumber)
		case "costCenter":
			return d.into(&e.CostCenter)
		case "organization":
			return d.into(&e.Organization)
		case "division":
			return d.into(&e.Division)
		case "department":
			return d.into(&e.Department)
		case "manager":
			return d.object(func(key string) bool {
				switch key {
				case "value":
					return d.into(&e.Manager.Value)
				case "displayName":
					return d.into(&e.Manager.DisplayName)
				}
				return false
			})
		}
		return false
	})
}

func (d *docReader) extension(x *Extension) bool {
	return d.object(func(key string) bool {
		switch key {
		case "badgeId":
			return d.into(&x.BadgeID)
		case "rankName":
			return d.into(&x.RankName)
		case "evidenceGroupName":
			return d.into(&x.EvidenceGroupName)
		case "userGroupName":
			return d.into(&x.UserGroupName)
		case "axonRole":
			return d.into(&x.AxonRole)
		}
		return false
	})
}

// integer reads a non-negative integer of at most 18 digits.
func (d *docReader) integer(p *int64) bool {
	d.space()
	start := d.i
	var v int64
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' && d.i-start < 18 {
		v = v*10 + int64(d.s[d.i]-'0')
		d.i++
	}
	*p = v
	return d.i > start
}
