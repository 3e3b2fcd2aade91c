package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/provisioning-dev/scim-operator/internal/filter"
)

func mustParse(t testing.TB, s string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return e
}

// filterFixture creates four users with distinct attributes; their userNames are a, b, c, d.
func filterFixture(t *testing.T, st Store, clock *fixedClock) map[string]*User {
	t.Helper()
	specs := []struct {
		name, display, ext, email, title string
		active                           bool
		rank                             string
		group                            string
	}{
		{name: "a", display: "Alice Archer", ext: "X-a", email: "alice@north.example", title: "Sergeant", active: true,
			rank: "Sergeant", group: "Patrol-A"},
		{name: "b", display: "Bob Baker", ext: "x-b", email: "BOB@south.example", title: "", active: false,
			rank: "Officer"},
		{name: "c", display: "carol carter", ext: "", email: "carol@north.example", title: "Captain", active: true,
			rank: "Captain", group: "Patrol-B"},
		{name: "d", display: "", ext: "X-d", email: "", title: "corporal", active: true},
	}
	out := map[string]*User{}
	for i, s := range specs {
		u := User{UserName: s.name, DisplayName: s.display, ExternalID: s.ext, Title: s.title, Active: s.active,
			Extension: Extension{BadgeID: "B" + s.name, RankName: s.rank, UserGroupName: s.group}}
		if s.email != "" {
			u.Emails = []Email{{Value: s.email, Type: "work", Primary: true}}
		}
		if i == 0 {
			u.Emails = append(u.Emails, Email{Value: "alice@home.example", Type: "home"})
		}
		out[s.name] = mustCreateUser(t, st, u)
		clock.advance(time.Hour)
	}
	return out
}

func TestList_FiltersRunInTheDatabase(t *testing.T) {
	ext := filter.AxonExtensionSchema
	cases := []struct {
		name   string
		filter string
		want   string
	}{
		{name: "userName eq ignores case", filter: `userName eq "A"`, want: "a"},
		{name: "userName ne", filter: `userName ne "a"`, want: "b,c,d"},
		{name: "displayName co ignores case", filter: `displayName co "CAR"`, want: "c"},
		{name: "displayName sw", filter: `displayName sw "bob"`, want: "b"},
		{name: "displayName ew", filter: `displayName ew "ARTER"`, want: "c"},
		{name: "displayName pr", filter: `displayName pr`, want: "a,b,c"},
		{name: "title gt", filter: `title gt "cap"`, want: "a,c,d"},
		{name: "title le", filter: `title le "captain"`, want: "c"},
		{name: "externalId eq is exact", filter: `externalId eq "x-a"`, want: ""},
		{name: "externalId eq exact match", filter: `externalId eq "X-a"`, want: "a"},
		{name: "externalId sw is exact", filter: `externalId sw "X"`, want: "a,d"},
		{name: "externalId co is exact", filter: `externalId co "-b"`, want: "b"},
		{name: "externalId ew is exact", filter: `externalId ew "D"`, want: ""},
		{name: "id eq", filter: `id eq "{{a}}"`, want: "a"},
		{name: "active eq false", filter: `active eq false`, want: "b"},
		{name: "active eq string True", filter: `active eq "True"`, want: "a,c,d"},
		{name: "emails eq without sub-attribute", filter: `emails eq "bob@SOUTH.example"`, want: "b"},
		{name: "emails.value co", filter: `emails.value co "north"`, want: "a,c"},
		{name: "emails.type eq home", filter: `emails.type eq "home"`, want: "a"},
		{name: "emails value path", filter: `emails[type eq "work" and value ew "north.example"]`, want: "a,c"},
		{name: "emails value path with not", filter: `emails[not (type eq "work")]`, want: "a"},
		{name: "emails pr", filter: `emails pr`, want: "a,b,c"},
		{name: "and binds tighter than or", filter: `userName eq "a" or userName eq "b" and active eq true`, want: "a"},
		{name: "parentheses", filter: `(userName eq "a" or userName eq "b") and active eq true`, want: "a"},
		{name: "not", filter: `not (displayName pr)`, want: "d"},
		{name: "not over a comparison on a missing value", filter: `not (title eq "captain")`, want: "a,b,d"},
		{name: "not of or", filter: `not (userName eq "a" or userName eq "b")`, want: "c,d"},
		{name: "eq null", filter: `title eq null`, want: "b"},
		{name: "URN-qualified core attribute", filter: filter.UserSchema + `:userName eq "b"`, want: "b"},
		{name: "URN-qualified sub-attribute", filter: filter.UserSchema + `:emails.type eq "home"`, want: "a"},
		{name: "extension attribute", filter: ext + `:rankName eq "captain"`, want: "c"},
		{name: "extension attribute pr", filter: ext + `:rankName pr`, want: "a,b,c"},
		{name: "extension userGroupName", filter: ext + `:userGroupName eq "patrol-a"`, want: "a"},
		{name: "groups.display", filter: `groups.display eq "Patrol-B"`, want: "c"},
		{name: "meta.created gt", filter: `meta.created gt "2026-01-02T04:30:00Z"`, want: "c,d"},
		{name: "meta.lastModified le", filter: `meta.lastModified le "2026-01-02T03:04:05Z"`, want: "a"},
		{name: "operator in capitals", filter: `userName EQ "c" OR userName Eq "d"`, want: "c,d"},
		{name: "sw with an empty prefix", filter: `userName sw ""`, want: "a,b,c,d"},
	}
	eachBackend(t, func(t *testing.T, open opener) {
		clock := newClock()
		st := open(t, agencyRules(), WithClock(clock.now))
		users := filterFixture(t, st, clock)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				text := strings.ReplaceAll(tc.filter, "{{a}}", users["a"].ID)
				page, err := st.ListUsers(t.Context(), Query{Filter: mustParse(t, text), Count: 100})
				if err != nil {
					t.Fatalf("list: %v", err)
				}
				if got := userNames(page.Resources); got != tc.want {
					t.Fatalf("filter %s matched %q, want %q", text, got, tc.want)
				}
				if page.Total != len(page.Resources) {
					t.Fatalf("total %d for %d resources", page.Total, len(page.Resources))
				}
			})
		}
	})
}

func TestList_UnfilterableAttributesAreInvalidFilters(t *testing.T) {
	cases := []struct{ name, filter string }{
		{name: "unknown attribute", filter: `shoeSize eq "9"`},
		{name: "complex attribute without sub-attribute", filter: `name eq "x"`},
		{name: "unknown schema", filter: `urn:example:other:userName eq "a"`},
		{name: "boolean compared with co", filter: `active co "t"`},
		{name: "string compared with a number", filter: `userName eq 5`},
		{name: "date compared with a non-date", filter: `meta.created gt "yesterday"`},
		{name: "value path on a singular attribute", filter: `userName[value eq "a"]`},
		{name: "null with gt", filter: `title gt null`},
	}
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := st.ListUsers(t.Context(), Query{Filter: mustParse(t, tc.filter), Count: 10})
				wantKind(t, err, KindInvalidFilter, "filter")
			})
		}
		_, err := st.ListUsers(t.Context(), Query{SortBy: "phoneNumbers", Count: 10})
		wantKind(t, err, KindInvalidFilter, "sortBy")
	})
}

func TestList_PagingIsStableAndCountZeroGivesOnlyTheTotal(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		var want []string
		for i := range 23 {
			want = append(want, mustCreateUser(t, st, oktaUser(i)).ID)
			if i == 10 {
				// A failed create takes no position in either store: pages keep seeking by seq.
				dup := oktaUser(100)
				dup.UserName = oktaUser(i).UserName
				_, err := st.CreateUser(t.Context(), dup)
				wantKind(t, err, KindUniqueness, "userName")
			}
		}
		for _, q := range []Query{{}, {Filter: mustParse(t, `active eq true`)}, {SortBy: "meta.created"}} {
			var got []string
			for start := 1; ; start += 5 {
				q.StartIndex, q.Count = start, 5
				page, err := st.ListUsers(t.Context(), q)
				if err != nil {
					t.Fatal(err)
				}
				if page.Total != 23 || page.StartIndex != start {
					t.Fatalf("page at %d: total %d startIndex %d", start, page.Total, page.StartIndex)
				}
				if len(page.Resources) == 0 {
					break
				}
				for _, u := range page.Resources {
					got = append(got, u.ID)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("query %+v: pages visited %d users out of order or with gaps", q, len(got))
			}
		}
		page, err := st.ListUsers(t.Context(), Query{StartIndex: 1, Count: 0})
		if err != nil || page.Total != 23 || page.Resources == nil || len(page.Resources) != 0 {
			t.Fatalf("count=0: %+v %v", page, err)
		}
		past := Query{StartIndex: 100, Count: 10, Filter: mustParse(t, `userName sw "officer"`)}
		page, err = st.ListUsers(t.Context(), past)
		if err != nil || page.Total != 23 || len(page.Resources) != 0 {
			t.Fatalf("past the end: %+v %v", page, err)
		}
		page, err = st.ListUsers(t.Context(), Query{StartIndex: -4, Count: 2})
		if err != nil || page.StartIndex != 1 || len(page.Resources) != 2 || page.Resources[0].ID != want[0] {
			t.Fatalf("startIndex below 1 must be taken as 1: %+v %v", page, err)
		}
	})
}

func TestList_SortByWithMissingValuesLast(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		clock := newClock()
		st := open(t, agencyRules(), WithClock(clock.now))
		filterFixture(t, st, clock)
		cases := []struct {
			sortBy string
			order  SortOrder
			want   string
		}{
			{sortBy: "displayName", want: "a,b,c,d"},
			{sortBy: "displayName", order: Descending, want: "c,b,a,d"},
			{sortBy: "title", want: "c,d,a,b"},
			{sortBy: "emails", want: "a,b,c,d"},
			{sortBy: "userName", order: Descending, want: "d,c,b,a"},
			{sortBy: filter.AxonExtensionSchema + ":rankName", want: "c,b,a,d"},
			{sortBy: "meta.created", order: Descending, want: "d,c,b,a"},
		}
		for _, tc := range cases {
			page, err := st.ListUsers(t.Context(), Query{SortBy: tc.sortBy, SortOrder: tc.order, Count: 10})
			if err != nil {
				t.Fatalf("sortBy %s: %v", tc.sortBy, err)
			}
			if got := userNames(page.Resources); got != tc.want {
				t.Errorf("sortBy %s order %d = %s, want %s", tc.sortBy, tc.order, got, tc.want)
			}
		}
	})
}

func TestList_UsersCarryGroupsOnlyWhenAsked(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		clock := newClock()
		st := open(t, agencyRules(), WithClock(clock.now))
		filterFixture(t, st, clock)
		page, err := st.ListUsers(t.Context(), Query{Count: 10, WithMembers: true})
		if err != nil || len(page.Resources[0].Groups) != 1 || page.Resources[0].Groups[0].DisplayName != "Patrol-A" {
			t.Fatalf("with groups: %+v %v", page.Resources[0].Groups, err)
		}
		page, err = st.ListUsers(t.Context(), Query{Count: 10})
		if err != nil || page.Resources[0].Groups != nil {
			t.Fatalf("without groups: %+v %v", page.Resources[0].Groups, err)
		}
	})
}

// TestList_UsersBecomeVisibleInCreationOrderOnPostgres: a create that waits (here for an open
// create of the same userName, as when Okta retries through another replica) must not become
// visible after a create that came after it, or an import paging by startIndex reads a user
// twice and skips another. PostgreSQL handed out positions (seq) before the wait, so the later
// create committed first. SQLite runs one write at a time.
func TestList_UsersBecomeVisibleInCreationOrderOnPostgres(t *testing.T) {
	// Three replicas of one directory: one process runs its write transactions one at a time.
	replicas := postgresReplicas(t, 3)
	st, retrier, later := replicas[0], replicas[1], replicas[2]
	mustCreateUser(t, st, oktaUser(1))
	errRollback := errors.New("roll back")
	inserted, release, firstDone := make(chan error, 1), make(chan struct{}), make(chan error, 1)
	go func() {
		firstDone <- st.inTx(context.Background(), func(tx *conn) error {
			_, err := st.createUserTx(context.Background(), tx, oktaUser(2))
			inserted <- err
			<-release
			return errRollback
		})
	}()
	if err := <-inserted; err != nil {
		close(release)
		t.Fatalf("first create: %v", err)
	}
	// The retry waits for the first create; its many emails keep it busy after the wait.
	retry := oktaUser(4)
	retry.UserName = oktaUser(2).UserName
	for i := range 500 {
		retry.Emails = append(retry.Emails, Email{Value: fmt.Sprintf("alias%d@agency.example", i), Type: "other"})
	}
	retryDone, laterDone := make(chan error, 1), make(chan error, 1)
	go func() { _, err := retrier.CreateUser(context.Background(), retry); retryDone <- err }()
	waitForLockWaiters(t, st, 1)
	go func() { _, err := later.CreateUser(context.Background(), oktaUser(3)); laterDone <- err }()
	waitForLockWaiters(t, st, 2)
	close(release)
	if err := <-firstDone; !errors.Is(err, errRollback) {
		t.Fatalf("first create: %v", err)
	}
	var seen [][]string
	for pending := 2; pending > 0; {
		select {
		case err := <-retryDone:
			pending--
			if err != nil {
				t.Fatalf("retried create: %v", err)
			}
		case err := <-laterDone:
			pending--
			if err != nil {
				t.Fatalf("later create: %v", err)
			}
		default:
			seen = append(seen, listUserNames(t, st))
		}
	}
	final := listUserNames(t, st)
	for _, names := range seen {
		if len(names) > len(final) || !slices.Equal(names, final[:len(names)]) {
			t.Fatalf("users seen while creates committed %v are not the start of the final order %v", names, final)
		}
	}
}

// waitForLockWaiters waits until n of the database's connections wait for a lock.
func waitForLockWaiters(t *testing.T, st *sqlStore, n int) {
	t.Helper()
	for range 500 {
		var waiting int
		err := st.reader.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		if err != nil {
			t.Fatalf("read lock waits: %v", err)
		}
		if waiting >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fewer than %d connections wait for a lock after 5 s", n)
}

func listUserNames(t *testing.T, st Store) []string {
	t.Helper()
	page, err := st.ListUsers(t.Context(), Query{StartIndex: 1, Count: 100})
	if err != nil {
		t.Fatalf("list users: %v", err)
	}
	return strings.Split(userNames(page.Resources), ",")
}

// TestList_FailedCreatesLeaveNoGapsSoPagesSeek: users get positions 1..n even after failed
// creates (PostgreSQL's identity sequence would skip one), so unfiltered pages seek to their
// first row instead of skipping rows with OFFSET.
func TestList_FailedCreatesLeaveNoGapsSoPagesSeek(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules()).(*sqlStore)
		mustCreateUser(t, st, oktaUser(1))
		if _, err := st.CreateUser(t.Context(), oktaUser(1)); err == nil {
			t.Fatal("duplicate create succeeded")
		}
		mustCreateUser(t, st, oktaUser(2))
		dense, err := st.denseUsers(t.Context())
		if err != nil || !dense {
			t.Fatalf("dense = %v, %v; want true", dense, err)
		}
		query, _, err := st.userPageQuery(t.Context(), Query{}, selectUser, "", nil, "u.seq", 2, 100)
		if err != nil || !strings.Contains(query, "u.seq >= ?") || strings.Contains(query, "OFFSET") {
			t.Fatalf("page 2 query %q (%v) does not seek", query, err)
		}
	})
}
