package scim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/provisioning-dev/scim-operator/internal/directory"
	"github.com/provisioning-dev/scim-operator/internal/filter"
)

// maxPatchOperations bounds the operations of one PATCH request.
const maxPatchOperations = 1000

// patchOp is one operation of a PatchOp request, with the op name lower-cased (Entra sends
// "Replace") and the path parsed.
type patchOp struct {
	op      string // add, replace or remove
	rawPath string
	path    *filter.Path
	value   any
	hasVal  bool
}

// patchFromRequest reads a PATCH request's body and parses its operations.
func (s *Server) patchFromRequest(r *http.Request) ([]patchOp, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	return parsePatch(body, s.opts)
}

// parsePatch reads a PatchOp body. Keys are matched case-insensitively.
func parsePatch(body []byte, opts []filter.Option) ([]patchOp, error) {
	var raw map[string]any
	if err := decodeObject(body, &raw); err != nil {
		return nil, err
	}
	if err := checkDuplicateKeys(raw); err != nil {
		return nil, err
	}
	var list []any
	for k, v := range raw {
		if strings.EqualFold(k, "Operations") {
			l, ok := v.([]any)
			if !ok {
				return nil, badRequest(scimTypeInvalidSyntax, "Operations must be a list")
			}
			list = l
		}
	}
	if len(list) == 0 {
		return nil, badRequest(scimTypeInvalidSyntax, "PATCH request has no Operations")
	}
	if len(list) > maxPatchOperations {
		return nil, newError(
			http.StatusRequestEntityTooLarge,
			scimTypeTooMany,
			"PATCH request has more than %d operations",
			maxPatchOperations,
		)
	}
	ops := make([]patchOp, 0, len(list))
	for i, item := range list {
		op, err := parseOperation(i, item, opts)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// parseOperation reads Operations[i].
func parseOperation(i int, item any, opts []filter.Option) (patchOp, error) {
	var op patchOp
	obj, ok := item.(map[string]any)
	if !ok {
		return op, badRequest(scimTypeInvalidSyntax, "Operations[%d] must be an object", i)
	}
	for k, v := range obj {
		switch strings.ToLower(k) {
		case "op":
			s, _ := v.(string)
			op.op = strings.ToLower(s)
		case "path":
			s, ok := v.(string)
			if !ok && v != nil {
				return op, badRequest(scimTypeInvalidPath, "Operations[%d].path must be a string", i)
			}
			op.rawPath = s
		case "value":
			op.value, op.hasVal = v, true
		}
	}
	if op.op != "add" && op.op != "replace" && op.op != "remove" {
		return op, badRequest(scimTypeInvalidSyntax, "Operations[%d].op must be add, replace or remove", i)
	}
	if strings.TrimSpace(op.rawPath) != "" {
		p, err := filter.ParsePath(op.rawPath, opts...)
		if err != nil {
			return op, &Error{Status: http.StatusBadRequest, ScimType: scimTypeInvalidPath,
				Detail: "Operations[" + strconv.Itoa(i) + "].path: " + err.Error(), Err: err}
		}
		op.path = &p
	}
	if op.op != "remove" && !op.hasVal {
		return op, badRequest(scimTypeInvalidValue, "Operations[%d] (%s) needs a value", i, op.op)
	}
	if op.op == "remove" && op.path == nil {
		return op, badRequest(scimTypeNoTarget, "Operations[%d] (remove) needs a path", i)
	}
	return op, nil
}

// applyPatch applies ops to a canonical document, in order.
func (s *schemaSet) applyPatch(d document, ops []patchOp) error {
	for _, op := range ops {
		if err := s.applyOne(d, op); err != nil {
			return err
		}
	}
	return nil
}

func (s *schemaSet) applyOne(d document, op patchOp) error {
	if op.path == nil {
		obj, ok := op.value.(map[string]any)
		if !ok {
			return badRequest(scimTypeInvalidValue, "a PATCH %s without a path needs an object value", op.op)
		}
		// Path-less values may use dotted and URN-qualified keys (Entra); unknown ones are ignored.
		norm, err := s.normalize(obj)
		if err != nil {
			return err
		}
		for k, v := range norm {
			if k == "schemas" {
				continue
			}
			if err := s.applyPathless(d, op.op, k, v); err != nil {
				return err
			}
		}
		return nil
	}
	t, err := s.resolve(op.path.AttrPath)
	if err != nil {
		return err
	}
	if t.readOnly() || t.attr.Name == "schemas" {
		return nil // read-only attributes a client sends are ignored
	}
	if op.path.Filter != nil {
		return s.applyFiltered(d, op, t)
	}
	return s.applyPath(d, op, t)
}

// applyPathless applies one top-level key of a path-less value. Extensions arrive as a map
// under their URN; their attributes are applied one by one so a replace keeps the others.
func (s *schemaSet) applyPathless(d document, op, key string, v any) error {
	if ext, ok := s.extension(key); ok {
		obj, _ := v.(map[string]any)
		for k, sv := range obj {
			a, _ := find(ext.Attributes, k)
			one := patchOp{op: op, value: sv, hasVal: true}
			if err := s.applyPath(d, one, target{urn: ext.ID, attr: a}); err != nil {
				return err
			}
		}
		return nil
	}
	a, ok := find(s.core.Attributes, key)
	if !ok {
		return nil
	}
	return s.applyPath(d, patchOp{op: op, value: v, hasVal: true}, target{attr: a})
}

// applyPath applies an operation whose path has no value filter.
func (s *schemaSet) applyPath(d document, op patchOp, t target) error {
	if t.attr.Name == "" { // a bare extension URN
		if op.op == "remove" {
			delete(d, t.urn)
			return nil
		}
		return s.applyPathless(d, op.op, t.urn, op.value)
	}
	c := d.container(t.urn, op.op != "remove")
	if c == nil {
		return nil
	}
	name := t.attr.Name
	if t.sub != nil {
		return applySub(c, op, t)
	}
	switch op.op {
	case "remove":
		if t.attr.MultiValued && op.hasVal && op.value != nil {
			c[name] = removeValues(c[name], op.value)
			return nil
		}
		delete(c, name)
	case "add":
		v := canonicalValue(t.attr, op.value)
		switch {
		case t.attr.MultiValued:
			before := len(asList(c[name]))
			items := appendValues(c[name], v)
			c[name] = items
			return settlePrimary(t.attr, items, func(i int) bool { return i >= before })
		case t.attr.Type == typeComplex:
			mergeObject(c, name, v)
		default:
			c[name] = v
		}
	case "replace":
		v := canonicalValue(t.attr, op.value)
		switch {
		case t.attr.MultiValued:
			items := asList(v)
			c[name] = items
			return settlePrimary(t.attr, items, func(int) bool { return true })
		case t.attr.Type == typeComplex:
			mergeObject(c, name, v)
		default:
			c[name] = v
		}
	}
	return nil
}

// applySub sets or removes attr.sub: on a singular complex attribute, or on every value of a
// multi-valued one.
func applySub(c map[string]any, op patchOp, t target) error {
	name, sub := t.attr.Name, t.sub.Name
	if t.attr.MultiValued {
		items := asList(c[name])
		for _, e := range items {
			if obj, ok := e.(map[string]any); ok {
				setOrRemove(obj, sub, op)
			}
		}
		if t.sub.Name != "primary" {
			return nil
		}
		return settlePrimary(t.attr, items, func(int) bool { return true })
	}
	obj, ok := c[name].(map[string]any)
	if !ok {
		if op.op == "remove" {
			return nil
		}
		obj = map[string]any{}
		c[name] = obj
	}
	setOrRemove(obj, sub, op)
	return nil
}

func setOrRemove(obj map[string]any, key string, op patchOp) {
	if op.op == "remove" {
		delete(obj, key)
		return
	}
	obj[key] = op.value
}

// applyFiltered applies an operation whose path selects values of a multi-valued attribute,
// as in emails[type eq "work"].value or members[value eq "id"].
func (s *schemaSet) applyFiltered(d document, op patchOp, t target) error {
	if !t.attr.MultiValued {
		return badRequest(scimTypeInvalidPath, "%s is not multi-valued; it takes no value filter", t.attr.Name)
	}
	if _, isObj := op.value.(map[string]any); op.op != "remove" && t.sub == nil && !isObj {
		return badRequest(scimTypeInvalidValue, "a value of %s selected by a filter must be replaced by an object",
			t.attr.Name)
	}
	c := d.container(t.urn, op.op != "remove")
	if c == nil {
		return nil
	}
	items := asList(c[t.attr.Name])
	matched := false
	kept := items[:0:0]
	var written []int // indexes in kept of the values the operation wrote
	for _, e := range items {
		obj, ok := e.(map[string]any)
		if !ok || !matchValue(op.path.Filter, obj) {
			kept = append(kept, e)
			continue
		}
		matched = true
		switch {
		case op.op == "remove" && t.sub == nil:
			continue // dropped
		case t.sub != nil:
			setOrRemove(obj, t.sub.Name, op)
		default:
			if v, ok := canonicalValue(t.attr, op.value).(map[string]any); ok {
				for k, sv := range v {
					obj[k] = sv
				}
			}
		}
		written = append(written, len(kept))
		kept = append(kept, obj)
	}
	if !matched && op.op != "remove" {
		// Entra replaces emails[type eq "work"].value on a user that has no work email yet:
		// create the value the filter describes.
		seed, ok := seedFromFilter(op.path.Filter)
		if !ok {
			return badRequest(scimTypeNoTarget, "no value of %s matches the path's filter", t.attr.Name)
		}
		if t.sub != nil {
			seed[t.sub.Name] = op.value
		} else if v, ok := canonicalValue(t.attr, op.value).(map[string]any); ok {
			for k, sv := range v {
				seed[k] = sv
			}
		}
		written = append(written, len(kept))
		kept = append(kept, seed)
	}
	c[t.attr.Name] = kept
	return settlePrimary(t.attr, kept, func(i int) bool { return slices.Contains(written, i) })
}

// seedFromFilter turns `a eq "x" and b eq "y"` into {a: x, b: y}; other filters give false.
func seedFromFilter(e filter.Expr) (map[string]any, bool) {
	switch x := e.(type) {
	case *filter.Compare:
		if x.Op != filter.OpEq || x.Path.Sub != "" {
			return nil, false
		}
		return map[string]any{x.Path.Name: filterValue(x.Value)}, true
	case *filter.Logical:
		if x.Op != filter.And {
			return nil, false
		}
		l, ok := seedFromFilter(x.Left)
		if !ok {
			return nil, false
		}
		r, ok := seedFromFilter(x.Right)
		if !ok {
			return nil, false
		}
		for k, v := range r {
			l[k] = v
		}
		return l, true
	}
	return nil, false
}

func filterValue(v filter.Value) any {
	switch v.Kind {
	case filter.KindBool:
		return v.Bool
	case filter.KindNull:
		return nil
	case filter.KindNumber:
		return v.Raw
	default:
		return v.Str
	}
}

// matchValue evaluates a value filter against one value of a multi-valued attribute. Strings
// compare case-insensitively; booleans may be sent as strings.
func matchValue(e filter.Expr, obj map[string]any) bool {
	switch x := e.(type) {
	case *filter.Logical:
		if x.Op == filter.And {
			return matchValue(x.Left, obj) && matchValue(x.Right, obj)
		}
		return matchValue(x.Left, obj) || matchValue(x.Right, obj)
	case *filter.Not:
		return !matchValue(x.Expr, obj)
	case *filter.Compare:
		return compareValue(x, lookupFold(obj, x.Path.Name))
	}
	return false
}

func lookupFold(obj map[string]any, key string) any {
	if v, ok := obj[key]; ok {
		return v
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func compareValue(c *filter.Compare, have any) bool {
	switch {
	case c.Op == filter.OpPr:
		str, isStr := have.(string)
		return have != nil && (!isStr || str != "")
	case c.Value.Kind == filter.KindBool:
		b, ok := have.(bool)
		if str, isStr := have.(string); isStr {
			b, ok = parseBool(str)
		}
		eq := ok && b == c.Value.Bool
		return (c.Op == filter.OpEq && eq) || (c.Op == filter.OpNe && !eq)
	case c.Value.Kind == filter.KindNull:
		return (c.Op == filter.OpEq) == (have == nil)
	}
	var text string
	switch h := have.(type) {
	case string:
		text = h
	case interface{ String() string }: // json.Number
		text = h.String()
	default:
		return c.Op == filter.OpNe
	}
	return compareText(c.Op, strings.ToLower(text), strings.ToLower(filterText(c.Value)))
}

// compareText applies a string operator to lower-cased values.
func compareText(op filter.Operator, h, w string) bool {
	switch op {
	case filter.OpEq:
		return h == w
	case filter.OpNe:
		return h != w
	case filter.OpCo:
		return strings.Contains(h, w)
	case filter.OpSw:
		return strings.HasPrefix(h, w)
	case filter.OpEw:
		return strings.HasSuffix(h, w)
	case filter.OpGt:
		return h > w
	case filter.OpGe:
		return h >= w
	case filter.OpLt:
		return h < w
	case filter.OpLe:
		return h <= w
	}
	return false
}

func filterText(v filter.Value) string {
	if v.Kind == filter.KindNumber {
		return v.Raw
	}
	return v.Str
}

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

func appendValues(have, add any) []any {
	out := asList(have)
	for _, v := range asList(add) {
		if !containsValue(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// containsValue reports whether list holds a value with the same "value" sub-attribute.
func containsValue(list []any, v any) bool {
	obj, ok := v.(map[string]any)
	if !ok {
		return false
	}
	want, ok := obj["value"].(string)
	if !ok {
		return false
	}
	for _, e := range list {
		if o, ok := e.(map[string]any); ok {
			if have, ok := o["value"].(string); ok && strings.EqualFold(have, want) {
				return true
			}
		}
	}
	return false
}

// removeValues drops the values whose "value" matches one of remove's (Entra's member removal).
func removeValues(have, remove any) []any {
	drop := asList(remove)
	var out []any
	for _, e := range asList(have) {
		if !containsValue(drop, e) {
			out = append(out, e)
		}
	}
	return out
}

func mergeObject(c map[string]any, name string, v any) {
	obj, ok := v.(map[string]any)
	existing, has := c[name].(map[string]any)
	if !ok || !has {
		c[name] = v
		return
	}
	for k, sv := range obj {
		existing[k] = sv
	}
}

// groupOps translates PATCH operations on a group into the directory's group operations.
func (s *schemaSet) groupOps(ops []patchOp) ([]directory.GroupOp, error) {
	var out []directory.GroupOp
	for _, op := range ops {
		if op.path == nil {
			obj, ok := op.value.(map[string]any)
			if !ok {
				return nil, badRequest(scimTypeInvalidValue, "a PATCH %s without a path needs an object value", op.op)
			}
			norm, err := s.normalize(obj)
			if err != nil {
				return nil, err
			}
			for _, attr := range []string{"displayName", "externalId", "members"} {
				if v, ok := norm[attr]; ok {
					g, err := s.groupOp(op.op, attr, nil, v, true)
					if err != nil {
						return nil, err
					}
					out = append(out, g...)
				}
			}
			continue
		}
		t, err := s.resolve(op.path.AttrPath)
		if err != nil {
			return nil, err
		}
		if t.readOnly() || t.attr.Name == "schemas" {
			continue
		}
		if t.sub != nil || (op.path.Filter != nil && t.attr.Name != "members") {
			return nil, badRequest(scimTypeInvalidPath, "path %q is not supported on groups", op.rawPath)
		}
		g, err := s.groupOp(op.op, t.attr.Name, op.path.Filter, op.value, op.hasVal)
		if err != nil {
			return nil, err
		}
		out = append(out, g...)
	}
	return out, nil
}

func (s *schemaSet) groupOp(op, attr string, f filter.Expr, v any, hasVal bool) ([]directory.GroupOp, error) {
	r := reader{}
	doc := map[string]any{attr: v}
	switch attr {
	case "displayName", "externalId":
		kind := directory.OpSetDisplayName
		if attr == "externalId" {
			kind = directory.OpSetExternalID
		}
		if op == "remove" {
			if attr == "displayName" {
				return nil, badRequest(scimTypeMutability, "displayName is required and cannot be removed")
			}
			return []directory.GroupOp{{Kind: kind}}, nil
		}
		value := r.str(doc, attr)
		return []directory.GroupOp{{Kind: kind, Value: value}}, r.err
	}
	// members
	if f != nil {
		if op != "remove" {
			return nil, badRequest(scimTypeInvalidPath, "members with a value filter can only be removed")
		}
		return []directory.GroupOp{{Kind: directory.OpRemoveMembersMatching, Filter: f}}, nil
	}
	var members []directory.Member
	if hasVal && v != nil {
		members = memberList(&r, doc)
		if r.err != nil {
			return nil, r.err
		}
	}
	switch op {
	case "add":
		return []directory.GroupOp{{Kind: directory.OpAddMembers, Members: memberIDs(members)}}, nil
	case "replace":
		return []directory.GroupOp{{Kind: directory.OpReplaceMembers, Members: memberIDs(members)}}, nil
	default:
		if hasVal && v != nil {
			return []directory.GroupOp{{Kind: directory.OpRemoveMembers, Members: memberIDs(members)}}, nil
		}
		return []directory.GroupOp{{Kind: directory.OpRemoveAllMembers}}, nil
	}
}
