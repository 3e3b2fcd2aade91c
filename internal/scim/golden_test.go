package scim

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// conversation is a golden file under testdata/: requests as an identity provider sends them
// and the parts of the answers that matter. Expected bodies are subsets: every key given must
// match; "<any>" matches any present value; "${name}" is a value captured earlier.
type conversation struct {
	Description string `json:"description"`
	SyncMode    string `json:"syncMode"`
	Steps       []step `json:"steps"`
}

type step struct {
	Name    string `json:"name"`
	Request struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"request"`
	Response struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    any               `json:"body"`
		Absent  []string          `json:"absent"`
	} `json:"response"`
	// Capture names values of the response body (top-level keys) for later steps.
	Capture map[string]string `json:"capture"`
}

func TestGoldenConversations(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, backend := range backends(t) {
		for _, file := range files {
			t.Run(backend+"/"+strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
				runConversation(t, backend, file)
			})
		}
	}
}

func runConversation(t *testing.T, backend, file string) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var c conversation
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	h := newHarness(t, backend, c.SyncMode)
	vars := map[string]string{}
	for i, s := range c.Steps {
		headers := []string{}
		for k, v := range s.Request.Headers {
			headers = append(headers, k, expand(v, vars))
		}
		resp := h.do(
			s.Request.Method,
			encodePath(expand(s.Request.Path, vars)),
			expand(string(s.Request.Body), vars),
			headers...)
		where := fmt.Sprintf("step %d (%s): %s %s", i+1, s.Name, s.Request.Method, s.Request.Path)
		if resp.status != s.Response.Status {
			t.Fatalf("%s: status %d, want %d; body %s", where, resp.status, s.Response.Status, resp.body)
		}
		for k, v := range s.Response.Headers {
			if got := resp.header.Get(k); got != expand(v, vars) && (v != "<any>" || got == "") {
				t.Errorf("%s: header %s = %q, want %q", where, k, got, expand(v, vars))
			}
		}
		if s.Response.Body == nil && len(s.Capture) == 0 && len(s.Response.Absent) == 0 {
			continue
		}
		var got any
		if err := json.Unmarshal(resp.body, &got); err != nil {
			t.Fatalf("%s: body is not JSON: %v: %s", where, err, resp.body)
		}
		if s.Response.Body != nil {
			if diff := subset(expandAny(s.Response.Body, vars), got, "$"); diff != "" {
				t.Fatalf("%s: %s\nbody: %s", where, diff, resp.body)
			}
		}
		obj, _ := got.(map[string]any)
		for _, k := range s.Response.Absent {
			if _, ok := obj[k]; ok {
				t.Errorf("%s: response has %q; it must not", where, k)
			}
		}
		for name, key := range s.Capture {
			v, ok := obj[key].(string)
			if !ok {
				t.Fatalf("%s: cannot capture %q from %s", where, key, resp.body)
			}
			vars[name] = v
		}
	}
}

// encodePath escapes a readable query (spaces, quotes) the way a client would.
func encodePath(p string) string {
	path, query, ok := strings.Cut(p, "?")
	if !ok {
		return p
	}
	var parts []string
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
	}
	return path + "?" + strings.Join(parts, "&")
}

func expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "${"+k+"}", v)
	}
	return s
}

func expandAny(v any, vars map[string]string) any {
	switch x := v.(type) {
	case string:
		return expand(x, vars)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = expandAny(e, vars)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = expandAny(e, vars)
		}
		return out
	}
	return v
}

// subset returns "" when want is a subset of got, else where they differ.
func subset(want, got any, at string) string {
	if s, ok := want.(string); ok && s == "<any>" {
		if got == nil {
			return at + ": missing"
		}
		return ""
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %v, want an object", at, got)
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			gv, present := g[k]
			if !present {
				return fmt.Sprintf("%s.%s: missing", at, k)
			}
			if d := subset(w[k], gv, at+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %v, want %d values", at, got, len(w))
		}
		if strings.HasSuffix(at, ".Resources") {
			for i := range w {
				if d := subset(w[i], g[i], fmt.Sprintf("%s[%d]", at, i)); d != "" {
					return d
				}
			}
			return ""
		}
		// Multi-valued attributes have no order: each wanted value matches a distinct one.
		used := make([]bool, len(g))
	next:
		for i := range w {
			for j := range g {
				if !used[j] && subset(w[i], g[j], at) == "" {
					used[j] = true
					continue next
				}
			}
			return fmt.Sprintf("%s[%d]: no value matches %v", at, i, w[i])
		}
		return ""
	default:
		if fmt.Sprint(want) != fmt.Sprint(got) {
			return fmt.Sprintf("%s: got %v, want %v", at, got, want)
		}
		return ""
	}
}
