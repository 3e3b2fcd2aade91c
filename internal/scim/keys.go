package scim

import (
	"reflect"
	"strings"
)

// Attribute names are case-insensitive (RFC 7643 section 2.1), so "userName" and "USERNAME"
// in one object name the same attribute, as do "userName" and its URN-qualified form, or
// "name.givenName" and "givenName" inside "name". Go maps hold them in no order, so keeping
// one of them would pick at random: a body naming an attribute twice with different values is
// refused instead.

// maxKeysCompared is the object size up to which duplicate keys are found by comparing pairs.
const maxKeysCompared = 16

// checkDuplicateKeys refuses a decoded JSON value in which an object has two keys that differ
// only in case.
func checkDuplicateKeys(v any) error {
	switch x := v.(type) {
	case map[string]any:
		if err := duplicateKey(x); err != nil {
			return err
		}
		for _, sv := range x {
			if err := checkDuplicateKeys(sv); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			if err := checkDuplicateKeys(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func duplicateKey(obj map[string]any) error {
	if len(obj) < 2 {
		return nil
	}
	if len(obj) <= maxKeysCompared {
		keys := make([]string, 0, maxKeysCompared)
		for k := range obj {
			for _, seen := range keys {
				if strings.EqualFold(k, seen) {
					return duplicateKeyError(seen, k)
				}
			}
			keys = append(keys, k)
		}
		return nil
	}
	seen := make(map[string]string, len(obj))
	for k := range obj {
		lower := strings.ToLower(k)
		if prev, ok := seen[lower]; ok {
			return duplicateKeyError(prev, k)
		}
		seen[lower] = k
	}
	return nil
}

func duplicateKeyError(a, b string) error {
	if b < a {
		a, b = b, a
	}
	return badRequest(scimTypeInvalidSyntax, "%q and %q name the same attribute (names are case-insensitive)", a, b)
}

// setOnce sets c[key] to v unless an earlier key of the same body already set it to
// something else.
func setOnce(c map[string]any, key string, v any) error {
	if have, ok := c[key]; ok && !reflect.DeepEqual(have, v) {
		return badRequest(scimTypeInvalidSyntax, "attribute %q is given twice with different values", key)
	}
	c[key] = v
	return nil
}
