package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestUsers_CreateStoresEveryAttributeAndStampsMeta(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		clock := newClock()
		st := open(t, agencyRules(), WithClock(clock.now))
		in := oktaUser(1)
		in.Name = Name{Formatted: "Ms. Barbara J Jensen III", FamilyName: "Jensen", GivenName: "Barbara",
			MiddleName: "Jane", HonorificPrefix: "Ms.", HonorificSuffix: "III"}
		in.NickName, in.ProfileURL, in.Title, in.UserType = "Babs", "https://login.example/bjensen", "Sergeant", "Sworn"
		in.Timezone = "America/Los_Angeles"
		in.PhoneNumbers = []MultiValue{{Value: "555-555-5555", Type: "work"}}
		in.Addresses = []Address{{StreetAddress: "100 Main St", Locality: "Springfield", Type: "work", Primary: true}}
		in.Enterprise = EnterpriseUser{EmployeeNumber: "701984", Department: "Patrol", Manager: Manager{Value: "m1"}}
		in.Extension = Extension{BadgeID: "B1", RankName: "sergeant", EvidenceGroupName: "Evidence-North",
			UserGroupName: "patrol-a", AxonRole: "Supervisor"}

		got := mustCreateUser(t, st, in)

		if got.ID == "" || got.Meta.Version != 1 || !got.Meta.Created.Equal(clock.now()) ||
			!got.Meta.LastModified.Equal(clock.now()) {
			t.Fatalf("id/meta not set: %+v %+v", got.ID, got.Meta)
		}
		read, err := st.GetUser(t.Context(), got.ID)
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		if read.Name != in.Name || read.Title != "Sergeant" || read.Timezone != in.Timezone ||
			read.Enterprise != in.Enterprise || len(read.PhoneNumbers) != 1 || len(read.Addresses) != 1 {
			t.Errorf("attributes not kept: %+v", read)
		}
		wantExt := Extension{BadgeID: "B1", RankName: "Sergeant", EvidenceGroupName: "Evidence-North",
			UserGroupName: "Patrol-A", AxonRole: "Supervisor"}
		if read.Extension != wantExt {
			t.Errorf("extension = %+v, want the agency's spelling %+v", read.Extension, wantExt)
		}
		if read.Meta != got.Meta {
			t.Errorf("meta read back %+v, created %+v", read.Meta, got.Meta)
		}
	})
}

func TestUsers_UniqueAttributesAreEnforced(t *testing.T) {
	cases := []struct {
		name      string
		change    func(u *User)
		wantField string
	}{
		{name: "userName differing only in case", wantField: "userName", change: func(u *User) {
			u.UserName = "OFFICER1@Agency.Example"
		}},
		{name: "primary email differing only in case", wantField: "emails", change: func(u *User) {
			u.Emails = []Email{{Value: "Officer1@AGENCY.example", Primary: true}}
		}},
		{name: "the same externalId", wantField: "externalId", change: func(u *User) {
			u.ExternalID = "00u000001OKTA"
		}},
	}
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		first := mustCreateUser(t, st, oktaUser(1))
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				u := oktaUser(100 + i)
				tc.change(&u)
				_, err := st.CreateUser(t.Context(), u)
				wantKind(t, err, KindUniqueness, tc.wantField)

				// A replace that takes another user's value fails the same way.
				other := mustCreateUser(t, st, oktaUser(200+i))
				_, err = st.ReplaceUser(t.Context(), other.ID, u)
				wantKind(t, err, KindUniqueness, tc.wantField)
			})
		}
		if _, err := st.ReplaceUser(t.Context(), first.ID, oktaUser(1)); err != nil {
			t.Errorf("a user keeping its own values must not conflict with itself: %v", err)
		}
	})
}

func TestUsers_ExternalIDIsCompareExactly(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		mustCreateUser(t, st, oktaUser(1))
		u := oktaUser(2)
		u.ExternalID = strings.ToLower(oktaUser(1).ExternalID)
		mustCreateUser(t, st, u)
	})
}

func TestUsers_UniquenessHoldsUnderConcurrentCreates(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		const writers = 16
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for i := range writers {
			wg.Go(func() {
				u := oktaUser(1000 + i)
				// Every writer races for the same userName, spelled differently.
				if i%2 == 0 {
					u.UserName = "Race@Agency.Example"
				} else {
					u.UserName = "race@agency.example"
				}
				_, errs[i] = st.CreateUser(context.Background(), u)
			})
		}
		wg.Wait()
		created := 0
		for _, err := range errs {
			switch {
			case err == nil:
				created++
			case KindOf(err) == KindUniqueness:
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if created != 1 {
			t.Fatalf("%d concurrent creates of one userName succeeded, want exactly 1", created)
		}
	})
}

func TestUsers_DeactivateKeepsTheUserReadable(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		u := mustCreateUser(t, st, oktaUser(1))
		got, err := st.DeactivateUser(t.Context(), u.ID)
		if err != nil {
			t.Fatalf("deactivate: %v", err)
		}
		if got.Active || got.Meta.Version != 2 {
			t.Fatalf("after deactivate: active=%v version=%d", got.Active, got.Meta.Version)
		}
		read, err := st.GetUser(t.Context(), u.ID)
		if err != nil {
			t.Fatalf("a deactivated user must stay readable: %v", err)
		}
		if read.Active || read.UserName != u.UserName {
			t.Fatalf("read back %+v", read)
		}
		c, err := st.Counts(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if c.Users != 1 || c.ActiveUsers != 0 {
			t.Fatalf("counts = %+v, want 1 user, 0 active", c)
		}
	})
}

func TestUsers_BlankRoleIsIgnoredAndNoRoleMeansUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		u := oktaUser(1)
		u.Extension.AxonRole = "Blank"
		created := mustCreateUser(t, st, u)
		if created.Extension.AxonRole != "User" {
			t.Fatalf("Blank on create gave role %q, want User", created.Extension.AxonRole)
		}
		u.Extension.AxonRole = "admin"
		updated, err := st.ReplaceUser(t.Context(), created.ID, u)
		if err != nil || updated.Extension.AxonRole != "Admin" {
			t.Fatalf("set role: %v %q", err, updated.Extension.AxonRole)
		}
		u.Extension.AxonRole = "BLANK"
		kept, err := st.ReplaceUser(t.Context(), created.ID, u)
		if err != nil || kept.Extension.AxonRole != "Admin" {
			t.Fatalf("Blank on replace must keep the role: %v %q", err, kept.Extension.AxonRole)
		}
		u.Extension.AxonRole = ""
		reset, err := st.ReplaceUser(t.Context(), created.ID, u)
		if err != nil || reset.Extension.AxonRole != "User" {
			t.Fatalf("no role on replace gave %v %q, want User", err, reset.Extension.AxonRole)
		}
	})
}

func TestUsers_LookupValuesMustExistInTheAgency(t *testing.T) {
	ext := agencyRules().ExtensionSchema
	cases := []struct {
		name      string
		ext       Extension
		wantField string
		wantValue string
	}{
		{name: "rank", ext: Extension{RankName: "General"}, wantField: ext + ":rankName", wantValue: "General"},
		{name: "role", ext: Extension{AxonRole: "Overlord"}, wantField: ext + ":axonRole", wantValue: "Overlord"},
		{name: "evidence group", ext: Extension{EvidenceGroupName: "Evidence-West"},
			wantField: ext + ":evidenceGroupName", wantValue: "Evidence-West"},
		{name: "user group", ext: Extension{UserGroupName: "Patrol-Z"}, wantField: ext + ":userGroupName",
			wantValue: "Patrol-Z"},
	}
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				u := oktaUser(1)
				badge := u.Extension.BadgeID
				u.Extension = tc.ext
				u.Extension.BadgeID = badge
				_, err := st.CreateUser(t.Context(), u)
				detail := wantKind(t, err, KindInvalidValue, tc.wantField)
				if !strings.Contains(detail, tc.wantValue) {
					t.Errorf("detail %q does not name the missing value %q", detail, tc.wantValue)
				}
			})
		}
	})
}

func TestUsers_BadgeIDAndUserNameAreRequired(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		u := oktaUser(1)
		u.Extension.BadgeID = " "
		_, err := st.CreateUser(t.Context(), u)
		wantKind(t, err, KindInvalidValue, agencyRules().ExtensionSchema+":badgeId")
		u = oktaUser(1)
		u.UserName = ""
		_, err = st.CreateUser(t.Context(), u)
		wantKind(t, err, KindInvalidValue, "userName")
	})
}

func TestUsers_UserGroupNamePutsTheUserInThatGroup(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		u := oktaUser(1)
		u.Extension.UserGroupName = "Patrol-A"
		created := mustCreateUser(t, st, u)
		if len(created.Groups) != 1 || created.Groups[0].DisplayName != "Patrol-A" {
			t.Fatalf("groups = %+v, want Patrol-A", created.Groups)
		}
		groupA := created.Groups[0].ID
		g, err := st.GetGroup(t.Context(), groupA, true)
		if err != nil || len(g.Members) != 1 || g.Members[0].Value != created.ID ||
			g.Members[0].Display != created.DisplayName || g.Members[0].Type != MemberUser {
			t.Fatalf("Patrol-A members = %+v (%v)", g, err)
		}

		u.Extension.UserGroupName = "Patrol-B"
		moved, err := st.ReplaceUser(t.Context(), created.ID, u)
		if err != nil || len(moved.Groups) != 1 || moved.Groups[0].DisplayName != "Patrol-B" {
			t.Fatalf("after moving: %+v %v", moved, err)
		}
		g, err = st.GetGroup(t.Context(), groupA, true)
		if err != nil || len(g.Members) != 0 {
			t.Fatalf("Patrol-A must be empty after the move: %+v %v", g, err)
		}
	})
}

func TestUsers_LanguageDefaults(t *testing.T) {
	cases := []struct {
		name                    string
		preferred, locale, want string
		agencyDefault           string
	}{
		{name: "preferredLanguage wins", preferred: "fr", locale: "en_US", agencyDefault: "ES_MX", want: "fr"},
		{name: "locale when no preferredLanguage", locale: "en_GB", agencyDefault: "ES_MX", want: "en_GB"},
		{name: "agency default when neither", agencyDefault: "ES_MX", want: "ES_MX"},
		{name: "EN_US when the agency sets none", want: "EN_US"},
	}
	eachBackend(t, func(t *testing.T, open opener) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rules := agencyRules()
				rules.DefaultLanguage = tc.agencyDefault
				st := open(t, rules)
				u := oktaUser(1)
				u.PreferredLanguage, u.Locale = tc.preferred, tc.locale
				got := mustCreateUser(t, st, u)
				if got.PreferredLanguage != tc.want {
					t.Fatalf("language = %q, want %q", got.PreferredLanguage, tc.want)
				}
			})
		}
	})
}

func TestUsers_ReplaceChecksVersionAndSkipsNoOps(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		clock := newClock()
		st := open(t, agencyRules(), WithClock(clock.now))
		u := oktaUser(1)
		created := mustCreateUser(t, st, u)
		clock.advance(time.Minute)

		same, err := st.ReplaceUser(t.Context(), created.ID, u, IfVersion(1))
		if err != nil || same.Meta.Version != 1 || !same.Meta.LastModified.Equal(created.Meta.LastModified) {
			t.Fatalf("an identical PUT must not change the version: %+v %v", same.Meta, err)
		}
		u.Title = "Captain"
		changed, err := st.ReplaceUser(t.Context(), created.ID, u, IfVersion(1))
		if err != nil || changed.Meta.Version != 2 || !changed.Meta.LastModified.Equal(clock.now()) {
			t.Fatalf("replace: %+v %v", changed, err)
		}
		u.Title = "Major"
		_, err = st.ReplaceUser(t.Context(), created.ID, u, IfVersion(1))
		wantKind(t, err, KindPreconditionFailed, "")
		read, _ := st.GetUser(t.Context(), created.ID)
		if read.Title != "Captain" {
			t.Fatalf("a failed precondition must not write: title %q", read.Title)
		}
		_, err = st.ReplaceUser(t.Context(), "no-such-id", u)
		wantKind(t, err, KindNotFound, "")
		_, err = st.GetUser(t.Context(), "no-such-id")
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("GetUser of a missing id: %v, want ErrNotFound", err)
		}
	})
}

func TestUsers_PatchIsAllOrNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		created := mustCreateUser(t, st, oktaUser(1))
		boom := errors.New("bad op")
		_, err := st.PatchUser(t.Context(), created.ID, func(u *User) error {
			u.Title = "Changed"
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("patch error = %v, want the mutator's", err)
		}
		patched, err := st.PatchUser(t.Context(), created.ID, func(u *User) error {
			u.ID = "attempt-to-change-id"
			u.Active = false
			u.Emails = append(u.Emails, Email{Value: "second@agency.example", Type: "home"})
			return nil
		})
		if err != nil || patched.ID != created.ID || patched.Active || len(patched.Emails) != 2 {
			t.Fatalf("patch: %+v %v", patched, err)
		}
		q := Query{Filter: mustParse(t, `emails.value eq "SECOND@agency.example"`), Count: 10}
		page, err := st.ListUsers(t.Context(), q)
		if err != nil || page.Total != 1 {
			t.Fatalf("the patched email must be filterable: %+v %v", page, err)
		}
	})
}

func TestUsers_ManyUsersCanBeCreatedConcurrently(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Go(func() {
				if _, err := st.CreateUser(context.Background(), oktaUser(i)); err != nil {
					errs <- fmt.Errorf("user %d: %w", i, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		c, err := st.Counts(t.Context())
		if err != nil || c.Users != 40 || c.ActiveUsers != 40 {
			t.Fatalf("counts %+v %v", c, err)
		}
	})
}

func TestUsers_NULCharactersAreInvalidValuesInBothStores(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		created := mustCreateUser(t, st, oktaUser(1))
		cases := []struct {
			name   string
			change func(u *User)
		}{
			{name: "userName", change: func(u *User) { u.UserName = "a\x00b" }},
			{name: "title", change: func(u *User) { u.Title = "\x00" }},
			{name: "userGroupName", change: func(u *User) { u.Extension.UserGroupName = "Patrol-A\x00" }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				u := oktaUser(2)
				tc.change(&u)
				_, err := st.CreateUser(t.Context(), u)
				wantKind(t, err, KindInvalidValue, "")
				_, err = st.ReplaceUser(t.Context(), created.ID, u)
				wantKind(t, err, KindInvalidValue, "")
			})
		}
		_, err := st.GetUser(t.Context(), "id\x00")
		wantKind(t, err, KindNotFound, "")
		g := mustCreateGroup(t, st, Group{DisplayName: "G"})
		_, err = st.PatchGroup(t.Context(), g.ID, []GroupOp{{Kind: OpReplaceMembers, Members: []string{"\x00"}}})
		wantKind(t, err, KindInvalidValue, "members")
	})
}

// TestUsers_IDsThatAreNotUTF8NameNothingInBothStores: a path like /Users/%FF reaches the store
// as an id that is not UTF-8; PostgreSQL refuses such text, and the answer must still be
// "not found" (or an invalid member), not a store failure.
func TestUsers_IDsThatAreNotUTF8NameNothingInBothStores(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		const id = "\xff\xfe"
		deactivate := func() error { _, err := st.DeactivateUser(t.Context(), id); return err }
		replace := func() error { _, err := st.ReplaceUser(t.Context(), id, oktaUser(1)); return err }
		notFound := []struct {
			name string
			call func() error
		}{
			{name: "get user", call: func() error { _, err := st.GetUser(t.Context(), id); return err }},
			{name: "replace user", call: replace},
			{name: "deactivate user", call: deactivate},
			{name: "get group", call: func() error { _, err := st.GetGroup(t.Context(), id, true); return err }},
			{name: "patch group", call: func() error { _, err := st.PatchGroup(t.Context(), id, nil); return err }},
			{name: "delete group", call: func() error { return st.DeleteGroup(t.Context(), id) }},
		}
		for _, tc := range notFound {
			t.Run(tc.name, func(t *testing.T) {
				wantKind(t, tc.call(), KindNotFound, "")
			})
		}
		g := mustCreateGroup(t, st, Group{DisplayName: "G"})
		for _, kind := range []GroupOpKind{OpAddMembers, OpReplaceMembers, OpRemoveMembers} {
			_, err := st.PatchGroup(t.Context(), g.ID, []GroupOp{{Kind: kind, Members: []string{id}}})
			wantKind(t, err, KindInvalidValue, "members")
		}
	})
}

// incompressible returns n bytes of random hex, which PostgreSQL cannot shrink to fit an index.
func incompressible(n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(strings.ReplaceAll(newID(), "-", ""))
	}
	return b.String()[:n]
}

// TestUsers_IndexedValuesOverTheLimitAreInvalidValuesInBothStores: PostgreSQL cannot index a
// value of a few kilobytes (54000, answered 500) where SQLite could, so both refuse values over
// MaxIndexedValueBytes of the attributes that filters and uniqueness use, naming the attribute.
func TestUsers_IndexedValuesOverTheLimitAreInvalidValuesInBothStores(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		g := mustCreateGroup(t, st, Group{DisplayName: "G"})
		cases := []struct {
			name  string
			field string
			write func(v string) error
		}{
			{name: "userName", field: "userName", write: func(v string) error {
				u := oktaUser(2)
				u.UserName = v
				_, err := st.CreateUser(t.Context(), u)
				return err
			}},
			{name: "externalId", field: "externalId", write: func(v string) error {
				u := oktaUser(3)
				u.ExternalID = v
				_, err := st.CreateUser(t.Context(), u)
				return err
			}},
			{name: "displayName", field: "displayName", write: func(v string) error {
				u := oktaUser(4)
				u.DisplayName = v
				_, err := st.CreateUser(t.Context(), u)
				return err
			}},
			{name: "second email", field: "emails", write: func(v string) error {
				u := oktaUser(5)
				u.Emails = append(u.Emails, Email{Value: v, Type: "home"})
				_, err := st.CreateUser(t.Context(), u)
				return err
			}},
			{name: "group displayName", field: "displayName", write: func(v string) error {
				_, err := st.CreateGroup(t.Context(), Group{DisplayName: v})
				return err
			}},
			{name: "group externalId", field: "externalId", write: func(v string) error {
				_, err := st.CreateGroup(t.Context(), Group{DisplayName: "H" + v[:8], ExternalID: v})
				return err
			}},
			{name: "group rename", field: "displayName", write: func(v string) error {
				_, err := st.PatchGroup(t.Context(), g.ID, []GroupOp{{Kind: OpSetDisplayName, Value: v}})
				return err
			}},
			{name: "group externalId patch", field: "externalId", write: func(v string) error {
				_, err := st.PatchGroup(t.Context(), g.ID, []GroupOp{{Kind: OpSetExternalID, Value: v}})
				return err
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				long := incompressible(3 * MaxIndexedValueBytes)
				detail := wantKind(t, tc.write(long), KindInvalidValue, tc.field)
				if !strings.Contains(detail, fmt.Sprint(MaxIndexedValueBytes)) {
					t.Errorf("detail %q does not give the limit", detail)
				}
				if err := tc.write(long[:MaxIndexedValueBytes]); err != nil {
					t.Fatalf("a value at the limit is refused: %v", err)
				}
			})
		}
	})
}
