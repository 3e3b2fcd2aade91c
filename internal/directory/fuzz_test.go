package directory

import (
	"context"
	"testing"

	"github.com/provisioning-dev/scim-operator/internal/filter"
)

// FuzzListUsersFilter runs every filter the parser accepts, and any sortBy, against a small
// directory on each backend: the store answers or says the filter is invalid, and never fails
// with a database error (which the HTTP layer would answer with 500).
func FuzzListUsersFilter(f *testing.F) {
	seeds := []struct{ filter, sortBy string }{
		{`userName eq "officer1@agency.example"`, ""},
		{`emails[type eq "work" and value co "agency"] or not (active eq false)`, "emails"},
		{`urn:ietf:params:scim:schemas:extension:2.0:axon:rankName sw "s"`, "name.familyName"},
		{`meta.created ge "2026-01-01T00:00:00Z" and groups.display eq "Patrol-A"`, "meta.lastModified"},
		{`externalId ew "OKTA" and title eq null`, "urn:ietf:params:scim:schemas:extension:2.0:axon:badgeId"},
		{`displayName co "\u0000" or userName sw "\udfff"`, "userName"},
	}
	for _, s := range seeds {
		f.Add(s.filter, s.sortBy)
	}
	var stores []Store
	for _, be := range backends(f) {
		st := be.open(f, agencyRules())
		for i := range 5 {
			u := oktaUser(i)
			u.Extension.UserGroupName = "Patrol-A"
			mustCreateUser(f, st, u)
		}
		stores = append(stores, st)
	}
	f.Fuzz(func(t *testing.T, text, sortBy string) {
		e, err := filter.Parse(text)
		if err != nil {
			return
		}
		for _, st := range stores {
			checkListAnswers(t, st, e, text, sortBy)
		}
	})
}

func checkListAnswers(t *testing.T, st Store, e filter.Expr, text, sortBy string) {
	t.Helper()
	for _, q := range []Query{
		{Filter: e, Count: 10, WithMembers: true},
		{Filter: e, SortBy: sortBy, SortOrder: Descending, StartIndex: 2, Count: 2},
		{Filter: e, Count: 0},
	} {
		_, err := st.ListUsers(context.Background(), q)
		if err != nil && KindOf(err) != KindInvalidFilter {
			t.Fatalf("filter %q sortBy %q: %v", text, sortBy, err)
		}
		_, err = st.ListGroups(context.Background(), q)
		if err != nil && KindOf(err) != KindInvalidFilter {
			t.Fatalf("groups: filter %q sortBy %q: %v", text, sortBy, err)
		}
	}
}
