package oktasim_test

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// receiver is a small SCIM server for the engine tests: it checks Okta's bearer tokens
// against the org's JWKS, keeps users and groups in memory, and records every request.
type receiver struct {
	t      testing.TB
	issuer string
	jwks   string

	mu       sync.Mutex
	keys     map[string]*rsa.PublicKey
	users    map[string]map[string]any
	groups   map[string]map[string]any
	requests []string
	next     int
	// badgeRequired refuses users without an extension badgeId, as the agency does.
	badgeRequired bool
	srv           *httptest.Server
}

func newReceiver(t testing.TB, orgURL string) *receiver {
	rc := &receiver{t: t, issuer: orgURL + "/oauth2/default", jwks: orgURL + "/oauth2/default/v1/keys",
		users: map[string]map[string]any{}, groups: map[string]map[string]any{}, badgeRequired: true}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) baseURL() string { return rc.srv.URL + "/api/v2/agencies/a1/scim" }

func (rc *receiver) fail(w http.ResponseWriter, status int, scimType, detail string) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).
		Encode(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
			"status": fmt.Sprint(status), "scimType": scimType, "detail": detail})
}

func (rc *receiver) reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// verify checks the token the way the SCIM server must: RS256 with a key from the issuer's
// JWKS (cached, fetched again for an unknown kid), issuer, audience and expiry.
func (rc *receiver) verify(r *http.Request) error {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return fmt.Errorf("no bearer token")
	}
	_, err := jwt.Parse(raw, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		return rc.key(kid)
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(rc.issuer), jwt.WithAudience("api://default"),
		jwt.WithExpirationRequired())
	return err
}

func (rc *receiver) key(kid string) (*rsa.PublicKey, error) {
	rc.mu.Lock()
	k, ok := rc.keys[kid]
	rc.mu.Unlock()
	if ok {
		return k, nil
	}
	resp, err := http.Get(rc.jwks)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, err
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.keys = map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		n, _ := base64.RawURLEncoding.DecodeString(k["n"])
		e, _ := base64.RawURLEncoding.DecodeString(k["e"])
		rc.keys[k["kid"]] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	if k, ok := rc.keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown kid")
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.requests = append(
		rc.requests,
		r.Method+" "+strings.TrimPrefix(r.URL.RequestURI(), "/api/v2/agencies/a1/scim"),
	)
	rc.mu.Unlock()
	if err := rc.verify(r); err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		rc.fail(w, http.StatusUnauthorized, "", "token rejected: "+err.Error())
		return
	}
	rel := strings.TrimPrefix(r.URL.Path, "/api/v2/agencies/a1/scim")
	var body map[string]any
	if r.Body != nil {
		_ = json.NewDecoder(r.Body).Decode(&body)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	kind, id, _ := strings.Cut(strings.TrimPrefix(rel, "/"), "/")
	store := rc.users
	if kind == "Groups" {
		store = rc.groups
	}
	switch {
	case r.Method == http.MethodGet && id == "":
		rc.list(w, r, store)
	case r.Method == http.MethodGet:
		if doc, ok := store[id]; ok {
			rc.reply(w, http.StatusOK, doc)
			return
		}
		rc.fail(w, http.StatusNotFound, "", "not found")
	case r.Method == http.MethodPost:
		if kind == "Users" && rc.badgeRequired &&
			objMap(body["urn:ietf:params:scim:schemas:extension:2.0:axon"])["badgeId"] == nil {
			rc.fail(w, http.StatusBadRequest, "invalidValue", "badgeId is required")
			return
		}
		for _, doc := range store {
			if kind == "Users" &&
				strings.EqualFold(fmt.Sprint(doc["userName"]), fmt.Sprint(body["userName"])) {
				rc.fail(w, http.StatusConflict, "uniqueness", "userName is taken")
				return
			}
		}
		rc.next++
		body["id"] = fmt.Sprintf("scim-%d", rc.next)
		delete(body, "password")
		store[fmt.Sprint(body["id"])] = body
		rc.reply(w, http.StatusCreated, body)
	case r.Method == http.MethodPut:
		if _, ok := store[id]; !ok {
			rc.fail(w, http.StatusNotFound, "", "not found")
			return
		}
		body["id"] = id
		store[id] = body
		rc.reply(w, http.StatusOK, body)
	case r.Method == http.MethodPatch:
		doc, ok := store[id]
		if !ok {
			rc.fail(w, http.StatusNotFound, "", "not found")
			return
		}
		rc.patch(doc, body)
		rc.reply(w, http.StatusOK, doc)
	case r.Method == http.MethodDelete:
		delete(store, id)
		w.WriteHeader(http.StatusNoContent)
	}
}

func objMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func (rc *receiver) list(w http.ResponseWriter, r *http.Request, store map[string]map[string]any) {
	f := r.URL.Query().Get("filter")
	res := []any{}
	for _, doc := range store {
		attr, val, ok := strings.Cut(f, " eq ")
		if f == "" || (ok && strings.EqualFold(fmt.Sprint(doc[attr]), strings.Trim(val, `"`))) {
			res = append(res, doc)
		}
	}
	if f == "" && len(res) > 2 {
		res = res[:2]
	}
	rc.reply(
		w,
		http.StatusOK,
		map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
			"totalResults": len(res), "startIndex": 1, "itemsPerPage": len(res), "Resources": res},
	)
}

// patch applies the operations Okta sends: path-less replace, add members, remove members[value eq "x"].
func (rc *receiver) patch(doc, body map[string]any) {
	ops, _ := body["Operations"].([]any)
	for _, o := range ops {
		op := objMap(o)
		switch p := fmt.Sprint(op["path"]); {
		case op["path"] == nil:
			for k, v := range objMap(op["value"]) {
				doc[k] = v
			}
		case p == "members" && op["op"] == "add":
			members, _ := doc["members"].([]any)
			doc["members"] = append(members, op["value"].([]any)...)
		case strings.HasPrefix(p, "members[value eq "):
			gone := strings.Trim(strings.TrimSuffix(strings.TrimPrefix(p, "members[value eq "), "]"), `"`)
			members, _ := doc["members"].([]any)
			var keep []any
			for _, m := range members {
				if objMap(m)["value"] != gone {
					keep = append(keep, m)
				}
			}
			doc["members"] = keep
		}
	}
}

func (rc *receiver) snapshot() (map[string]map[string]any, map[string]map[string]any, []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	users := map[string]map[string]any{}
	for k, v := range rc.users {
		users[k] = v
	}
	groups := map[string]map[string]any{}
	for k, v := range rc.groups {
		groups[k] = v
	}
	return users, groups, append([]string(nil), rc.requests...)
}

func (rc *receiver) userByName(name string) map[string]any {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, u := range rc.users {
		if strings.EqualFold(fmt.Sprint(u["userName"]), name) {
			return u
		}
	}
	return nil
}
