package roster

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"unicode"
)

const committed = "../../../testdata/roster.json"

func TestGenerate_MatchesTheCommittedRoster(t *testing.T) {
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Marshal(Generate(2026, 500))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("testdata/roster.json is stale: run `make oktasim-roster`")
	}
}

func TestGenerate_IsRealisticAndCarriesDeliberateFaults(t *testing.T) {
	r := Generate(2026, 500)
	var diacritics, apostrophes, plus, unknownRank, noBadge, noLastName int
	emails, badges, logins := map[string]int{}, map[string]int{}, map[string]int{}
	for _, p := range r.People {
		name := p.FirstName + p.LastName
		if strings.ContainsFunc(name, func(c rune) bool { return c > unicode.MaxASCII }) {
			diacritics++
		}
		if strings.Contains(name, "'") {
			apostrophes++
		}
		if strings.Contains(p.Email, "+") {
			plus++
		}
		if rankIndex(p.Title) < 0 {
			unknownRank++
		}
		if p.EmployeeNumber == "" {
			noBadge++
		} else {
			badges[p.EmployeeNumber]++
		}
		if p.LastName == "" {
			noLastName++
		}
		emails[p.Email]++
		logins[p.Login]++
	}
	dups := func(m map[string]int) int {
		n := 0
		for _, c := range m {
			if c > 1 {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{name: "people", got: len(r.People), want: 500},
		{name: "groups (divisions and command staff)", got: len(r.Groups), want: len(Divisions) + 1},
		{name: "unknown ranks", got: unknownRank, want: 3},
		{name: "missing badge numbers", got: noBadge, want: 3},
		{name: "duplicate badge numbers", got: dups(badges), want: 2},
		{name: "duplicate emails", got: dups(emails), want: 2},
		{name: "duplicate logins", got: dups(logins), want: 1},
		{name: "missing last names", got: noLastName, want: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %d, want %d", tc.got, tc.want)
			}
		})
	}
	if diacritics < 50 || apostrophes < 10 || plus < 50 {
		t.Fatalf(
			"too few hard names or plus addresses: %d diacritics, %d apostrophes, %d plus",
			diacritics,
			apostrophes,
			plus,
		)
	}
}

func TestFold_MakesASCIIEmailLocalParts(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{name: "accents", in: "Núñez", want: "nunez"},
		{name: "apostrophe", in: "O'Brien", want: "obrien"},
		{name: "space", in: "van der Berg", want: "vanderberg"},
		{name: "letters without a decomposition", in: "Øyvind Łukasz Þórsdóttir", want: "oyvindlukaszthorsdottir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fold(tc.in); got != tc.want {
				t.Fatalf("fold(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
