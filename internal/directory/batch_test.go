package directory

import (
	"context"
	"sync"
	"testing"
)

func TestWrites_OneConflictRollsBackOnlyItsOwnWrite(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		const writers = 48
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				u := oktaUser(2000 + i)
				if i%3 == 0 {
					// A third of the writers race for one userName; the rest are unique.
					u.UserName = "shared@agency.example"
				}
				_, errs[i] = st.CreateUser(context.Background(), u)
			})
		}
		wg.Wait()
		racers, won := 0, 0
		for i, err := range errs {
			switch {
			case i%3 != 0 && err != nil:
				t.Errorf("unique user %d: %v", i, err)
			case i%3 == 0 && err == nil:
				racers++
				won++
			case i%3 == 0 && KindOf(err) == KindUniqueness:
				racers++
			case i%3 == 0:
				t.Errorf("racing user %d: unexpected error %v", i, err)
			}
		}
		if won != 1 || racers != writers/3 {
			t.Fatalf("%d of %d racing creates succeeded, want exactly 1", won, racers)
		}
		page, err := st.ListUsers(t.Context(), Query{Count: 100})
		if err != nil {
			t.Fatal(err)
		}
		if want := writers - writers/3 + 1; page.Total != want || len(page.Resources) != want {
			t.Fatalf("stored %d users (page of %d), want %d", page.Total, len(page.Resources), want)
		}
	})
}

func TestWrites_CancelledWriteLeavesTheOthersStored(t *testing.T) {
	eachBackend(t, func(t *testing.T, open opener) {
		st := open(t, agencyRules())
		cancelled, cancel := context.WithCancel(t.Context())
		cancel()
		const writers = 24
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				ctx := t.Context()
				if i%4 == 0 {
					ctx = cancelled
				}
				_, errs[i] = st.CreateUser(ctx, oktaUser(3000+i))
			})
		}
		wg.Wait()
		want := 0
		for i, err := range errs {
			if i%4 == 0 {
				if err == nil {
					// A cancelled context may still win the race to the writer; then it is stored.
					want++
				}
				continue
			}
			if err != nil {
				t.Errorf("user %d: %v", i, err)
			}
			want++
		}
		c, err := st.Counts(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if int(c.Users) != want {
			t.Fatalf("stored %d users, want %d", c.Users, want)
		}
	})
}
