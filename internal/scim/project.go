package scim

import (
	"encoding/json"
	"strings"

	"github.com/provisioning-dev/scim-operator/internal/filter"
)

// selectAttributes applies attributes / excludedAttributes (RFC 7644 section 3.9) to a
// rendered resource. schemas and id are always returned (id is "returned: always" in RFC 7643;
// meta is returned only when selected, like any other attribute).
func (s *schemaSet) selectAttributes(body []byte, attrs, excluded []filter.AttrPath) ([]byte, error) {
	if len(attrs) == 0 && len(excluded) == 0 {
		return body, nil
	}
	d, err := toDocument(body)
	if err != nil {
		return nil, err
	}
	if len(attrs) > 0 {
		out := document{"schemas": d["schemas"], "id": d["id"]}
		for _, a := range attrs {
			s.copyPath(d, out, a)
		}
		d = out
	}
	for _, e := range excluded {
		s.dropPath(d, e)
	}
	return json.Marshal(d)
}

// containerKey returns the key of the map that holds p's attribute ("" for the top level).
func (s *schemaSet) containerKey(p filter.AttrPath) (string, bool) {
	if p.URN == "" || strings.EqualFold(p.URN, s.core.ID) {
		return "", true
	}
	ext, ok := s.extension(p.URN)
	return ext.ID, ok
}

func (s *schemaSet) copyPath(from, to document, p filter.AttrPath) {
	key, ok := s.containerKey(p)
	if !ok {
		return
	}
	src, dst := map[string]any(from), map[string]any(to)
	if key != "" {
		m, ok := from[key].(map[string]any)
		if !ok {
			return
		}
		if p.Name == "" {
			to[key] = m
			return
		}
		src = m
		d, ok := to[key].(map[string]any)
		if !ok {
			d = map[string]any{}
			to[key] = d
		}
		dst = d
	}
	name, v, ok := lookupKey(src, p.Name)
	if !ok {
		return
	}
	if p.Sub == "" {
		dst[name] = v
		return
	}
	copySub(dst, name, v, p.Sub)
}

func copySub(dst map[string]any, name string, v any, sub string) {
	switch x := v.(type) {
	case map[string]any:
		k, sv, ok := lookupKey(x, sub)
		if !ok {
			return
		}
		m, _ := dst[name].(map[string]any)
		if m == nil {
			m = map[string]any{}
			dst[name] = m
		}
		m[k] = sv
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if obj, ok := e.(map[string]any); ok {
				if k, sv, ok := lookupKey(obj, sub); ok {
					out = append(out, map[string]any{k: sv})
				}
			}
		}
		dst[name] = out
	}
}

func (s *schemaSet) dropPath(d document, p filter.AttrPath) {
	key, ok := s.containerKey(p)
	if !ok {
		return
	}
	m := map[string]any(d)
	if key != "" {
		if p.Name == "" {
			delete(d, key)
			return
		}
		if m, ok = d[key].(map[string]any); !ok {
			return
		}
	}
	name, v, ok := lookupKey(m, p.Name)
	if !ok || (key == "" && (name == "id" || name == "schemas")) {
		return
	}
	if p.Sub == "" {
		delete(m, name)
		return
	}
	switch x := v.(type) {
	case map[string]any:
		if k, _, ok := lookupKey(x, p.Sub); ok {
			delete(x, k)
		}
	case []any:
		for _, e := range x {
			if obj, ok := e.(map[string]any); ok {
				if k, _, ok := lookupKey(obj, p.Sub); ok {
					delete(obj, k)
				}
			}
		}
	}
}

func lookupKey(m map[string]any, name string) (string, any, bool) {
	if v, ok := m[name]; ok {
		return name, v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return k, v, true
		}
	}
	return "", nil, false
}
