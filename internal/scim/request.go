package scim

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/provisioning-dev/scim-operator/internal/directory"
	"github.com/provisioning-dev/scim-operator/internal/filter"
)

// readBody reads a capped request body: 413 past MaxBodyBytes.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, badRequest(scimTypeInvalidSyntax, "request body is empty")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge,
				Detail: "request body is larger than " + strconv.Itoa(MaxBodyBytes) + " bytes", Err: err}
		}
		return nil, &Error{
			Status:   http.StatusBadRequest,
			ScimType: scimTypeInvalidSyntax,
			Detail:   "request body could not be read",
			Err:      err,
		}
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, badRequest(scimTypeInvalidSyntax, "request body is empty")
	}
	// JSON is UTF-8 (RFC 8259); encoding/json would turn stray bytes into U+FFFD, storing a
	// value the client never sent (and two different ones as the same userName).
	if !utf8.Valid(body) {
		return nil, badRequest(scimTypeInvalidSyntax, "request body is not valid UTF-8")
	}
	return body, nil
}

// readObject reads a body that must be one JSON object.
func readObject(r *http.Request) (map[string]any, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := decodeObject(body, &obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, badRequest(scimTypeInvalidSyntax, "request body must be a JSON object")
	}
	if err := checkDuplicateKeys(obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// baseURL is the absolute SCIM base URL the client reached, for meta.location and $ref.
func (s *Server) baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	host := r.Host
	if !validHost(host) {
		host = "localhost"
	}
	return scheme + "://" + host + s.basePath
}

// validHost keeps a client-sent Host header out of responses unless it looks like one.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && strings.IndexByte(".-:[]", c) < 0 {
			return false
		}
	}
	return true
}

// listParams are the query parameters of a list or search (RFC 7644 section 3.4.2).
type listParams struct {
	filter     filter.Expr
	startIndex int
	count      int
	sortBy     string
	sortOrder  directory.SortOrder
	attrs      []filter.AttrPath
	excluded   []filter.AttrPath
}

// queryParams reads a raw query string as url.ParseQuery and url.Values.Get do (the first
// value of a key; pairs that ParseQuery rejects are skipped), without building the map: a
// request reads a few parameters of a short query string once. Unlike ParseQuery it has no
// cap on the number of parameters, past which ParseQuery drops every one of them (a filter
// included); the 64 KiB header limit bounds the query string instead.
type queryParams string

// Get returns the first value of key, or "".
func (q queryParams) Get(key string) string {
	rest := string(q)
	for rest != "" {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil || k != key {
			continue
		}
		if v, err = url.QueryUnescape(v); err == nil {
			return v
		}
	}
	return ""
}

func (s *Server) listParamsFromQuery(r *http.Request) (listParams, error) {
	q := queryParams(r.URL.RawQuery)
	p := listParams{startIndex: 1, count: DefaultCount}
	var err error
	if f := q.Get("filter"); f != "" {
		if p.filter, err = s.parseFilter(f); err != nil {
			return p, err
		}
	}
	if p.startIndex, err = intParam(q.Get("startIndex"), "startIndex", 1); err != nil {
		return p, err
	}
	if p.count, err = intParam(q.Get("count"), "count", DefaultCount); err != nil {
		return p, err
	}
	p.sortBy = q.Get("sortBy")
	if p.sortOrder, err = sortOrder(q.Get("sortOrder")); err != nil {
		return p, err
	}
	if p.attrs, p.excluded, err = s.attrSelection(q); err != nil {
		return p, err
	}
	p.clamp()
	return p, nil
}

func (p *listParams) clamp() {
	p.startIndex = max(p.startIndex, 1)
	p.count = min(max(p.count, 0), MaxResults)
}

func (s *Server) parseFilter(f string) (filter.Expr, error) {
	e, err := filter.Parse(f, s.opts...)
	if err != nil {
		return nil, &Error{
			Status:   http.StatusBadRequest,
			ScimType: scimTypeInvalidFilter,
			Detail:   err.Error(),
			Err:      err,
		}
	}
	return e, nil
}

func intParam(v, name string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badRequest(scimTypeInvalidValue, "%s must be an integer", name)
	}
	return n, nil
}

func sortOrder(v string) (directory.SortOrder, error) {
	switch strings.ToLower(v) {
	case "", "ascending":
		return directory.Ascending, nil
	case "descending":
		return directory.Descending, nil
	}
	return 0, badRequest(scimTypeInvalidValue, "sortOrder must be ascending or descending")
}

func splitList(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// attrSelection parses the attributes and excludedAttributes query parameters.
func (s *Server) attrSelection(q queryParams) (attrs, excluded []filter.AttrPath, err error) {
	if attrs, err = s.attrList(splitList(q.Get("attributes"))); err != nil {
		return nil, nil, err
	}
	if excluded, err = s.attrList(splitList(q.Get("excludedAttributes"))); err != nil {
		return nil, nil, err
	}
	return attrs, excluded, nil
}

func (s *Server) attrList(names []string) ([]filter.AttrPath, error) {
	out := make([]filter.AttrPath, 0, len(names))
	for _, n := range names {
		p, err := filter.ParsePath(n, s.opts...)
		if err != nil || p.Filter != nil {
			return nil, badRequest(scimTypeInvalidPath, "attribute %q is not an attribute path", n)
		}
		out = append(out, p.AttrPath)
	}
	return out, nil
}

// wants reports whether a response with these attribute selections includes attr, a
// top-level attribute of the core schema, so the store can skip loading it. Paths name it
// with or without the core schema's URN (RFC 7644 section 3.10), as the projection reads them.
func (s *schemaSet) wants(attrs, excluded []filter.AttrPath, attr string) bool {
	names := func(p filter.AttrPath) bool {
		key, ok := s.containerKey(p)
		return ok && key == "" && strings.EqualFold(p.Name, attr)
	}
	for _, e := range excluded {
		if e.Sub == "" && names(e) {
			return false
		}
	}
	return len(attrs) == 0 || slices.ContainsFunc(attrs, names)
}

// writeConditions reads If-Match and If-None-Match into write options, which the store checks
// in the write's transaction (RFC 7232: a write whose condition fails answers 412). If-Match
// "*" and no header give no condition; an If-Match tag that names no version matches nothing.
// If-None-Match "*" fails on any existing resource; its tags that name no version are ignored.
func writeConditions(r *http.Request) []directory.WriteOption {
	var opts []directory.WriteOption
	if versions, all := ifMatchVersions(r); !all {
		for _, v := range versions {
			opts = append(opts, directory.IfVersion(v))
		}
	}
	for tag := range strings.SplitSeq(r.Header.Get("If-None-Match"), ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			opts = append(opts, directory.IfAbsent())
		} else if v, ok := directory.ParseETag(tag); ok {
			opts = append(opts, directory.IfNotVersion(v))
		}
	}
	return opts
}

// ifMatchVersions reads If-Match: the versions its tags name (-1 for a tag that names none,
// which matches nothing), or all when there is no header or it holds "*".
func ifMatchVersions(r *http.Request) (versions []int64, all bool) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return nil, true
	}
	for tag := range strings.SplitSeq(h, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return nil, true
		}
		v, ok := directory.ParseETag(tag)
		if !ok {
			v = -1
		}
		versions = append(versions, v)
	}
	return versions, false
}

// ifMatchFails reports whether an If-Match header names neither "*" nor etag's version; a
// read with such a header answers 412 (RFC 7232 section 3.1).
func ifMatchFails(r *http.Request, etag string) bool {
	versions, all := ifMatchVersions(r)
	want, _ := directory.ParseETag(etag)
	return !all && !slices.Contains(versions, want)
}

// answerNotModified answers a read's preconditions: 412 when If-Match names another version,
// else 304 with the ETag when If-None-Match matches etag; it reports whether it answered, and
// otherwise writes nothing.
func answerNotModified(w http.ResponseWriter, r *http.Request, etag string) bool {
	if ifMatchFails(r, etag) {
		writeError(w, newError(http.StatusPreconditionFailed, "", "If-Match does not name the current version %s",
			etag))
		return true
	}
	if !notModified(r, etag) {
		return false
	}
	w.Header().Set("ETag", etag)
	w.WriteHeader(http.StatusNotModified)
	return true
}

// notModified reports whether If-None-Match matches etag.
func notModified(r *http.Request, etag string) bool {
	h := r.Header.Get("If-None-Match")
	if h == "" {
		return false
	}
	want, ok := directory.ParseETag(etag)
	for _, tag := range strings.Split(h, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true
		}
		if v, vok := directory.ParseETag(tag); ok && vok && v == want {
			return true
		}
	}
	return false
}
