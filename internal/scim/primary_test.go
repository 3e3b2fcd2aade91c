package scim

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// TestUsers_OnePrimaryValue: a PATCH that makes a value primary takes the flag off the others
// (RFC 7644 section 3.5.2), so the primary email stays the unique one; a body flagging two
// values primary is a 400. Before, a second primary email slipped past the uniqueness check.
func TestUsers_OnePrimaryValue(t *testing.T) {
	const work, home = `{"value": "officer%[1]d@agency.example", "type": "work", "primary": true}`,
		`{"value": "home%[1]d@home.example", "type": "home", "primary": true}`
	tests := []struct {
		name     string
		method   string
		body     string // %[1]d is the user's number, %[2]d another user's
		status   int
		scimType string
		primary  []string // the user's primary emails and phone numbers afterwards
	}{
		{
			name:     "POST with two primary emails is refused",
			method:   http.MethodPost,
			body:     `{"userName": "two%[1]d@agency.example", "emails": [` + work + `, ` + home + `]}`,
			status:   http.StatusBadRequest,
			scimType: scimTypeInvalidValue,
		},
		{
			name:   "PUT with two primary phone numbers is refused",
			method: http.MethodPut,
			body: `{"userName": "officer%[1]d@agency.example",
				"phoneNumbers": [{"value": "1", "primary": true}, {"value": "2", "primary": "True"}]}`,
			status:   http.StatusBadRequest,
			scimType: scimTypeInvalidValue,
		},
		{
			name:    "PATCH add of a primary email demotes the work email",
			method:  http.MethodPatch,
			body:    `{"Operations": [{"op": "Add", "path": "emails", "value": [` + home + `]}]}`,
			status:  http.StatusOK,
			primary: []string{"home%[1]d@home.example"},
		},
		{
			name:   "PATCH making the home email primary by a value filter demotes the work email",
			method: http.MethodPatch,
			body: `{"Operations": [{"op": "Add", "path": "emails",
				"value": [{"value": "home%[1]d@home.example", "type": "home"}]},
				{"op": "Replace", "path": "emails[type eq \"home\"].primary", "value": "True"}]}`,
			status:  http.StatusOK,
			primary: []string{"home%[1]d@home.example"},
		},
		{
			name:   "PATCH seeding a primary email through a filter that matches nothing demotes the work email",
			method: http.MethodPatch,
			body: `{"Operations": [{"op": "Replace", "path": "emails[type eq \"other\"]",
				"value": {"value": "other%[1]d@other.example", "primary": true}}]}`,
			status:  http.StatusOK,
			primary: []string{"other%[1]d@other.example"},
		},
		{
			name:   "PATCH making another user's email a second primary is a uniqueness conflict",
			method: http.MethodPatch,
			body: `{"Operations": [{"op": "Add", "path": "emails",
				"value": [{"value": "OFFICER%[2]d@agency.example", "type": "home", "primary": true}]}]}`,
			status:   http.StatusConflict,
			scimType: "uniqueness",
		},
		{
			name:     "PATCH replacing emails with two primaries is refused",
			method:   http.MethodPatch,
			body:     `{"Operations": [{"op": "replace", "path": "emails", "value": [` + work + `, ` + home + `]}]}`,
			status:   http.StatusBadRequest,
			scimType: scimTypeInvalidValue,
		},
		{
			name:   "PATCH of a non-primary value keeps the work email primary",
			method: http.MethodPatch,
			body: `{"Operations": [{"op": "add", "path": "emails",
				"value": [{"value": "x%[1]d@home.example", "type": "home"}]},
				{"op": "add", "path": "phoneNumbers", "value": [{"value": "555", "primary": true}]}]}`,
			status:  http.StatusOK,
			primary: []string{"officer%[1]d@agency.example", "555"},
		},
	}
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, backend, scimconfig.SyncModeUsersAndGroups)
			h.createUser(1, nil) // the other user
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					n := 10 + i
					path := "/Users"
					if tt.method != http.MethodPost {
						path += "/" + h.createUser(n, nil)
					}
					body := strings.ReplaceAll(fmt.Sprintf(tt.body, n, 1), "\n", " ")
					if tt.method != http.MethodPatch {
						body = withBadge(t, body, n)
					}
					r := h.do(tt.method, path, body)
					if r.status != tt.status {
						t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
					}
					m := r.json(t)
					if tt.scimType != "" && m["scimType"] != tt.scimType {
						t.Fatalf("scimType %v, want %s: %s", m["scimType"], tt.scimType, r.body)
					}
					if tt.status != http.StatusOK {
						return
					}
					var got []string
					for _, attr := range []string{"emails", "phoneNumbers"} {
						for _, v := range asList(m[attr]) {
							if isPrimary(v) {
								got = append(got, fmt.Sprint(v.(map[string]any)["value"]))
							}
						}
					}
					want := make([]string, len(tt.primary))
					for j, p := range tt.primary {
						want[j] = strings.ReplaceAll(p, "%[1]d", fmt.Sprint(n))
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("primary values %v, want %v: %s", got, want, r.body)
					}
				})
			}
		})
	}
}

// withBadge adds the required extension to a POST or PUT body.
func withBadge(t *testing.T, body string, n int) string {
	t.Helper()
	return strings.Replace(body, "{", fmt.Sprintf(`{"%s": {"badgeId": "P%05d"}, `, axonURN, n), 1)
}
