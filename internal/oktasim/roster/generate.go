package roster

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Agency facts of the generated roster.
const (
	AgencyName = "Riverbend Police Department"
	Domain     = "riverbendpd.example"
	// CommandStaff groups the ranks from Captain up.
	CommandStaff = "Command Staff"
)

// Ranks known to the agency, lowest first. Divisions become Okta groups.
var (
	Ranks = []string{"Officer", "Senior Officer", "Corporal", "Sergeant", "Lieutenant", "Captain",
		"Commander", "Deputy Chief", "Chief of Police"}
	Roles = []string{
		"User",
		"User",
		"User",
		"Supervisor",
		"Records Clerk",
		"Evidence Technician",
		"Admin",
		"Blank",
	}
	Divisions = []string{
		"Patrol Division",
		"Investigations Division",
		"Traffic Division",
		"Special Operations",
		"Professional Standards",
		"Records & Evidence",
		"Communications",
		"Training Academy",
	}
	// UnknownRanks are ranks the agency does not have, given to a few people on purpose.
	UnknownRanks = []string{"Detective Sgt.", "Reserve Deputy", "Sgt"}
)

var firstNames = []string{"José", "Zoë", "Renée", "Siobhán", "François", "Björn", "Chloé", "Noël", "Ángel",
	"Marisol", "Darnell", "Keisha", "Mei", "Thảo", "Søren", "Inés", "Jürgen", "Aoife", "Émilie", "Rafał",
	"Maria", "James", "Robert", "Linda", "Michael", "Patricia", "David", "Jennifer", "William", "Elizabeth",
	"Tyrone", "Aaliyah", "Dmitri", "Priya", "Kwame", "Fatima", "Hiroshi", "Lucía", "Connor", "Nadia",
	"D'Andre", "Sean", "Bríd", "Tomás", "Anaïs", "Ximena", "Øyvind", "Łukasz", "Giuseppe", "Hana"}

var lastNames = []string{"O'Brien", "D'Angelo", "Müller", "Núñez", "García", "Peña", "Ó Súilleabháin",
	"van der Berg", "McAllister", "Świątek", "Åberg", "Brontë", "N'Diaye", "Smith", "Johnson", "Williams",
	"Brown", "Jones", "Miller", "Davis", "Rodríguez", "Martínez", "Hernández", "López", "Gonzalez", "Wilson",
	"Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Pérez", "Thompson", "White",
	"Harris", "Sánchez", "Clark", "Ramírez", "Lewis", "Robinson", "Walker", "Young", "Nguyễn", "Kowalski",
	"Dubois", "O'Connor", "Fitzgerald-Ruiz", "Yılmaz", "Þórsdóttir", "Schäfer", "DeLuca", "St. James"}

var plusTags = []string{"patrol", "scim", "okta", "ops", "pd"}

// Generate builds a deterministic roster of n people from seed. A few people carry
// deliberate faults: unknown ranks, missing and duplicate badge numbers, duplicate emails,
// a missing last name and a duplicate login (both refused by Okta itself).
func Generate(seed uint64, n int) Roster {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	r := Roster{Agency: AgencyName, Domain: Domain}
	for _, d := range Divisions {
		r.Groups = append(r.Groups, Group{Name: d, Description: d + " of the " + AgencyName})
	}
	r.Groups = append(r.Groups, Group{Name: CommandStaff, Description: "Captains and above"})
	logins := map[string]bool{}
	for i := range n {
		first := firstNames[rng.IntN(len(firstNames))]
		last := lastNames[rng.IntN(len(lastNames))]
		local := emailLocal(first, last)
		login := local + "@" + Domain
		for k := 2; logins[login]; k++ {
			login = fmt.Sprintf("%s%d@%s", local, k, Domain)
		}
		logins[login] = true
		email := login
		if rng.IntN(4) == 0 {
			email = strings.Replace(login, "@", "+"+plusTags[rng.IntN(len(plusTags))]+"@", 1)
		}
		rank := pickRank(rng, i)
		division := Divisions[rng.IntN(len(Divisions))]
		p := Person{Login: login, Email: email, FirstName: first, LastName: last,
			EmployeeNumber: fmt.Sprintf("%05d", 10000+i*7+rng.IntN(7)), Title: rank,
			Role: Roles[rng.IntN(len(Roles))], Division: division, Groups: []string{division}}
		if rank == "Sergeant" || rank == "Lieutenant" {
			p.Role = "Supervisor"
		}
		if rankIndex(rank) >= rankIndex("Captain") {
			p.Groups = append(p.Groups, CommandStaff)
		}
		if rng.IntN(12) == 0 {
			p.PreferredLanguage = []string{"es", "fr", "vi", "pl"}[rng.IntN(4)]
		}
		r.People = append(r.People, p)
	}
	injectFaults(&r)
	return r
}

func pickRank(rng *rand.Rand, i int) string {
	if i == 0 {
		return "Chief of Police"
	}
	// Most people hold the lower ranks.
	w := []int{40, 20, 10, 12, 7, 5, 3, 2, 0}
	n := rng.IntN(99)
	for k, weight := range w {
		if n < weight {
			return Ranks[k]
		}
		n -= weight
	}
	return Ranks[0]
}

func rankIndex(rank string) int {
	for i, r := range Ranks {
		if r == rank {
			return i
		}
	}
	return -1
}

// injectFaults spreads the deliberate data problems over fixed positions.
func injectFaults(r *Roster) {
	n := len(r.People)
	if n < 60 {
		return
	}
	for k, idx := range []int{17, 211, 389} {
		r.People[idx].Title = UnknownRanks[k%len(UnknownRanks)]
	}
	for _, idx := range []int{42, 256, 433} {
		r.People[idx].EmployeeNumber = ""
	}
	r.People[318].EmployeeNumber = r.People[77].EmployeeNumber
	r.People[470%n].EmployeeNumber = r.People[5].EmployeeNumber
	r.People[150].Email = r.People[149].Email
	r.People[299].Email = r.People[12].Email
	r.People[57].LastName = ""
	r.People[n-1].Login = r.People[3].Login
}

// emailLocal folds a name to an ASCII email local part: diacritics dropped, apostrophes and
// spaces removed.
func emailLocal(first, last string) string {
	return fold(first) + "." + fold(last)
}

var special = map[rune]string{
	'ø': "o",
	'Ø': "o",
	'ł': "l",
	'Ł': "l",
	'þ': "th",
	'Þ': "th",
	'ð': "d",
	'ı': "i",
	'æ': "ae",
}

func fold(s string) string {
	var b strings.Builder
	for _, c := range norm.NFD.String(s) {
		switch {
		case special[c] != "":
			b.WriteString(special[c])
		case c < unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c)):
			b.WriteRune(unicode.ToLower(c))
		case c == '-':
			b.WriteRune(c)
		}
	}
	return b.String()
}
