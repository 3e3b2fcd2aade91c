package directory

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// fullUser sets every attribute a stored document holds.
func fullUser() User {
	return User{
		ExternalID: "00u1", UserName: "officer1@agency.example",
		Name: Name{Formatted: "F", FamilyName: "Family", GivenName: "Given", MiddleName: "M",
			HonorificPrefix: "Dr", HonorificSuffix: "III"},
		DisplayName: "Given Family", NickName: "N", ProfileURL: "https://x/p?a=1", Title: "T",
		UserType: "Employee", PreferredLanguage: "en-US", Locale: "en-US", Timezone: "America/Chicago",
		Emails:       []Email{{Value: "a@x", Type: "work", Primary: true}, {Value: "b@x", Display: "B"}},
		PhoneNumbers: []MultiValue{{Value: "+1 555", Type: "mobile", Primary: true}},
		IMs:          []MultiValue{{Value: "im"}},
		Photos:       []MultiValue{{Value: "https://x/photo", Type: "photo", Display: "p"}},
		Addresses: []Address{{Formatted: "f", StreetAddress: "1 Main", Locality: "L", Region: "R",
			PostalCode: "P", Country: "US", Type: "work", Primary: true}, {}},
		Roles: []MultiValue{{Value: "Supervisor", Type: "app", Primary: true}},
		Enterprise: EnterpriseUser{EmployeeNumber: "1", CostCenter: "2", Organization: "3",
			Division: "4", Department: "5", Manager: Manager{Value: "m", DisplayName: "Boss"}},
		Extension: Extension{BadgeID: "B1", RankName: "Officer", EvidenceGroupName: "Evidence-North",
			UserGroupName: "Patrol-A", AxonRole: "Admin"},
	}
}

// decodeBoth decodes doc with decodeUserDoc and with json.Unmarshal, into users that start as
// scanUser's do, and fails unless both agree.
func decodeBoth(t *testing.T, doc string) {
	t.Helper()
	start := User{ID: "kept", Meta: Meta{Version: 7}}
	want, got := start, start
	wantErr := json.Unmarshal([]byte(doc), &want)
	gotErr := decodeUserDoc(doc, &got)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("decodeUserDoc(%q) error %v, json.Unmarshal error %v", doc, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeUserDoc(%q):\n got %#v\nwant %#v", doc, got, want)
	}
}

func TestDecodeUserDoc_ReadsWhatEncodeUserWrites(t *testing.T) {
	tests := []struct {
		name string
		user User
		// own says the document is read without encoding/json.
		own bool
	}{
		{name: "every attribute", user: fullUser(), own: true},
		{name: "an Okta user", user: oktaUser(3), own: true},
		{name: "nothing set", user: User{}, own: true},
		{name: "accents and other scripts", user: User{UserName: "josé@x", DisplayName: "日本"}, own: true},
		{name: "characters encoding/json escapes", user: User{UserName: `a"b<c>&d`, DisplayName: "tab\there"}},
		{name: "a line separator", user: User{Title: "a\u2028b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := encodeUser(&tt.user)
			if err != nil {
				t.Fatal(err)
			}
			decodeBoth(t, string(doc))
			var u User
			if own := readUserDoc(string(doc), &u); own != tt.own {
				t.Errorf("read without encoding/json = %v, want %v (%s)", own, tt.own, doc)
			}
		})
	}
}

func TestDecodeUserDoc_AgreesWithEncodingJSON(t *testing.T) {
	docs := map[string]string{
		"white space":          ` { "userName" : "u" , "emails" : [ { "value" : "a" } ] } `,
		"empty lists":          `{"emails":[],"addresses":[],"ims":[]}`,
		"null":                 `{"userName":null,"emails":null}`,
		"key in another case":  `{"USERNAME":"u","Name":{"GIVENNAME":"g"}}`,
		"unknown key":          `{"userName":"u","password":"p"}`,
		"repeated key":         `{"userName":"a","userName":"b","name":{"givenName":"g"},"name":{"familyName":"f"}}`,
		"invalid UTF-8":        "{\"userName\":\"\xff\"}",
		"escaped":              `{"userName":"\u00e9\n"}`,
		"number for a string":  `{"userName":1}`,
		"string for a boolean": `{"active":"true"}`,
		"truncated":            `{"userName":"u"`,
		"trailing data":        `{"userName":"u"} x`,
		"not an object":        `[]`,
		"empty":                ``,
		"control character":    "{\"userName\":\"a\x01\"}",
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) { decodeBoth(t, doc) })
	}
}

func FuzzDecodeUserDoc(f *testing.F) {
	for _, u := range []User{fullUser(), oktaUser(1), {}} {
		doc, err := encodeUser(&u)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(doc))
	}
	f.Add(`{"emails":[{"value":"a","primary":true},{"type":"x"}],"active":false}`)
	f.Fuzz(decodeBoth)
}

func TestDecodeGroupRefs_SortsByNameThenCreation(t *testing.T) {
	tests := []struct {
		name, column string
		want         []GroupRef
	}{
		{name: "none", column: "[]"},
		{name: "SQLite's form", column: `[[3,"c","beta"],[2,"b","Alpha"],[1,"a","alpha"]]`,
			want: []GroupRef{{ID: "a", DisplayName: "alpha"}, {ID: "b", DisplayName: "Alpha"},
				{ID: "c", DisplayName: "beta"}}},
		{name: "PostgreSQL's form", column: `[[12, "x", "Zed"], [4, "y", "\u00e9t\u00e9"], [10, "z", "Zed"]]`,
			want: []GroupRef{{ID: "z", DisplayName: "Zed"}, {ID: "x", DisplayName: "Zed"},
				{ID: "y", DisplayName: "été"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeGroupRefs(tt.column)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decodeGroupRefs(%s) = %v, want %v", tt.column, got, tt.want)
			}
		})
	}
	if _, err := decodeGroupRefs(`[[1,"a"`); err == nil {
		t.Error("decodeGroupRefs accepted a truncated column")
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-12-04T17:30:00.123456Z", "2026-02-29T00:00:00.000000Z",
		"2024-02-29T23:59:59.999999Z", "0000-01-01T00:00:00.000000Z", "2026-13-01T00:00:00.000000Z",
		"2026-04-31T00:00:00.000000Z",
		"2026-12-04T24:00:00.000000Z", "2026-12-04 17:30:00.123456Z", "2026-12-04T17:30:00Z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, wantErr := time.Parse(timeFormat, s)
		got, gotErr := parseTime(s)
		if (gotErr == nil) != (wantErr == nil) || !got.Equal(want) || got.Location() != want.Location() {
			t.Fatalf("parseTime(%q) = %v, %v; time.Parse gives %v, %v", s, got, gotErr, want, wantErr)
		}
	})
}
