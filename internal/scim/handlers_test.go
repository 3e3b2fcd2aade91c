package scim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// randomHex returns n random hex digits, a value PostgreSQL cannot compress into an index.
func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func TestErrors_AreSCIMBodiesWithTheRightStatus(t *testing.T) {
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, backend, scimconfig.SyncModeUsersOnly)
			id := h.createUser(1, nil)
			tests := []struct {
				name     string
				method   string
				path     string
				body     string
				status   int
				scimType string
				detail   string
			}{
				{
					name:     "malformed JSON",
					method:   http.MethodPost,
					path:     "/Users",
					body:     `{"userName": `,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidSyntax,
				},
				{
					name:     "JSON array instead of object",
					method:   http.MethodPost,
					path:     "/Users",
					body:     `[1,2]`,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidSyntax,
				},
				{
					name:     "two JSON values",
					method:   http.MethodPost,
					path:     "/Users",
					body:     `{} {}`,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidSyntax,
				},
				{
					name:     "empty body",
					method:   http.MethodPost,
					path:     "/Users",
					body:     ``,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidSyntax,
				},
				{
					name:   "body over 1 MiB",
					method: http.MethodPost,
					path:   "/Users",
					body:   `{"userName":"` + strings.Repeat("a", MaxBodyBytes) + `"}`,
					status: http.StatusRequestEntityTooLarge,
				},
				{
					name:     "userName of the wrong type",
					method:   http.MethodPost,
					path:     "/Users",
					body:     `{"userName": 5}`,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidValue,
					detail:   "userName",
				},
				{
					name:     "userName longer than the store indexes",
					method:   http.MethodPost,
					path:     "/Users",
					body:     `{"userName": "` + randomHex(3000) + `", "` + axonURN + `": {"badgeId": "9"}}`,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidValue,
					detail:   "userName",
				},
				{
					name:     "active of the wrong type",
					method:   http.MethodPost,
					path:     "/Users",
					body:     `{"userName": "x", "active": "maybe"}`,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidValue,
					detail:   "active",
				},
				{
					name:     "badgeId missing",
					method:   http.MethodPost,
					path:     "/Users",
					body:     `{"userName": "nobadge@agency.example", "externalId": "00unobadge"}`,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidValue,
					detail:   "badgeId",
				},
				{
					name:   "unknown rank",
					method: http.MethodPost,
					path:   "/Users",
					body: `{"userName": "r@agency.example", "` + axonURN +
						`": {"badgeId": "9", "rankName": "Admiral"}}`,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidValue,
					detail:   "Admiral",
				},
				{
					name:   "unknown role",
					method: http.MethodPost,
					path:   "/Users",
					body: `{"userName": "r@agency.example", "` + axonURN +
						`": {"badgeId": "9", "axonRole": "Overlord"}}`,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidValue,
					detail:   "Overlord",
				},
				{
					name:   "unknown evidence group",
					method: http.MethodPost,
					path:   "/Users",
					body: `{"userName": "r@agency.example", "` + axonURN +
						`": {"badgeId": "9", "evidenceGroupName": "Evidence-West"}}`,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidValue,
					detail:   "Evidence-West",
				},
				{
					name:   "duplicate email",
					method: http.MethodPost,
					path:   "/Users",
					body: `{"userName": "other@agency.example", ` +
						`"emails": [{"value": "OFFICER1@agency.example", "primary": true}], ` +
						`"` + axonURN + `": {"badgeId": "9"}}`,
					status:   http.StatusConflict,
					scimType: scimTypeUniqueness,
					detail:   "email",
				},
				{
					name:   "duplicate externalId",
					method: http.MethodPost,
					path:   "/Users",
					body: `{"userName": "other@agency.example", "externalId": "00u000001OKTA", ` +
						`"` + axonURN + `": {"badgeId": "9"}}`,
					status:   http.StatusConflict,
					scimType: scimTypeUniqueness,
					detail:   "externalId",
				},
				{
					name:     "invalid filter",
					method:   http.MethodGet,
					path:     "/Users?filter=" + "userName%20eq",
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidFilter,
				},
				{
					name:     "filter on an unknown attribute",
					method:   http.MethodGet,
					path:     "/Users?filter=shoeSize%20eq%20%2242%22",
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidFilter,
				},
				{
					name:     "startIndex not a number",
					method:   http.MethodGet,
					path:     "/Users?startIndex=abc",
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidValue,
				},
				{
					name:   "unknown user",
					method: http.MethodGet,
					path:   "/Users/00000000-0000-0000-0000-000000000000",
					status: http.StatusNotFound,
				},
				{
					name:   "PUT of an unknown user",
					method: http.MethodPut,
					path:   "/Users/nope",
					body:   `{"userName": "x", "` + axonURN + `": {"badgeId": "9"}}`,
					status: http.StatusNotFound,
				},
				{
					name:   "user id that is not UTF-8",
					method: http.MethodGet,
					path:   "/Users/%FF%FE",
					status: http.StatusNotFound,
				},
				{
					name:   "PATCH of a user id that is not UTF-8",
					method: http.MethodPatch,
					path:   "/Users/%FF",
					body: `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
						"Operations": [{"op": "replace", "value": {"active": false}}]}`,
					status: http.StatusNotFound,
				},
				{
					name:     "POST body that is not UTF-8",
					method:   http.MethodPost,
					path:     "/Users",
					body:     "{\"userName\": \"bad\xff@agency.example\", \"" + axonURN + "\": {\"badgeId\": \"8\"}}",
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidSyntax,
					detail:   "UTF-8",
				},
				{
					name:     "PATCH value that is not UTF-8",
					method:   http.MethodPatch,
					path:     "/Users/" + id,
					body:     "{\"Operations\": [{\"op\": \"replace\", \"path\": \"title\", \"value\": \"\xc3\"}]}",
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidSyntax,
					detail:   "UTF-8",
				},
				{
					name:     "PATCH with no operations",
					method:   http.MethodPatch,
					path:     "/Users/" + id,
					body:     `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidSyntax,
				},
				{
					name:     "PATCH with an unknown op",
					method:   http.MethodPatch,
					path:     "/Users/" + id,
					body:     `{"Operations": [{"op": "move", "path": "title", "value": "x"}]}`,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidSyntax,
				},
				{
					name:     "PATCH with a bad path",
					method:   http.MethodPatch,
					path:     "/Users/" + id,
					body:     `{"Operations": [{"op": "replace", "path": "emails[type eq", "value": "x"}]}`,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidPath,
				},
				{
					name:     "PATCH replacing a filtered email with a string",
					method:   http.MethodPatch,
					path:     "/Users/" + id,
					body:     `{"Operations": [{"op": "replace", "path": "emails[type eq \"work\"]", "value": "x@y"}]}`,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidValue,
					detail:   "emails",
				},
				{
					name:     "PATCH of an unknown attribute",
					method:   http.MethodPatch,
					path:     "/Users/" + id,
					body:     `{"Operations": [{"op": "replace", "path": "shoeSize", "value": "42"}]}`,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidPath,
				},
				{
					name:     "PATCH remove without a path",
					method:   http.MethodPatch,
					path:     "/Users/" + id,
					body:     `{"Operations": [{"op": "remove"}]}`,
					status:   http.StatusBadRequest,
					scimType: scimTypeNoTarget,
				},
				{
					name:     "PATCH removing the badge",
					method:   http.MethodPatch,
					path:     "/Users/" + id,
					body:     `{"Operations": [{"op": "remove", "path": "` + axonURN + `:badgeId"}]}`,
					status:   http.StatusBadRequest,
					scimType: scimTypeInvalidValue,
				},
				{
					name:   "another agency's path",
					method: http.MethodGet,
					path:   "/api/v2/agencies/another-agency/scim/Users",
					status: http.StatusNotFound,
				},
				{
					name:   "another agency's user",
					method: http.MethodGet,
					path:   "/api/v2/agencies/another-agency/scim/Users/" + id,
					status: http.StatusNotFound,
				},
				{name: "no such endpoint", method: http.MethodGet, path: "/Widgets", status: http.StatusNotFound},
				{
					name:   "a path under ServiceProviderConfig",
					method: http.MethodGet,
					path:   "/ServiceProviderConfig/x",
					status: http.StatusNotFound,
				},
				{
					name:   "search on the schemas is not a user search",
					method: http.MethodPost,
					path:   "/Schemas/.search",
					body:   `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}`,
					status: http.StatusNotFound,
				},
				{
					name:   "users-only agency refuses groups",
					method: http.MethodGet,
					path:   "/Groups",
					status: http.StatusForbidden,
				},
				{
					name:   "users-only agency refuses group creation",
					method: http.MethodPost,
					path:   "/Groups",
					body:   `{"displayName": "x"}`,
					status: http.StatusForbidden,
				},
				{
					name:   "method not allowed",
					method: http.MethodDelete,
					path:   "/Users",
					status: http.StatusMethodNotAllowed,
				},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := h.do(tt.method, tt.path, tt.body)
					if r.status != tt.status {
						t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
					}
					if ct := r.header.Get("Content-Type"); ct != ContentType {
						t.Errorf("Content-Type %q, want %q", ct, ContentType)
					}
					if tt.status == http.StatusMethodNotAllowed && r.header.Get("Allow") != "GET, POST" {
						t.Errorf("Allow %q, want the allowed methods in order: GET, POST", r.header.Get("Allow"))
					}
					m := r.json(t)
					if m["status"] != fmt.Sprint(tt.status) || m["schemas"].([]any)[0] != errorSchema {
						t.Errorf("not a SCIM error body: %s", r.body)
					}
					if tt.scimType != "" && m["scimType"] != tt.scimType {
						t.Errorf("scimType %v, want %s (%s)", m["scimType"], tt.scimType, r.body)
					}
					if tt.detail != "" && !strings.Contains(fmt.Sprint(m["detail"]), tt.detail) {
						t.Errorf("detail %q does not name %q", m["detail"], tt.detail)
					}
				})
			}
		})
	}
}

func TestETags_IfMatchAndIfNoneMatch(t *testing.T) {
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, backend, scimconfig.SyncModeUsersAndGroups)
			id := h.createUser(1, nil)
			patch := `{"Operations": [{"op": "replace", "path": "title", "value": "Sergeant"}]}`
			tests := []struct {
				name    string
				method  string
				body    string
				headers []string
				status  int
				etag    string
			}{
				{
					name:    "If-None-Match with the current version gives 304",
					method:  http.MethodGet,
					headers: []string{"If-None-Match", `W/"1"`},
					status:  http.StatusNotModified,
					etag:    `W/"1"`,
				},
				{
					name:    "If-None-Match with an old version gives the user",
					method:  http.MethodGet,
					headers: []string{"If-None-Match", `W/"7"`},
					status:  http.StatusOK,
					etag:    `W/"1"`,
				},
				{
					name:    "If-Match with a stale version gives 412",
					method:  http.MethodPatch,
					body:    patch,
					headers: []string{"If-Match", `W/"7"`},
					status:  http.StatusPreconditionFailed,
				},
				{
					name:    "If-Match with garbage gives 412",
					method:  http.MethodPatch,
					body:    patch,
					headers: []string{"If-Match", `"abc"`},
					status:  http.StatusPreconditionFailed,
				},
				{
					name:    "If-Match with the current version writes",
					method:  http.MethodPatch,
					body:    patch,
					headers: []string{"If-Match", `W/"1"`},
					status:  http.StatusOK,
					etag:    `W/"2"`,
				},
				{
					name:    "If-Match star writes",
					method:  http.MethodPatch,
					body:    strings.Replace(patch, "Sergeant", "Captain", 1),
					headers: []string{"If-Match", `*`},
					status:  http.StatusOK,
					etag:    `W/"3"`,
				},
				{
					name:    "GET with If-Match naming another version gives 412",
					method:  http.MethodGet,
					headers: []string{"If-Match", `W/"2"`},
					status:  http.StatusPreconditionFailed,
				},
				{
					name:    "GET with If-Match listing the current version gives the user",
					method:  http.MethodGet,
					headers: []string{"If-Match", `W/"2", W/"3"`},
					status:  http.StatusOK,
					etag:    `W/"3"`,
				},
				{
					name:    "PATCH with If-None-Match naming the current version gives 412",
					method:  http.MethodPatch,
					body:    patch,
					headers: []string{"If-None-Match", `W/"3"`},
					status:  http.StatusPreconditionFailed,
				},
				{
					name:    "PATCH with If-None-Match star gives 412: the user exists",
					method:  http.MethodPatch,
					body:    patch,
					headers: []string{"If-None-Match", `*`},
					status:  http.StatusPreconditionFailed,
				},
				{
					name:    "PUT with If-None-Match naming an old version writes",
					method:  http.MethodPut,
					body:    mustJSON(oktaUser(1)),
					headers: []string{"If-None-Match", `W/"1"`},
					status:  http.StatusOK,
					etag:    `W/"4"`,
				},
				{
					name:    "PATCH with If-Match listing the current version second writes",
					method:  http.MethodPatch,
					body:    patch,
					headers: []string{"If-Match", `W/"9", "4"`},
					status:  http.StatusOK,
					etag:    `W/"5"`,
				},
				{
					name:    "DELETE with If-None-Match star gives 412",
					method:  http.MethodDelete,
					headers: []string{"If-None-Match", `*`},
					status:  http.StatusPreconditionFailed,
				},
				{
					name:    "PUT with a stale version gives 412",
					method:  http.MethodPut,
					body:    mustJSON(oktaUser(1)),
					headers: []string{"If-Match", `W/"1"`},
					status:  http.StatusPreconditionFailed,
				},
				{
					name:    "DELETE with a stale version gives 412",
					method:  http.MethodDelete,
					headers: []string{"If-Match", `W/"1"`},
					status:  http.StatusPreconditionFailed,
				},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := h.do(tt.method, "/Users/"+id, tt.body, tt.headers...)
					if r.status != tt.status {
						t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
					}
					if tt.etag != "" && r.header.Get("ETag") != tt.etag {
						t.Errorf("ETag %q, want %q", r.header.Get("ETag"), tt.etag)
					}
					if tt.status == http.StatusNotModified && len(r.body) != 0 {
						t.Errorf("304 with a body: %s", r.body)
					}
				})
			}
		})
	}
}

// axonURN is the agency extension of the test configuration.
const axonURN = scimconfig.DefaultExtensionSchema

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestAuth_RejectionsAre401WithTheCauseAndAreReported(t *testing.T) {
	h := newHarness(t, "sqlite", scimconfig.SyncModeUsersOnly)
	lookalike := strings.Replace(h.org.srv.URL, "127.0.0.1", "127.0.0.1.okta.example", 1) + "/oauth2/default"
	tests := []struct {
		name   string
		auth   string
		reason string
		detail string
	}{
		{name: "no header", auth: "", reason: scimconfig.ReasonMissingToken},
		{name: "basic auth", auth: "Basic dXNlcjpwYXNz", reason: scimconfig.ReasonMissingToken},
		{name: "garbage token", auth: "Bearer abc.def", reason: scimconfig.ReasonMalformedToken},
		{
			name:   "look-alike issuer",
			auth:   "Bearer " + h.org.token(t, func(c jwt.MapClaims) { c["iss"] = lookalike }),
			reason: scimconfig.ReasonIssuerMismatch,
			detail: lookalike,
		},
		{
			name:   "expired",
			auth:   "Bearer " + h.org.token(t, func(c jwt.MapClaims) { c["exp"] = int64(1000) }),
			reason: scimconfig.ReasonTokenExpired,
		},
		{
			name:   "not yet valid",
			auth:   "Bearer " + h.org.token(t, func(c jwt.MapClaims) { c["nbf"] = int64(4102444800) }),
			reason: scimconfig.ReasonTokenNotYetValid,
		},
		{
			name:   "wrong audience",
			auth:   "Bearer " + h.org.token(t, func(c jwt.MapClaims) { c["aud"] = "api://payroll" }),
			reason: scimconfig.ReasonWrongAudience,
			detail: "api://payroll",
		},
		{
			name:   "tampered signature",
			auth:   "Bearer " + tamper(h.org.token(t, nil)),
			reason: scimconfig.ReasonInvalidSignature,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(http.MethodGet, "/Users", "", "Authorization", tt.auth)
			if r.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", r.status, r.body)
			}
			if wa := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(wa, `Bearer error="invalid_token"`) {
				t.Errorf("WWW-Authenticate %q", wa)
			}
			m := r.json(t)
			detail := fmt.Sprint(m["detail"])
			if !strings.Contains(detail, tt.reason) || (tt.detail != "" && !strings.Contains(detail, tt.detail)) {
				t.Errorf("detail %q does not name %s / %s", detail, tt.reason, tt.detail)
			}
			rep, err := h.monitor.Report(t.Context(), testAgency, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rej, ok := rep.Rejections[tt.reason]; !ok || rej.Count < 1 {
				t.Errorf("report has no %s rejection: %+v", tt.reason, rep.Rejections)
			}
		})
	}
	rep, _ := h.monitor.Report(t.Context(), testAgency, h.store)
	if iss := rep.Rejections[scimconfig.ReasonIssuerMismatch]; iss.Expected != h.org.srv.URL || iss.Seen != lookalike {
		t.Errorf("issuer rejection expected/seen = %q/%q", iss.Expected, iss.Seen)
	}
	if rep.LastAuthenticated != nil {
		t.Errorf("a rejected request was reported as authenticated: %+v", rep.LastAuthenticated)
	}
	if r := h.do(http.MethodGet, "/Users", ""); r.status != http.StatusOK {
		t.Fatalf("good token: %d", r.status)
	}
	rep, _ = h.monitor.Report(t.Context(), testAgency, h.store)
	if rep.LastAuthenticated == nil || rep.LastAuthenticated.ClientID != "0oa-scim-client" ||
		rep.LastAuthenticated.Status != http.StatusOK {
		t.Errorf("last authenticated = %+v", rep.LastAuthenticated)
	}
	if strings.Contains(mustJSON(rep), h.token) {
		t.Errorf("report holds a token")
	}
}

// tamper flips a character of a token's signature.
func tamper(tok string) string {
	i := strings.LastIndexByte(tok, '.') + 5
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

func TestAuth_UnknownClientIsRejectedWhenClientIDsAreSet(t *testing.T) {
	h := newHarness(t, "sqlite", scimconfig.SyncModeUsersOnly)
	cfg := testConfig(h.org.srv.URL, scimconfig.SyncModeUsersOnly)
	cfg.ClientIDs = []string{"0oa-expected"}
	s := newServerFor(t, h, cfg)
	r := doWith(t, s, h.token)
	if r.status != http.StatusUnauthorized || !strings.Contains(string(r.body), scimconfig.ReasonUnknownClient) ||
		!strings.Contains(string(r.body), "0oa-expected") {
		t.Fatalf("status %d body %s, want 401 UnknownClient naming the expected client", r.status, r.body)
	}
}

func TestUsers_AttributesAndExcludedAttributes(t *testing.T) {
	h := newHarness(t, "sqlite", scimconfig.SyncModeUsersOnly)
	id := h.createUser(1, nil)
	tests := []struct {
		name    string
		query   string
		present []string
		absent  []string
	}{
		{
			name:    "attributes keeps id and schemas",
			query:   "attributes=userName",
			present: []string{"id", "schemas", "userName"},
			absent:  []string{"emails", "name", "meta"},
		},
		{
			name:    "sub-attribute",
			query:   "attributes=name.givenName,emails.value",
			present: []string{"name", "emails"},
			absent:  []string{"displayName"},
		},
		{
			name:    "extension attribute",
			query:   "attributes=urn:ietf:params:scim:schemas:extension:2.0:axon:badgeId",
			present: []string{"urn:ietf:params:scim:schemas:extension:2.0:axon"},
			absent:  []string{"userName"},
		},
		{
			name:    "excluded",
			query:   "excludedAttributes=emails,groups",
			present: []string{"userName", "id"},
			absent:  []string{"emails", "groups"},
		},
		{name: "id cannot be excluded", query: "excludedAttributes=id", present: []string{"id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/Users/" + id + "?" + tt.query, "/Users?" + tt.query} {
				r := h.do(http.MethodGet, path, "")
				if r.status != http.StatusOK {
					t.Fatalf("%s: %d %s", path, r.status, r.body)
				}
				m := r.json(t)
				if res, ok := m["Resources"].([]any); ok {
					m = res[0].(map[string]any)
				}
				for _, k := range tt.present {
					if _, ok := m[k]; !ok {
						t.Errorf("%s: %s missing: %v", path, k, m)
					}
				}
				for _, k := range tt.absent {
					if _, ok := m[k]; ok {
						t.Errorf("%s: %s present", path, k)
					}
				}
			}
		})
	}
}

func TestSearch_PostDotSearchFiltersAndPages(t *testing.T) {
	h := newHarness(t, "sqlite", scimconfig.SyncModeUsersOnly)
	for n := 1; n <= 3; n++ {
		h.createUser(n, nil)
	}
	for _, path := range []string{"/.search", "/Users/.search"} {
		r := h.do(http.MethodPost, path, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
			"filter": "userName sw \"officer\" and not (userName eq \"officer2@agency.example\")",
			"sortBy": "userName", "sortOrder": "descending", "startIndex": 1, "count": 10, "attributes": ["userName"]}`)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		var lr struct {
			TotalResults int
			Resources    []map[string]any
		}
		if err := json.Unmarshal(r.body, &lr); err != nil {
			t.Fatal(err)
		}
		if lr.TotalResults != 2 || lr.Resources[0]["userName"] != "officer3@agency.example" {
			t.Errorf("%s: got %s", path, r.body)
		}
	}
}

func TestDiscovery_EndpointsDescribeTheServer(t *testing.T) {
	h := newHarness(t, "sqlite", scimconfig.SyncModeUsersOnly)
	tests := []struct {
		path string
		want string
	}{
		{path: "/ServiceProviderConfig", want: `"patch":{"supported":true}`},
		{path: "/ResourceTypes", want: `"endpoint":"/Users"`},
		{path: "/ResourceTypes/User", want: `urn:ietf:params:scim:schemas:extension:2.0:axon`},
		{path: "/Schemas", want: `"name":"badgeId"`},
		{path: "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", want: `"name":"userName"`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := h.do(http.MethodGet, tt.path, "")
			if r.status != http.StatusOK || !strings.Contains(string(r.body), tt.want) {
				t.Errorf("%d %s, want %s", r.status, r.body, tt.want)
			}
		})
	}
	if r := h.do(http.MethodGet, "/ResourceTypes/Group", ""); r.status != http.StatusNotFound {
		t.Errorf("users-only agency lists the Group resource type: %d", r.status)
	}
}
