package oktasim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// maxBody bounds every request body the simulator reads.
const maxBody = 1 << 20

// apiFunc handles one management API call and answers with a value or an error.
type apiFunc func(r *http.Request) (int, any, error)

// routes registers every endpoint; docs/oktasim.md lists them with the Okta doc each follows.
func (s *Sim) routes() http.Handler {
	mux := http.NewServeMux()
	s.appRoutes(mux)
	s.schemaRoutes(mux)
	s.directoryRoutes(mux)
	s.authServerRoutes(mux)
	s.oauthRoutes(mux)
	s.apiTokenRoutes(mux)
	s.adminRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, newAPIError(http.StatusNotFound, "E0000007",
			"Not found: Resource not found: "+r.URL.Path+" (URL)"))
	})
	return s.withCommonHeaders(mux)
}

// withCommonHeaders adds a request id and applies injected faults and rate limits to every
// request outside the admin API.
func (s *Sim) withCommonHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Okta-Request-Id", randomToken(27))
		if strings.HasPrefix(r.URL.Path, adminPrefix) {
			next.ServeHTTP(w, r)
			return
		}
		if !s.applyFaults(w, r, next) {
			return
		}
		if !s.limits.admit(w, r, s.now()) {
			writeError(w, errRateLimited())
			return
		}
		next.ServeHTTP(w, r)
	})
}

// api wraps a management API handler with authentication: an SSWS API token, or a bearer
// access token from the org authorization server carrying scope (or its .manage sibling).
func (s *Sim) api(scope string, h apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.authorize(w, r, scope); err != nil {
			writeError(w, err)
			return
		}
		status, v, err := h(r)
		if err != nil {
			writeError(w, err)
			return
		}
		if v == nil {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, v)
	})
}

// decode reads a JSON body of at most maxBody bytes into v.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return errBadBody(err.Error())
	}
	if len(body) > maxBody {
		return errBadBody("request body too large")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return errBadBody("empty request body")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errBadBody(err.Error())
	}
	return nil
}

// page is one page of a list, with the Link header values to send.
type page[T any] struct {
	items []T
	next  string
}

// paginate cuts a list (already in creation order) at the `after` cursor and `limit`. The
// cursor is the id of the last item of the previous page, as Okta's opaque cursors behave.
func paginate[T any](r *http.Request, all []T, id func(T) string, defLimit, maxLimit int) (page[T], error) {
	limit := defLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n == 0 || n < -1:
			return page[T]{}, errValidation("limit", "limit: must be a positive integer, or -1 for the default")
		case n > 0:
			limit = min(n, maxLimit)
		}
	}
	start := 0
	if after := r.URL.Query().Get("after"); after != "" {
		start = len(all)
		for i, it := range all {
			if id(it) == after {
				start = i + 1
				break
			}
		}
	}
	end := min(start+limit, len(all))
	p := page[T]{items: all[start:end]}
	if end < len(all) && end > start {
		p.next = id(all[end-1])
	}
	return p, nil
}

// setLinks writes Okta's Link headers: self always, next when there is another page.
func (s *Sim) setLinks(w http.ResponseWriter, r *http.Request, next string) {
	self := s.URL() + r.URL.Path
	q := r.URL.Query()
	if len(q) > 0 {
		self += "?" + q.Encode()
	}
	w.Header().Add("Link", "<"+self+`>; rel="self"`)
	if next == "" {
		return
	}
	q.Set("after", next)
	w.Header().Add("Link", "<"+s.URL()+r.URL.Path+"?"+q.Encode()+`>; rel="next"`)
}

// list answers a paginated list with Link headers.
func list[T any](
	s *Sim,
	r *http.Request,
	w http.ResponseWriter,
	all []T,
	id func(T) string,
	defLimit, maxLimit int,
) error {
	p, err := paginate(r, all, id, defLimit, maxLimit)
	if err != nil {
		return err
	}
	s.setLinks(w, r, p.next)
	if p.items == nil {
		p.items = []T{}
	}
	writeJSON(w, http.StatusOK, p.items)
	return nil
}

// listHandler is api() for list endpoints, which write their own Link headers.
func (s *Sim) listHandler(scope string, h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.authorize(w, r, scope); err != nil {
			writeError(w, err)
			return
		}
		if err := h(w, r); err != nil {
			writeError(w, err)
		}
	})
}

// filterParam parses the filter query parameter, or search when filter is absent.
func filterParam(r *http.Request) (map[string]string, error) {
	expr := r.URL.Query().Get("filter")
	if expr == "" {
		expr = r.URL.Query().Get("search")
	}
	return parseFilter(expr)
}

// parseFilter reads Okta's simple filter expressions: clauses `attr eq "value"` joined by
// `and`. Other operators are refused with E0000031-style validation errors.
func parseFilter(expr string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(expr) == "" {
		return out, nil
	}
	for _, clause := range splitAnd(expr) {
		parts := strings.SplitN(strings.TrimSpace(clause), " ", 3)
		if len(parts) != 3 || !strings.EqualFold(parts[1], "eq") {
			return nil, newAPIError(
				http.StatusBadRequest,
				"E0000031",
				"Invalid search criteria.",
				"filter: only `attribute eq \"value\"` clauses joined by and are supported",
			)
		}
		v := strings.TrimSpace(parts[2])
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		}
		out[parts[0]] = v
	}
	return out, nil
}

// matchesFilter reports whether a resource meets every clause of a parseFilter result. field
// gives the resource's value for a key, and false for a key it does not have (which matches
// nothing). Profile attributes compare case-insensitively, the rest exactly.
func matchesFilter(f map[string]string, field func(key string) (string, bool)) bool {
	for k, want := range f {
		got, ok := field(k)
		if !ok {
			return false
		}
		if strings.HasPrefix(k, "profile.") {
			if !strings.EqualFold(got, want) {
				return false
			}
		} else if got != want {
			return false
		}
	}
	return true
}

func splitAnd(expr string) []string {
	var out []string
	rest := expr
	for {
		i := strings.Index(strings.ToLower(rest), " and ")
		if i < 0 {
			return append(out, rest)
		}
		out = append(out, rest[:i])
		rest = rest[i+5:]
	}
}

// Helpers for documents held as generic JSON.

func strOf(v any) string {
	s, _ := v.(string)
	return s
}

func objOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// path walks nested objects: path(doc, "settings", "oauthClient").
func path(doc map[string]any, keys ...string) any {
	var cur any = doc
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

// ensure returns the object at key, creating it when missing.
func ensure(doc map[string]any, key string) map[string]any {
	m, ok := doc[key].(map[string]any)
	if !ok {
		m = map[string]any{}
		doc[key] = m
	}
	return m
}

func strList(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func anyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// clone deep-copies a JSON document.
func clone(doc map[string]any) map[string]any {
	b, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Errorf("clone document: %w", err))
	}
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Errorf("clone document: %w", err))
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// valuesBy returns m's values ordered by rank, ascending: the order in which Okta lists them.
func valuesBy[V any](m map[string]V, rank func(V) int64) []V {
	return slices.SortedFunc(maps.Values(m), func(x, y V) int { return cmp.Compare(rank(x), rank(y)) })
}

func queryBool(r *http.Request, key string, def bool) bool {
	v := r.URL.Query().Get(key)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def
	}
	return b
}
