package filter

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzParse checks that no input panics, every failure is an invalid filter, and every
// success renders to text that parses back to the same tree. Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(`userName eq "bjensen"`)
	f.Add(`emails[type eq "work" and value co "@example.com"] or not (active eq false)`)
	f.Fuzz(func(t *testing.T, in string) {
		e, err := Parse(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidFilter) {
				t.Fatalf("Parse(%q) error %v is not ErrInvalidFilter", in, err)
			}
			return
		}
		again, err := Parse(e.String())
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", in, e.String(), err)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("round trip of %q changed the tree: %s vs %s", in, e, again)
		}
	})
}

// FuzzParsePath is FuzzParse for PATCH paths. Seeds: testdata/fuzz/FuzzParsePath.
func FuzzParsePath(f *testing.F) {
	f.Add(`emails[type eq "work"].value`)
	f.Add(`urn:ietf:params:scim:schemas:extension:2.0:axon:badgeId`)
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParsePath(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidPath) {
				t.Fatalf("ParsePath(%q) error %v is not ErrInvalidPath", in, err)
			}
			return
		}
		again, err := ParsePath(p.String())
		if err != nil {
			t.Fatalf("ParsePath(%q).String() = %q does not parse: %v", in, p.String(), err)
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("round trip of %q changed the path: %s vs %s", in, p, again)
		}
	})
}
