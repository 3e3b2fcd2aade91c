package scim

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/provisioning-dev/scim-operator/internal/directory"
)

// The types below describe a user's JSON form as struct tags, the way encoding/json would
// write it; renderUser writes the same bytes by hand, and these tests hold it to that.

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
	Roles             []directory.MultiValue `json:"roles,omitempty"`

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

type groupOut struct {
	Schemas     []string `json:"schemas"`
	ID          string   `json:"id"`
	ExternalID  string   `json:"externalId,omitempty"`
	DisplayName string   `json:"displayName"`
	Members     []refOut `json:"members,omitempty"`
	Meta        metaOut  `json:"meta"`
}

// renderGroupWithEncodingJSON is renderGroup by reflection.
func renderGroupWithEncodingJSON(t testing.TB, g *directory.Group, base string) []byte {
	t.Helper()
	out := groupOut{Schemas: []string{SchemaGroup}, ID: g.ID, ExternalID: g.ExternalID,
		DisplayName: g.DisplayName, Meta: newMeta("Group", base+"/Groups/"+g.ID, g.Meta)}
	for _, m := range g.Members {
		kind := "Users"
		if m.Type == directory.MemberGroup {
			kind = "Groups"
		}
		out.Members = append(out.Members, refOut{Value: m.Value, Ref: base + "/" + kind + "/" + m.Value,
			Display: m.Display, Type: string(m.Type)})
	}
	body, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// renderUserWithEncodingJSON is renderUser by reflection: userOut, with the agency extension
// (directory.Extension's tags) added as the last member.
func renderUserWithEncodingJSON(t testing.TB, s *Server, u *directory.User, base string) []byte {
	t.Helper()
	out := userOut{
		Schemas: []string{SchemaUser}, ID: u.ID, ExternalID: u.ExternalID, UserName: u.UserName,
		DisplayName: u.DisplayName, NickName: u.NickName, ProfileURL: u.ProfileURL, Title: u.Title,
		UserType: u.UserType, PreferredLanguage: u.PreferredLanguage, Locale: u.Locale,
		Timezone: u.Timezone, Active: u.Active, Emails: u.Emails, PhoneNumbers: u.PhoneNumbers,
		IMs: u.IMs, Photos: u.Photos, Addresses: u.Addresses, Roles: u.Roles,
		Meta: newMeta("User", base+"/Users/"+u.ID, u.Meta),
	}
	if u.Name != (directory.Name{}) {
		out.Name = &u.Name
	}
	for _, g := range u.Groups {
		out.Groups = append(out.Groups,
			refOut{Value: g.ID, Ref: base + "/Groups/" + g.ID, Display: g.DisplayName, Type: "direct"})
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
	if err != nil {
		t.Fatal(err)
	}
	if !hasExt {
		return body
	}
	ext, err := json.Marshal(u.Extension)
	if err != nil {
		t.Fatal(err)
	}
	body = append(body[:len(body)-1], ',')
	body = append(body, s.extKey...)
	body = append(body, ':')
	body = append(body, ext...)
	return append(body, '}')
}

func renderTestServer(t testing.TB) *Server {
	t.Helper()
	urn := "urn:ietf:params:scim:schemas:extension:2.0:axon"
	key, err := json.Marshal(urn)
	if err != nil {
		t.Fatal(err)
	}
	return &Server{extURN: urn, extKey: key}
}

// awkward holds every kind of character encoding/json escapes.
const awkward = "a\"b\\c\b\f\n\r\t\x00\x1f<tag>&amp; \u2028\u2029 é 日本 \xff\xfe end"

func TestRenderUser_MatchesEncodingJSON(t *testing.T) {
	s := renderTestServer(t)
	when := time.Date(2026, 12, 4, 17, 30, 0, 123456789, time.FixedZone("X", 3600))
	full := directory.User{
		ID: "5d3c8a4e", ExternalID: "00u1", UserName: "officer1@agency.example",
		Name: directory.Name{Formatted: "F", FamilyName: "Family", GivenName: "Given", MiddleName: "M",
			HonorificPrefix: "Dr", HonorificSuffix: "III"},
		DisplayName: "Given Family", NickName: "N", ProfileURL: "https://x/p?a=1&b=<2>", Title: "T",
		UserType: "Employee", PreferredLanguage: "en-US", Locale: "en-US", Timezone: "America/Chicago",
		Active:       true,
		Emails:       []directory.Email{{Value: "a@x", Type: "work", Primary: true}, {Value: "b@x", Display: "B"}},
		PhoneNumbers: []directory.MultiValue{{Value: "+1 555", Type: "mobile", Primary: true}},
		IMs:          []directory.MultiValue{{Value: "im"}},
		Photos:       []directory.MultiValue{{Value: "https://x/photo", Type: "photo", Display: "p"}},
		Addresses: []directory.Address{{Formatted: "f", StreetAddress: "1 Main", Locality: "L", Region: "R",
			PostalCode: "P", Country: "US", Type: "work", Primary: true}, {}},
		Roles: []directory.MultiValue{{Value: "Supervisor", Type: "app", Primary: true}},
		Enterprise: directory.EnterpriseUser{EmployeeNumber: "1", CostCenter: "2", Organization: "3",
			Division: "4", Department: "5", Manager: directory.Manager{Value: "m", DisplayName: "Boss"}},
		Extension: directory.Extension{BadgeID: "B1", RankName: "Officer", EvidenceGroupName: "Evidence-North",
			UserGroupName: "Patrol-A", AxonRole: "Admin"},
		Groups: []directory.GroupRef{{ID: "g1", DisplayName: "Patrol-A"}, {ID: "g2"}},
		Meta:   directory.Meta{Created: when, LastModified: when.Add(time.Hour), Version: 42},
	}
	tests := []struct {
		name string
		user directory.User
	}{
		{name: "every attribute", user: full},
		{name: "nothing but the required", user: directory.User{ID: "1", UserName: "u"}},
		{name: "only the manager of the enterprise extension",
			user: directory.User{ID: "1", UserName: "u", Enterprise: directory.EnterpriseUser{
				Manager: directory.Manager{DisplayName: "Boss"}}}},
		{name: "only a middle name", user: directory.User{ID: "1", UserName: "u",
			Name: directory.Name{MiddleName: "M"}}},
		{name: "empty lists are left out", user: directory.User{ID: "1", UserName: "u",
			Emails: []directory.Email{}, Groups: []directory.GroupRef{}}},
		{name: "characters that need escaping", user: directory.User{ID: awkward, UserName: awkward,
			Name: directory.Name{GivenName: awkward}, Emails: []directory.Email{{Value: awkward, Type: awkward}},
			Groups:    []directory.GroupRef{{ID: awkward, DisplayName: awkward}},
			Extension: directory.Extension{BadgeID: awkward}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, base := range []string{"https://scim.example/api/v2/agencies/a/scim", "http://h/<&>"} {
				want := renderUserWithEncodingJSON(t, s, &tt.user, base)
				if got := s.renderUser(&tt.user, base); !bytes.Equal(got, want) {
					t.Errorf("renderUser:\n got %s\nwant %s", got, want)
				}
			}
		})
	}
}

func TestRenderGroup_MatchesEncodingJSON(t *testing.T) {
	when := time.Date(2026, 12, 4, 17, 30, 0, 5000, time.UTC)
	tests := []struct {
		name  string
		group directory.Group
	}{
		{name: "without members", group: directory.Group{ID: "g1", DisplayName: "Patrol-A", Meta: directory.Meta{
			Created: when, LastModified: when, Version: 1}}},
		{name: "users, a group and a member of no known type", group: directory.Group{ID: "g2", ExternalID: "00g2",
			DisplayName: "K9", Members: []directory.Member{{Value: "u1", Type: directory.MemberUser, Display: "One"},
				{Value: "g1", Type: directory.MemberGroup}, {Value: "x"}}, Meta: directory.Meta{Version: 7}}},
		{name: "characters that need escaping", group: directory.Group{ID: awkward, DisplayName: awkward,
			ExternalID: awkward, Members: []directory.Member{{Value: awkward, Display: awkward, Type: "User"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := "https://scim.example/api/v2/agencies/a/scim"
			want := renderGroupWithEncodingJSON(t, &tt.group, base)
			if got := renderGroup(&tt.group, base); !bytes.Equal(got, want) {
				t.Errorf("renderGroup:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func FuzzRenderUser(f *testing.F) {
	f.Add("5d3c8a4e", "officer1@agency.example", "Given", "work", "Patrol-A", "B1", true)
	f.Add(awkward, awkward, awkward, awkward, awkward, awkward, false)
	f.Add("", "", "", "", "", "", false)
	s := renderTestServer(f)
	f.Fuzz(func(t *testing.T, id, userName, name, kind, group, badge string, flag bool) {
		u := directory.User{ID: id, UserName: userName, ExternalID: kind, Active: flag,
			Name:         directory.Name{GivenName: name, HonorificSuffix: badge},
			DisplayName:  name + userName,
			Emails:       []directory.Email{{Value: userName, Type: kind, Primary: flag}},
			PhoneNumbers: []directory.MultiValue{{Value: badge, Display: name}},
			Addresses:    []directory.Address{{Locality: name, Primary: !flag}},
			Groups:       []directory.GroupRef{{ID: group, DisplayName: name}},
			Enterprise:   directory.EnterpriseUser{Manager: directory.Manager{Value: group}},
			Extension:    directory.Extension{BadgeID: badge, AxonRole: kind},
			Meta:         directory.Meta{Version: int64(len(id))},
		}
		base := "https://scim.example/" + group
		want := renderUserWithEncodingJSON(t, s, &u, base)
		if got := s.renderUser(&u, base); !bytes.Equal(got, want) {
			t.Fatalf("renderUser:\n got %s\nwant %s", got, want)
		}
	})
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", awkward, strings.Repeat("\u2029", 3), "\xed\xa0\x80", "\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString([]byte("x"), s); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got[1:], want)
		}
	})
}

func FuzzQueryParamsGet(f *testing.F) {
	for _, s := range []string{"filter=userName+eq+%22a%22&startIndex=1&count=100", "count=1&count=2", "a;b=1&count=3",
		"count=%zz&count=4", "%63ount=5", "=1&&count", "count"} {
		f.Add(s, "count")
	}
	f.Fuzz(func(t *testing.T, raw, key string) {
		if strings.Count(raw, "&") >= 10000 {
			return // url.ParseQuery drops every parameter past its cap; queryParams has none
		}
		values, _ := url.ParseQuery(raw)
		if got, want := queryParams(raw).Get(key), values.Get(key); got != want {
			t.Fatalf("queryParams(%q).Get(%q) = %q, url.Values gives %q", raw, key, got, want)
		}
	})
}
