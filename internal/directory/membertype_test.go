package directory

import (
	"testing"
)

// TestGroups_MemberTypeIsComparedCaseInsensitively: members.type is not case-exact (RFC 7643
// section 8.7.1), but members[type eq "user"] matched nothing, in a list filter and in a PATCH
// remove.
func TestGroups_MemberTypeIsComparedCaseInsensitively(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		want   int
	}{
		{name: "canonical spelling", filter: `members[type eq "User"]`, want: 1},
		{name: "lower case", filter: `members[type eq "user"]`, want: 1},
		{name: "dotted, upper case", filter: `members.type eq "GROUP"`, want: 1},
		{name: "starts with", filter: `members[type sw "us"]`, want: 1},
		{name: "no such type", filter: `members[type eq "robot"]`, want: 0},
	}
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		u := mustCreateUser(t, st, oktaUser(1))
		inner := mustCreateGroup(t, st, Group{DisplayName: "Inner"})
		mustCreateGroup(t, st, Group{DisplayName: "Users", Members: []Member{{Value: u.ID}}})
		outer := mustCreateGroup(t, st, Group{DisplayName: "Outer", Members: []Member{{Value: inner.ID}}})
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				page, err := st.ListGroups(t.Context(), Query{Filter: mustParse(t, tc.filter), Count: 10})
				if err != nil {
					t.Fatal(err)
				}
				if page.Total != tc.want {
					t.Fatalf("%s: %d groups, want %d", tc.filter, page.Total, tc.want)
				}
			})
		}
		t.Run("PATCH remove members[type eq \"group\"]", func(t *testing.T) {
			f := mustParse(t, `type eq "group"`)
			g, err := st.PatchGroup(t.Context(), outer.ID, []GroupOp{{Kind: OpRemoveMembersMatching, Filter: f}})
			if err != nil {
				t.Fatal(err)
			}
			if g.Meta.Version != 2 {
				t.Fatalf("the group member was not removed: version %d", g.Meta.Version)
			}
		})
	})
}
