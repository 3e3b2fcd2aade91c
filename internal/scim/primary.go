package scim

// RFC 7643 section 2.4: "primary" is true on at most one value of a multi-valued attribute.
// The agency relies on it too: the primary email is the one kept unique. A POST or PUT that
// flags two values is refused; a PATCH that makes a value primary takes the flag off the
// others (RFC 7644 section 3.5.2).

// hasPrimary reports whether a's values carry a "primary" sub-attribute.
func hasPrimary(a attribute) bool {
	_, ok := find(a.SubAttributes, "primary")
	return a.MultiValued && ok
}

// isPrimary reports whether a value is flagged primary; the flag may come as a string
// ("True", Entra).
func isPrimary(v any) bool {
	obj, ok := v.(map[string]any)
	if !ok {
		return false
	}
	switch p := obj["primary"].(type) {
	case bool:
		return p
	case string:
		b, _ := parseBool(p)
		return b
	}
	return false
}

// settlePrimary applies a PATCH operation's effect on "primary" to the values of a, where
// touched reports which values the operation wrote: when one of them is primary, the others
// lose the flag. More than one primary among the written values is a 400.
func settlePrimary(a attribute, items []any, touched func(i int) bool) error {
	if !hasPrimary(a) {
		return nil
	}
	written := 0
	for i, v := range items {
		if touched(i) && isPrimary(v) {
			written++
		}
	}
	if written == 0 {
		return nil
	}
	if written > 1 {
		return badRequest(scimTypeInvalidValue, "%s: at most one value can be primary", a.Name)
	}
	for i, v := range items {
		if obj, ok := v.(map[string]any); ok && !touched(i) && isPrimary(obj) {
			delete(obj, "primary")
		}
	}
	return nil
}

// checkOnePrimary refuses a document (POST, PUT) that flags more than one value of a
// multi-valued attribute primary.
func (s *schemaSet) checkOnePrimary(d document) error {
	for _, a := range s.core.Attributes {
		if !hasPrimary(a) {
			continue
		}
		n := 0
		for _, v := range asList(d[a.Name]) {
			if isPrimary(v) {
				n++
			}
		}
		if n > 1 {
			return badRequest(scimTypeInvalidValue, "%s: at most one value can be primary", a.Name)
		}
	}
	return nil
}
