package directory

import (
	"testing"
)

// TestRules_StoredLookupValuesAreNotRecheckedWhenUnchanged: a rank, role or evidence group
// the agency no longer lists stays valid on the users that hold it, so Okta's PUT that
// deactivates them (which sends the rank again) is not refused; changing to an unknown value
// still is. "User", every user's default role, is valid even when the agency does not list it.
func TestRules_StoredLookupValuesAreNotRecheckedWhenUnchanged(t *testing.T) {
	stored := func() *User {
		u := oktaUser(1)
		u.Extension.RankName, u.Extension.AxonRole, u.Extension.EvidenceGroupName = "Major", "Chief", "Evidence-West"
		return &u
	}
	tests := []struct {
		name  string
		roles []string
		old   *User
		edit  func(x *Extension)
		field string // "" when the write is accepted
		want  Extension
	}{
		{name: "unchanged values the agency no longer lists", old: stored(), edit: func(x *Extension) {},
			want: Extension{RankName: "Major", AxonRole: "Chief", EvidenceGroupName: "Evidence-West"}},
		{name: "unchanged values sent in another case", old: stored(),
			edit: func(x *Extension) {
				x.RankName, x.AxonRole, x.EvidenceGroupName = "MAJOR", "chief", "evidence-west"
			},
			want: Extension{RankName: "Major", AxonRole: "Chief", EvidenceGroupName: "Evidence-West"}},
		{name: "a change to an unknown rank", old: stored(), edit: func(x *Extension) { x.RankName = "Colonel" },
			field: "rankName"},
		{name: "a change to an unknown role", old: stored(), edit: func(x *Extension) { x.AxonRole = "Mayor" },
			field: "axonRole"},
		{name: "Blank keeps a stored role the agency no longer lists", old: stored(),
			edit: func(x *Extension) { x.AxonRole = RoleBlank },
			want: Extension{RankName: "Major", AxonRole: "Chief", EvidenceGroupName: "Evidence-West"}},
		{name: "User when the agency lists no roles", roles: []string{}, old: nil,
			edit: func(x *Extension) { x.RankName, x.AxonRole, x.EvidenceGroupName = "", "user", "" },
			want: Extension{AxonRole: "User"}},
		{name: "a created user's unknown rank", old: nil, edit: func(x *Extension) { x.RankName = "Major" },
			field: "rankName"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rules := agencyRules()
			if tc.roles != nil {
				rules.Roles = tc.roles
			}
			c := compileRules(rules)
			next := oktaUser(1)
			if tc.old != nil {
				next = *cloneUser(tc.old)
			}
			tc.edit(&next.Extension)
			err := c.applyUserRules(&next, tc.old)
			if tc.field != "" {
				wantKind(t, err, KindInvalidValue, c.extField(tc.field))
				return
			}
			if err != nil {
				t.Fatalf("applyUserRules: %v", err)
			}
			got := next.Extension
			got.BadgeID = ""
			if got != tc.want {
				t.Fatalf("extension %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestUsers_MembersOfADeletedUserGroupStayWritable: a user whose userGroupName named a group
// that was then deleted was refused on every later write (user group does not exist).
func TestUsers_MembersOfADeletedUserGroupStayWritable(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		rules := agencyRules()
		rules.Roles = nil // the default role, User, is not listed
		st := open(t, rules)
		g := mustCreateGroup(t, st, Group{DisplayName: "Detectives"})
		u := oktaUser(1)
		u.Extension.UserGroupName = "Detectives"
		member := mustCreateUser(t, st, u)
		if err := st.DeleteGroup(t.Context(), g.ID); err != nil {
			t.Fatal(err)
		}
		deactivated, err := st.DeactivateUser(t.Context(), member.ID)
		if err != nil {
			t.Fatalf("deactivate: %v", err)
		}
		if deactivated.Active || deactivated.Extension.UserGroupName != "Detectives" || len(deactivated.Groups) != 0 {
			t.Fatalf("deactivated user %+v groups %+v", deactivated.Extension, deactivated.Groups)
		}
		u.Extension.UserGroupName = "Nowhere"
		_, err = st.ReplaceUser(t.Context(), member.ID, u)
		c := compileRules(rules)
		wantKind(t, err, KindInvalidValue, c.extField("userGroupName"))
	})
}
