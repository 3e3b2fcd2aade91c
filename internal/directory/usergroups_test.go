package directory

import (
	"strings"
	"testing"
)

// TestGroups_ConfiguredUserGroupsCannotBeDeletedOrRenamed: deleting or renaming a userGroups
// group left every user whose userGroupName named it refused on each later write (400, user
// group does not exist) until a restart recreated the group, empty.
func TestGroups_ConfiguredUserGroupsCannotBeDeletedOrRenamed(t *testing.T) {
	tests := []struct {
		name  string
		write func(t *testing.T, st Store, g *Group) error
		kind  ErrorKind // 0: the write succeeds
		field string
	}{
		{name: "delete", kind: KindConflict,
			write: func(t *testing.T, st Store, g *Group) error { return st.DeleteGroup(t.Context(), g.ID) }},
		{name: "rename by PATCH", kind: KindConflict, field: "displayName",
			write: func(t *testing.T, st Store, g *Group) error {
				_, err := st.PatchGroup(t.Context(), g.ID, []GroupOp{{Kind: OpSetDisplayName, Value: "Patrol-Z"}})
				return err
			}},
		{name: "rename by PUT", kind: KindConflict, field: "displayName",
			write: func(t *testing.T, st Store, g *Group) error {
				_, err := st.ReplaceGroup(t.Context(), g.ID, Group{DisplayName: "Patrol-Z"})
				return err
			}},
		{name: "a change of case only",
			write: func(t *testing.T, st Store, g *Group) error {
				_, err := st.PatchGroup(t.Context(), g.ID, []GroupOp{{Kind: OpSetDisplayName,
					Value: strings.ToUpper(g.DisplayName)}})
				return err
			}},
	}
	eachBackend(t, func(t *testing.T, open opener) {
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				st := open(t, agencyRules())
				u := oktaUser(400 + i)
				u.Extension.UserGroupName = "Patrol-A"
				member := mustCreateUser(t, st, u)
				g := userGroupNamed(t, st, "Patrol-A")
				err := tc.write(t, st, g)
				if tc.kind == 0 {
					if err != nil {
						t.Fatalf("write: %v", err)
					}
				} else if detail := wantKind(t, err, tc.kind, tc.field); !strings.Contains(detail, "userGroups") {
					t.Fatalf("detail %q does not say the group is a configured user group", detail)
				}
				// The member can still be written, and stays in the group.
				promote := func(u *User) error { u.Title = "Sergeant"; return nil }
				patched, err := st.PatchUser(t.Context(), member.ID, promote)
				if err != nil {
					t.Fatalf("a later write of a member: %v", err)
				}
				if len(patched.Groups) != 1 || patched.Groups[0].ID != g.ID {
					t.Fatalf("member's groups %+v, want the user group %s", patched.Groups, g.ID)
				}
			})
		}
	})
}

func userGroupNamed(t *testing.T, st Store, name string) *Group {
	t.Helper()
	page, err := st.ListGroups(t.Context(), Query{StartIndex: 1, Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := range page.Resources {
		if page.Resources[i].DisplayName == name {
			return &page.Resources[i]
		}
	}
	t.Fatalf("no group %q", name)
	return nil
}
