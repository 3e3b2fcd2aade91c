package directory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

func memberValues(g *Group) []string {
	out := make([]string, 0, len(g.Members))
	for _, m := range g.Members {
		out = append(out, m.Value)
	}
	slices.Sort(out)
	return out
}

func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

func TestGroups_UserGroupsExistBeforeAnyPush(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		page, err := st.ListGroups(t.Context(), Query{SortBy: "displayName", Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, g := range page.Resources {
			got = append(got, g.DisplayName)
		}
		if !slices.Equal(got, []string{"Patrol-A", "Patrol-B"}) {
			t.Fatalf("groups after open = %v, want the rules' user groups", got)
		}
	})
}

func TestGroups_CommandHierarchyGroupsCannotBeDeleted(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		division := mustCreateGroup(t, st, Group{DisplayName: "patrol division"})
		err := st.DeleteGroup(t.Context(), division.ID)
		wantKind(t, err, KindConflict, "")
		if _, err := st.GetGroup(t.Context(), division.ID, false); err != nil {
			t.Fatalf("the protected group must still exist: %v", err)
		}
		_, err = st.PatchGroup(t.Context(), division.ID, []GroupOp{{Kind: OpSetDisplayName, Value: "Renamed"}})
		wantKind(t, err, KindConflict, "displayName")

		other := mustCreateGroup(t, st, Group{DisplayName: "Traffic"})
		if err := st.DeleteGroup(t.Context(), other.ID); err != nil {
			t.Fatalf("delete an ordinary group: %v", err)
		}
		_, err = st.GetGroup(t.Context(), other.ID, false)
		wantKind(t, err, KindNotFound, "")
		wantKind(t, st.DeleteGroup(t.Context(), other.ID), KindNotFound, "")
	})
}

func TestGroups_MembershipByEveryPatchForm(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		a := mustCreateUser(t, st, oktaUser(1)).ID
		b := mustCreateUser(t, st, oktaUser(2)).ID
		c := mustCreateUser(t, st, oktaUser(3)).ID
		g := mustCreateGroup(t, st, Group{DisplayName: "Detectives", Members: []Member{}})

		steps := []struct {
			name        string
			ops         []GroupOp
			want        []string
			wantVersion int64
		}{
			{name: "add", ops: []GroupOp{{Kind: OpAddMembers, Members: []string{a, b}}},
				want: sorted(a, b), wantVersion: 2},
			{name: "add again changes nothing", ops: []GroupOp{{Kind: OpAddMembers, Members: []string{a}}},
				want: sorted(a, b), wantVersion: 2},
			{name: "remove by value filter", ops: []GroupOp{{Kind: OpRemoveMembersMatching,
				Filter: mustParse(t, `value eq "`+a+`"`)}}, want: sorted(b), wantVersion: 3},
			{name: "replace", ops: []GroupOp{{Kind: OpReplaceMembers, Members: []string{a, c}}},
				want: sorted(a, c), wantVersion: 4},
			{name: "remove by id", ops: []GroupOp{{Kind: OpRemoveMembers, Members: []string{c}}},
				want: sorted(a), wantVersion: 5},
			{name: "replace with an empty list", ops: []GroupOp{{Kind: OpReplaceMembers}},
				want: []string{}, wantVersion: 6},
			{name: "path-less replace carrying id and displayName", ops: []GroupOp{
				{Kind: OpSetDisplayName, Value: "Detectives Unit"}, {Kind: OpAddMembers, Members: []string{b, c}},
				{Kind: OpRemoveAllMembers}, {Kind: OpAddMembers, Members: []string{c}},
			}, want: sorted(c), wantVersion: 7},
		}
		for _, step := range steps {
			t.Run(step.name, func(t *testing.T) {
				patched, err := st.PatchGroup(t.Context(), g.ID, step.ops)
				if err != nil {
					t.Fatalf("patch: %v", err)
				}
				if patched.Members != nil {
					t.Errorf("PatchGroup must not load members")
				}
				read, err := st.GetGroup(t.Context(), g.ID, true)
				if err != nil {
					t.Fatal(err)
				}
				if got := memberValues(read); !slices.Equal(got, step.want) {
					t.Errorf("members = %v, want %v", got, step.want)
				}
				if read.Meta.Version != step.wantVersion {
					t.Errorf("version = %d, want %d", read.Meta.Version, step.wantVersion)
				}
			})
		}
		read, _ := st.GetGroup(t.Context(), g.ID, false)
		if read.DisplayName != "Detectives Unit" {
			t.Errorf("rename lost: %q", read.DisplayName)
		}
		_, err := st.PatchGroup(t.Context(), g.ID, []GroupOp{
			{Kind: OpAddMembers, Members: []string{a}},
			{Kind: OpAddMembers, Members: []string{"not-a-member-id"}},
		})
		detail := wantKind(t, err, KindInvalidValue, "members")
		if want := "not-a-member-id"; !strings.Contains(detail, want) {
			t.Errorf("detail %q does not name %q", detail, want)
		}
		read, _ = st.GetGroup(t.Context(), g.ID, true)
		if got := memberValues(read); !slices.Equal(got, sorted(c)) {
			t.Errorf("a failed PATCH must change nothing; members = %v", got)
		}
		user, _ := st.GetUser(t.Context(), c)
		if len(user.Groups) != 1 || user.Groups[0].ID != g.ID {
			t.Errorf("the user's groups = %+v", user.Groups)
		}
	})
}

func TestGroups_ReplaceSetsNameExternalIDAndMembers(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		a := mustCreateUser(t, st, oktaUser(1)).ID
		b := mustCreateUser(t, st, oktaUser(2)).ID
		g := mustCreateGroup(t, st, Group{DisplayName: "K9", ExternalID: "00g1", Members: []Member{{Value: a}}})
		got, err := st.ReplaceGroup(t.Context(), g.ID, Group{DisplayName: "K9 Unit", ExternalID: "00g2",
			Members: []Member{{Value: b}, {Value: b}}}, IfVersion(1))
		if err != nil {
			t.Fatal(err)
		}
		if got.DisplayName != "K9 Unit" || got.ExternalID != "00g2" || !slices.Equal(memberValues(got), []string{b}) ||
			got.Meta.Version != 2 {
			t.Fatalf("replaced group = %+v", got)
		}
		_, err = st.ReplaceGroup(t.Context(), g.ID, Group{DisplayName: "K9"}, IfVersion(1))
		wantKind(t, err, KindPreconditionFailed, "")
	})
}

func TestGroups_DisplayNameAndExternalIDAreUnique(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		mustCreateGroup(t, st, Group{DisplayName: "SWAT", ExternalID: "00gA"})
		_, err := st.CreateGroup(t.Context(), Group{DisplayName: "swat"})
		wantKind(t, err, KindUniqueness, "displayName")
		_, err = st.CreateGroup(t.Context(), Group{DisplayName: "Other", ExternalID: "00gA"})
		wantKind(t, err, KindUniqueness, "externalId")
		_, err = st.CreateGroup(t.Context(), Group{DisplayName: " "})
		wantKind(t, err, KindInvalidValue, "displayName")
	})
}

func TestGroups_ListLoadsMembersOnlyWhenAsked(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		a := mustCreateUser(t, st, oktaUser(1)).ID
		mustCreateGroup(t, st, Group{DisplayName: "Dispatch", Members: []Member{{Value: a}}})
		q := Query{Filter: mustParse(t, `displayName eq "DISPATCH"`), Count: 10}
		page, err := st.ListGroups(t.Context(), q)
		if err != nil || page.Total != 1 || page.Resources[0].Members != nil {
			t.Fatalf("without members: %+v %v", page, err)
		}
		q.WithMembers = true
		page, err = st.ListGroups(t.Context(), q)
		if err != nil || len(page.Resources[0].Members) != 1 {
			t.Fatalf("with members: %+v %v", page, err)
		}
		page, err = st.ListGroups(t.Context(), Query{Filter: mustParse(t, `members[value eq "`+a+`"]`), Count: 10})
		if err != nil || page.Total != 1 || page.Resources[0].DisplayName != "Dispatch" {
			t.Fatalf("filter by member: %+v %v", page, err)
		}
	})
}

func TestGroups_GroupsCanBeMembers(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		inner := mustCreateGroup(t, st, Group{DisplayName: "Inner"})
		outer := mustCreateGroup(t, st, Group{DisplayName: "Outer", Members: []Member{{Value: inner.ID}}})
		if len(outer.Members) != 1 || outer.Members[0].Type != MemberGroup || outer.Members[0].Display != "Inner" {
			t.Fatalf("members = %+v", outer.Members)
		}
		_, err := st.PatchGroup(t.Context(), outer.ID, []GroupOp{{Kind: OpAddMembers, Members: []string{outer.ID}}})
		wantKind(t, err, KindInvalidValue, "members")
		if err := st.DeleteGroup(t.Context(), inner.ID); err != nil {
			t.Fatal(err)
		}
		read, _ := st.GetGroup(t.Context(), outer.ID, true)
		if len(read.Members) != 0 {
			t.Fatalf("a deleted group must leave the groups it was in: %+v", read.Members)
		}
	})
}

// TestGroups_UserGroupsHaveOneOrderOnEveryRead: a user's groups come in the same order from a
// lookup, a GET and a write's answer, on both stores whatever PostgreSQL's collation: by
// lowercase name byte by byte (display names are unique regardless of case).
func TestGroups_UserGroupsHaveOneOrderOnEveryRead(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		u := mustCreateUser(t, st, oktaUser(1))
		names := []string{"squada", "beta", "Squad-C", "Zulu", "alpha", "squad-a", "Évidence", "_desk"}
		for _, n := range names {
			mustCreateGroup(t, st, Group{DisplayName: n, Members: []Member{{Value: u.ID}}})
		}
		want := []string{"_desk", "alpha", "beta", "squad-a", "Squad-C", "squada", "Zulu", "Évidence"}
		groupNames := func(how string, u *User) {
			t.Helper()
			var got []string
			for _, g := range u.Groups {
				got = append(got, g.DisplayName)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: groups %q, want %q", how, got, want)
			}
		}
		ctx := t.Context()
		got, err := st.GetUser(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		groupNames("GetUser", got)
		page, err := st.ListUsers(ctx, Query{Filter: mustParse(t, `userName eq "officer1@agency.example"`),
			StartIndex: 1, Count: 10, WithMembers: true})
		if err != nil || len(page.Resources) != 1 {
			t.Fatalf("lookup: %+v, %v", page, err)
		}
		groupNames("ListUsers", &page.Resources[0])
		got.Title = "Sergeant"
		replaced, err := st.ReplaceUser(ctx, u.ID, *got)
		if err != nil {
			t.Fatal(err)
		}
		groupNames("ReplaceUser", replaced)
	})
}

// TestGroups_UserGroupMovesAndGroupWritesRunConcurrently moves users between their user groups
// while the same groups' members are replaced, added and removed, as Okta does through several
// replicas: every write succeeds (PostgreSQL found deadlocks when a user's write locked
// the membership row before the group's row and a group's write the other way round).
func TestGroups_UserGroupMovesAndGroupWritesRunConcurrently(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		groupID := func(name string) string {
			page, err := st.ListGroups(t.Context(), Query{Filter: mustParse(t, `displayName eq "`+name+`"`), Count: 1})
			if err != nil || len(page.Resources) != 1 {
				t.Fatalf("find group %s: %+v %v", name, page, err)
			}
			return page.Resources[0].ID
		}
		groupA, groupB := groupID("Patrol-A"), groupID("Patrol-B")
		users := make([]User, 8)
		members := make([]Member, len(users))
		for i := range users {
			u := oktaUser(i)
			u.Extension.UserGroupName = "Patrol-A"
			users[i] = *mustCreateUser(t, st, u)
			members[i] = Member{Value: users[i].ID}
		}
		for round := range 6 {
			var wg sync.WaitGroup
			errs := make(chan error, 3*len(users))
			for i, u := range users {
				wg.Go(func() {
					next := oktaUser(i)
					// Half the users move A to B while the other half move B to A.
					next.Extension.UserGroupName = []string{"Patrol-A", "Patrol-B"}[(round+i)%2]
					if _, err := st.ReplaceUser(context.Background(), u.ID, next); err != nil {
						errs <- fmt.Errorf("move user %d: %w", i, err)
					}
				})
				wg.Go(func() {
					g := Group{DisplayName: "Patrol-A", Members: members}
					if _, err := st.ReplaceGroup(context.Background(), groupA, g); err != nil {
						errs <- fmt.Errorf("replace Patrol-A: %w", err)
					}
				})
				wg.Go(func() {
					op := GroupOp{Kind: OpAddMembers, Members: []string{u.ID}}
					if round%2 == 1 {
						op.Kind = OpRemoveMembers
					}
					if _, err := st.PatchGroup(context.Background(), groupB, []GroupOp{op}); err != nil {
						errs <- fmt.Errorf("patch Patrol-B: %w", err)
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("round %d: %v", round, err)
			}
		}
	})
}

// TestGroups_AGroupDeletedWhileAddedAsAMemberLeavesNoMember races the deletion of a group with
// its addition to another group: whichever wins, the other group must not keep a member that
// no longer exists (on PostgreSQL the deletion could not see the uncommitted addition, and the
// dangling member then made every PUT of the group's own member list fail).
func TestGroups_AGroupDeletedWhileAddedAsAMemberLeavesNoMember(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		parent := mustCreateGroup(t, st, Group{DisplayName: "Parent"})
		for i := range 20 {
			child := mustCreateGroup(t, st, Group{DisplayName: fmt.Sprintf("Child %d", i)})
			var wg sync.WaitGroup
			var addErr, deleteErr error
			wg.Go(func() {
				_, addErr = st.PatchGroup(context.Background(), parent.ID,
					[]GroupOp{{Kind: OpAddMembers, Members: []string{child.ID}}})
			})
			wg.Go(func() { deleteErr = st.DeleteGroup(context.Background(), child.ID) })
			wg.Wait()
			if deleteErr != nil {
				t.Fatalf("delete child %d: %v", i, deleteErr)
			}
			if addErr != nil && KindOf(addErr) != KindInvalidValue {
				t.Fatalf("add child %d: %v", i, addErr)
			}
			got, err := st.GetGroup(t.Context(), parent.ID, true)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(memberValues(got), child.ID) {
				t.Fatalf("deleted group %d is still a member of another group", i)
			}
		}
	})
}

// TestGroups_GroupsAddedToEachOtherAtOnceBothSucceed: two groups added to each other at once,
// through two replicas, both succeed as they do one after the other (each write holds its
// group's row while it looks the other up; on PostgreSQL the two locks must not conflict).
func TestGroups_GroupsAddedToEachOtherAtOnceBothSucceed(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		for i := range 10 {
			a := mustCreateGroup(t, st, Group{DisplayName: fmt.Sprintf("A %d", i)})
			b := mustCreateGroup(t, st, Group{DisplayName: fmt.Sprintf("B %d", i)})
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for j, pair := range [][2]string{{a.ID, b.ID}, {b.ID, a.ID}} {
				wg.Go(func() {
					_, errs[j] = st.PatchGroup(context.Background(), pair[0],
						[]GroupOp{{Kind: OpAddMembers, Members: []string{pair[1]}}})
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatalf("round %d: %v", i, err)
				}
			}
		}
	})
}
