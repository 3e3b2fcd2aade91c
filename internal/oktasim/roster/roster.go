package roster

//go:generate go run ../../../cmd/rostergen -out ../../../testdata/roster.json

import (
	"encoding/json"
	"fmt"
	"os"
)

// Roster is one agency's people and groups.
type Roster struct {
	Agency string   `json:"agency"`
	Domain string   `json:"domain"`
	Groups []Group  `json:"groups"`
	People []Person `json:"people"`
}

// Group is an Okta group of the agency (a division, or command staff).
type Group struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Person is one member of the agency as Okta holds them. Title is the rank, Role the
// custom "role" profile property, EmployeeNumber the badge number.
type Person struct {
	Login             string   `json:"login"`
	Email             string   `json:"email"`
	FirstName         string   `json:"firstName"`
	LastName          string   `json:"lastName,omitempty"`
	EmployeeNumber    string   `json:"employeeNumber,omitempty"`
	Title             string   `json:"title,omitempty"`
	Role              string   `json:"role,omitempty"`
	Division          string   `json:"division,omitempty"`
	PreferredLanguage string   `json:"preferredLanguage,omitempty"`
	Groups            []string `json:"groups,omitempty"`
}

// Profile is the person's Okta user profile; empty values are left out.
func (p Person) Profile() map[string]any {
	out := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	set("login", p.Login)
	set("email", p.Email)
	set("firstName", p.FirstName)
	set("lastName", p.LastName)
	set("employeeNumber", p.EmployeeNumber)
	set("title", p.Title)
	set("role", p.Role)
	set("division", p.Division)
	set("department", p.Division)
	set("preferredLanguage", p.PreferredLanguage)
	return out
}

// Load reads a roster file.
func Load(file string) (Roster, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return Roster{}, fmt.Errorf("read roster: %w", err)
	}
	var r Roster
	if err := json.Unmarshal(b, &r); err != nil {
		return Roster{}, fmt.Errorf("parse roster %s: %w", file, err)
	}
	return r, nil
}

// Marshal renders a roster the way the committed file is written.
func Marshal(r Roster) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode roster: %w", err)
	}
	return append(b, '\n'), nil
}
