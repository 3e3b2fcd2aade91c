package directory

import (
	"fmt"
	"testing"
)

// TestUsers_ValuesWithoutAValueAreDropped: an entry left without a value (Entra removing
// phoneNumbers[type eq "fax"].value) used to be stored and read back as "value": "".
func TestUsers_ValuesWithoutAValueAreDropped(t *testing.T) {
	kept := MultiValue{Value: "+1 555", Type: "mobile"}
	empty := []MultiValue{{Type: "fax"}, {Value: " ", Type: "work"}}
	tests := []struct {
		name string
		set  func(u *User, v []MultiValue)
		get  func(u *User) []MultiValue
	}{
		{name: "phoneNumbers", set: func(u *User, v []MultiValue) { u.PhoneNumbers = v },
			get: func(u *User) []MultiValue { return u.PhoneNumbers }},
		{name: "ims", set: func(u *User, v []MultiValue) { u.IMs = v },
			get: func(u *User) []MultiValue { return u.IMs }},
		{name: "photos", set: func(u *User, v []MultiValue) { u.Photos = v },
			get: func(u *User) []MultiValue { return u.Photos }},
		{name: "roles", set: func(u *User, v []MultiValue) { u.Roles = v },
			get: func(u *User) []MultiValue { return u.Roles }},
	}
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		for i, tc := range tests {
			t.Run(tc.name+" on create", func(t *testing.T) {
				u := oktaUser(300 + i)
				tc.set(&u, append([]MultiValue{kept}, empty...))
				created := mustCreateUser(t, st, u)
				read, err := st.GetUser(t.Context(), created.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, got := range [][]MultiValue{tc.get(created), tc.get(read)} {
					if fmt.Sprint(got) != fmt.Sprint([]MultiValue{kept}) {
						t.Fatalf("%s = %+v, want only %+v", tc.name, got, kept)
					}
				}
			})
			t.Run(tc.name+" on patch", func(t *testing.T) {
				created := mustCreateUser(t, st, oktaUser(310+i))
				patched, err := st.PatchUser(t.Context(), created.ID, func(u *User) error {
					tc.set(u, empty)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if got := tc.get(patched); len(got) != 0 {
					t.Fatalf("%s = %+v, want none", tc.name, got)
				}
			})
		}
	})
}
