package scim

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// TestUsers_AttributeNamedTwiceIsRefusedNotPickedAtRandom: keys that name one attribute
// (case, URN-qualified and dotted forms) used to be applied in Go's map order, so the same
// body stored one value or the other from one request to the next.
func TestUsers_AttributeNamedTwiceIsRefusedNotPickedAtRandom(t *testing.T) {
	const core = SchemaUser + ":"
	tests := []struct {
		name   string
		method string
		body   string // %[1]d is the user's number; POST bodies get a badgeId
		status int
		check  func(m map[string]any) string // what the stored user shows, compared with want
		want   string
	}{
		{
			name:   "userName in two cases",
			method: http.MethodPost,
			body:   `{"userName": "a%[1]d@agency.example", "USERNAME": "b%[1]d@agency.example"}`,
			status: http.StatusBadRequest,
		},
		{
			name:   "userName and its URN-qualified form with different values",
			method: http.MethodPost,
			body:   `{"userName": "a%[1]d@agency.example", "` + core + `userName": "b%[1]d@agency.example"}`,
			status: http.StatusBadRequest,
		},
		{
			name:   "userName and its URN-qualified form with one value",
			method: http.MethodPost,
			body:   `{"userName": "a%[1]d@agency.example", "` + core + `userName": "a%[1]d@agency.example"}`,
			status: http.StatusCreated,
			check:  func(m map[string]any) string { return fmt.Sprint(m["userName"]) },
			want:   "a%[1]d@agency.example",
		},
		{
			name:   "givenName in two cases inside name",
			method: http.MethodPost,
			body:   `{"userName": "a%[1]d@agency.example", "name": {"givenName": "A", "GIVENNAME": "B"}}`,
			status: http.StatusBadRequest,
		},
		{
			name:   "name.givenName and name's givenName differ",
			method: http.MethodPost,
			body:   `{"userName": "a%[1]d@agency.example", "name": {"givenName": "A"}, "name.givenName": "B"}`,
			status: http.StatusBadRequest,
		},
		{
			name:   "name.familyName and name's givenName merge",
			method: http.MethodPost,
			body:   `{"userName": "a%[1]d@agency.example", "name": {"givenName": "A"}, "name.familyName": "B"}`,
			status: http.StatusCreated,
			check:  func(m map[string]any) string { return fmt.Sprint(m["name"]) },
			want:   "map[familyName:B givenName:A]",
		},
		{
			name:   "the extension URN in two cases",
			method: http.MethodPost,
			body: `{"userName": "a%[1]d@agency.example", "` + strings.ToUpper(axonURN) +
				`": {"rankName": "Officer"}}`,
			status: http.StatusBadRequest,
		},
		{
			name:   "badgeId in the extension object and URN-qualified, different",
			method: http.MethodPost,
			body:   `{"userName": "a%[1]d@agency.example", "` + axonURN + `:badgeId": "other"}`,
			status: http.StatusBadRequest,
		},
		{
			name:   "op in two cases in a PATCH operation",
			method: http.MethodPatch,
			body:   `{"Operations": [{"op": "add", "Op": "remove", "path": "title", "value": "Sergeant"}]}`,
			status: http.StatusBadRequest,
		},
		{
			name:   "a path-less PATCH value naming givenName twice",
			method: http.MethodPatch,
			body: `{"Operations": [{"op": "Replace",
				"value": {"name.givenName": "A", "name": {"givenName": "B"}}}]}`,
			status: http.StatusBadRequest,
		},
		{
			name:   "a path-less PATCH value with dotted keys (Entra)",
			method: http.MethodPatch,
			body: `{"Operations": [{"op": "Replace",
				"value": {"name.givenName": "A", "name.familyName": "B", "title": "Sergeant"}}]}`,
			status: http.StatusOK,
			check:  func(m map[string]any) string { return fmt.Sprint(m["name"], m["title"]) },
			want:   "map[familyName:B givenName:A]Sergeant",
		},
	}
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, backend, scimconfig.SyncModeUsersAndGroups)
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					n := 100 + i
					path := "/Users"
					num := func(s string) string { return strings.ReplaceAll(s, "%[1]d", fmt.Sprint(n)) }
					body := num(strings.ReplaceAll(tt.body, "\n", " "))
					if tt.method == http.MethodPost {
						body = withBadge(t, body, n)
					} else {
						path += "/" + h.createUser(n, nil)
					}
					r := h.do(tt.method, path, body)
					if r.status != tt.status {
						t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
					}
					m := r.json(t)
					if tt.status == http.StatusBadRequest && m["scimType"] != scimTypeInvalidSyntax {
						t.Fatalf("scimType %v, want %s: %s", m["scimType"], scimTypeInvalidSyntax, r.body)
					}
					if tt.check != nil {
						if got := tt.check(m); got != num(tt.want) {
							t.Fatalf("stored %q, want %q", got, num(tt.want))
						}
					}
				})
			}
		})
	}
}
