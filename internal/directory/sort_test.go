package directory

import "testing"

// TestList_SortByAnEmailSubAttributeOtherThanValueIsRefused: sortBy=emails.type sorted by the
// primary email's value, as if it named emails.value.
func TestList_SortByAnEmailSubAttributeOtherThanValueIsRefused(t *testing.T) {
	tests := []struct {
		name   string
		sortBy string
		ok     bool
	}{
		{name: "the attribute", sortBy: "emails", ok: true},
		{name: "its value", sortBy: "emails.value", ok: true},
		{name: "its value, URN-qualified", sortBy: "urn:ietf:params:scim:schemas:core:2.0:User:emails.VALUE", ok: true},
		{name: "its type", sortBy: "emails.type"},
		{name: "its display", sortBy: "emails.display"},
		{name: "its primary flag", sortBy: "emails.primary"},
	}
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		mustCreateUser(t, st, oktaUser(1))
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := st.ListUsers(t.Context(), Query{SortBy: tc.sortBy, Count: 10})
				if tc.ok {
					if err != nil {
						t.Fatalf("sortBy %s: %v", tc.sortBy, err)
					}
					return
				}
				wantKind(t, err, KindInvalidFilter, "sortBy")
			})
		}
	})
}
