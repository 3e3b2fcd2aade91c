package e2e

import (
	"fmt"
	"slices"
	"strings"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/oktasim"
	"github.com/provisioning-dev/scim-operator/internal/oktasim/roster"
)

// expectation is what the roster, the agency's rules and Okta's behaviour predict for the
// SCIM server after a full push, computed independently of the code under test.
type expectation struct {
	// users maps a lower-cased email (the SCIM userName: the unique identifier is email) to
	// the roster person whose values the SCIM user must carry, and the groups it must be in.
	users map[string]wantUser
	// refused maps an Okta user id to the text the SCIM server's refusal must contain.
	refused map[string]string
	// members maps a group name to the lower-cased userNames of its members.
	members map[string][]string
	// shared lists emails that several valid roster people have: Okta links them all to one
	// SCIM user (it looks up by the unique identifier before creating).
	shared map[string]bool
}

type wantUser struct {
	person roster.Person
	oktaID string
	groups []string
}

// expect computes the expectation. People Okta itself refused at seeding never reach the
// SCIM server. The others are pushed in roster order, one at a time: a person breaking an
// agency rule is refused with its reason; the last valid person with an email is the one
// whose values the SCIM user holds, and the user is in the groups of all of them.
func expect(r roster.Roster, seed oktasim.SeedResult, ids map[string]string,
	dir scimv1alpha1.DirectorySpec,
) (expectation, error) {
	seedRefused := map[int]bool{}
	for _, rej := range seed.Rejected {
		seedRefused[rej.Index] = true
	}
	exp := expectation{users: map[string]wantUser{}, refused: map[string]string{},
		members: map[string][]string{}, shared: map[string]bool{}}
	for i, p := range r.People {
		if seedRefused[i] {
			continue
		}
		id, ok := ids[p.Login]
		if !ok {
			return exp, fmt.Errorf("roster person %d (%s) is not in oktasim", i, p.Login)
		}
		if reason := ruleBroken(p, dir); reason != "" {
			exp.refused[id] = reason
			continue
		}
		email := strings.ToLower(p.Email)
		prev, seen := exp.users[email]
		groups := slices.Clone(p.Groups)
		if seen {
			exp.shared[email] = true
			groups = append(groups, prev.groups...)
		}
		slices.Sort(groups)
		exp.users[email] = wantUser{person: p, oktaID: id, groups: slices.Compact(groups)}
	}
	for email, u := range exp.users {
		for _, g := range u.groups {
			exp.members[g] = append(exp.members[g], email)
		}
	}
	for g := range exp.members {
		slices.Sort(exp.members[g])
	}
	return exp, nil
}

// ruleBroken returns the refusal text the SCIM server must give for p, or "".
func ruleBroken(p roster.Person, dir scimv1alpha1.DirectorySpec) string {
	switch {
	case p.EmployeeNumber == "":
		return "badgeId is required"
	case p.Title != "" && !slices.Contains(dir.Ranks, p.Title):
		return fmt.Sprintf("rank %q does not exist", p.Title)
	case p.Role != "" && p.Role != "Blank" && p.Role != "User" && !slices.Contains(dir.Roles, p.Role):
		// User is the default role, valid whatever spec.directory.roles lists.
		return fmt.Sprintf("role %q does not exist", p.Role)
	case p.Division != "" && !slices.Contains(dir.UserGroups, p.Division):
		return fmt.Sprintf("%q does not exist", p.Division)
	}
	return ""
}

// wantRole is the role the directory keeps: "Blank" and no role mean User.
func wantRole(p roster.Person) string {
	if p.Role == "" || p.Role == "Blank" {
		return "User"
	}
	return p.Role
}

// wantLanguage is the user's language: the Okta profile's preferred language, else the
// locale Okta sends for every user of a custom app (en-US).
func wantLanguage(p roster.Person) string {
	if p.PreferredLanguage != "" {
		return p.PreferredLanguage
	}
	return "en-US"
}
