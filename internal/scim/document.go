package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/provisioning-dev/scim-operator/internal/filter"
)

// document is a resource in its JSON form, with attribute names in their canonical spelling:
// core attributes at the top, extension attributes in a map under the schema URN. PATCH and
// attribute selection work on it; mapping to and from the directory model goes through it.
type document map[string]any

// schemaSet is what the server knows about the attributes of one resource type.
type schemaSet struct {
	core       schema
	extensions []schema // by URN, for the User resource: enterprise and the agency extension
	opts       []filter.Option
}

// extension returns the extension schema with this URN, compared case-insensitively.
func (s *schemaSet) extension(urn string) (schema, bool) {
	for _, e := range s.extensions {
		if strings.EqualFold(e.ID, urn) {
			return e, true
		}
	}
	return schema{}, false
}

// target is where a path points in a document: a container map (the document or an
// extension's map), an attribute of it and optionally a sub-attribute.
type target struct {
	urn  string // empty for the core schema
	attr attribute
	sub  *attribute
}

// resolve maps a parsed attribute path onto the schemas. A path naming only an extension URN
// has a zero attr.
func (s *schemaSet) resolve(p filter.AttrPath) (target, error) {
	attrs := s.core.Attributes
	var t target
	if p.URN != "" && !strings.EqualFold(p.URN, s.core.ID) {
		ext, ok := s.extension(p.URN)
		if !ok {
			return t, badRequest(scimTypeInvalidPath, "unknown schema %q", p.URN)
		}
		t.urn, attrs = ext.ID, ext.Attributes
		if p.Name == "" {
			return t, nil
		}
	}
	if p.Name == "" {
		return t, badRequest(scimTypeInvalidPath, "path names no attribute")
	}
	a, ok := find(attrs, p.Name)
	if !ok {
		if strings.EqualFold(p.Name, "schemas") && t.urn == "" {
			return target{attr: str("schemas").multi()}, nil
		}
		if strings.EqualFold(p.Name, "meta") && t.urn == "" {
			return target{attr: metaAttribute()}, nil
		}
		return t, badRequest(scimTypeInvalidPath, "unknown attribute %q", p.String())
	}
	t.attr = a
	if p.Sub != "" {
		sub, ok := find(a.SubAttributes, p.Sub)
		if !ok {
			return t, badRequest(scimTypeInvalidPath, "unknown attribute %q", p.String())
		}
		t.sub = &sub
	}
	return t, nil
}

// readOnly reports whether the client may not write the target; such values are ignored.
func (t target) readOnly() bool {
	if t.attr.Name == "" {
		return false
	}
	if t.attr.Mutability == mutReadOnly {
		return true
	}
	return t.sub != nil && t.sub.Mutability == mutReadOnly
}

// container returns the map the target's attribute lives in, creating an extension's map.
func (d document) container(urn string, create bool) map[string]any {
	if urn == "" {
		return d
	}
	m, ok := d[urn].(map[string]any)
	if !ok && create {
		m = map[string]any{}
		d[urn] = m
	}
	return m
}

// normalize rewrites a client's object into canonical form: keys matched case-insensitively,
// URN-qualified keys ("urn:...:User:employeeNumber") and dotted keys ("name.givenName") moved
// to where they belong, read-only attributes and unknown attributes dropped.
func (s *schemaSet) normalize(in map[string]any) (document, error) {
	out := document{}
	for key, v := range in {
		if strings.EqualFold(key, "schemas") {
			out["schemas"] = v
			continue
		}
		p, err := filter.ParsePath(key, s.opts...)
		if err != nil || p.Filter != nil {
			continue
		}
		t, err := s.resolve(p.AttrPath)
		if err != nil || t.readOnly() {
			continue
		}
		if err := s.put(out, t, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// put merges v into d at t, normalising nested keys. An attribute that an earlier key of the
// same object set to another value (through its URN-qualified or dotted form) is a 400.
func (s *schemaSet) put(d document, t target, v any) error {
	if t.attr.Name == "" { // a whole extension object
		obj, ok := v.(map[string]any)
		if !ok {
			if v == nil {
				return nil // sets nothing, as if absent
			}
			return badRequest(scimTypeInvalidValue, "%s must be an object", t.urn)
		}
		ext, _ := s.extension(t.urn)
		c := d.container(t.urn, true)
		for k, sv := range obj {
			a, ok := find(ext.Attributes, k)
			if !ok {
				continue
			}
			if err := setOnce(c, a.Name, canonicalValue(a, sv)); err != nil {
				return err
			}
		}
		return nil
	}
	c := d.container(t.urn, true)
	if t.sub == nil {
		v = canonicalValue(t.attr, v)
		existing, isObj := c[t.attr.Name].(map[string]any)
		obj, givesObj := v.(map[string]any)
		if t.attr.Type == typeComplex && !t.attr.MultiValued && isObj && givesObj {
			for k, sv := range obj {
				if err := setOnce(existing, k, sv); err != nil {
					return err
				}
			}
			return nil
		}
		return setOnce(c, t.attr.Name, v)
	}
	if t.attr.MultiValued {
		return nil // "emails.value" as a key names no single value; ignored like unknown keys
	}
	obj, ok := c[t.attr.Name].(map[string]any)
	if !ok {
		if c[t.attr.Name] != nil {
			return badRequest(scimTypeInvalidSyntax, "attribute %q is given twice with different values",
				t.attr.Name)
		}
		obj = map[string]any{}
		c[t.attr.Name] = obj
	}
	return setOnce(obj, t.sub.Name, v)
}

// canonicalValue renames the keys of complex values to the schema's spelling and drops the
// sub-attributes the schema does not know.
func canonicalValue(a attribute, v any) any {
	if a.Type != typeComplex {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, sv := range x {
			if sub, ok := find(a.SubAttributes, k); ok {
				out[sub.Name] = sv
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = canonicalValue(a, e)
		}
		return out
	default:
		return v
	}
}

// decodeObject parses a request body as one JSON object, numbers kept as json.Number.
func decodeObject(body []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return &Error{Status: http.StatusBadRequest, ScimType: scimTypeInvalidSyntax,
				Detail: "request body has the wrong JSON type at " + typeErr.Field, Err: err}
		}
		return &Error{
			Status:   http.StatusBadRequest,
			ScimType: scimTypeInvalidSyntax,
			Detail:   "request body is not valid JSON",
			Err:      err,
		}
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return badRequest(scimTypeInvalidSyntax, "request body holds more than one JSON value")
	}
	return nil
}
