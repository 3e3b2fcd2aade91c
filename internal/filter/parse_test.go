package filter

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func str(s string) Value { return Value{Kind: KindString, Str: s} }

func cmp(name string, op Operator, v Value) *Compare {
	return &Compare{Path: AttrPath{Name: name}, Op: op, Value: v}
}

func TestParse_BuildsTheTreeRFC7644Describes(t *testing.T) {
	created := time.Date(2011, 5, 13, 4, 42, 34, 0, time.UTC)
	cases := []struct {
		name string
		in   string
		want Expr
	}{
		{name: "equality", in: `userName eq "bjensen"`, want: cmp("userName", OpEq, str("bjensen"))},
		{name: "operators in any case", in: `userName Eq "x"`, want: cmp("userName", OpEq, str("x"))},
		{name: "sub-attribute", in: `name.familyName co "O'Malley"`,
			want: &Compare{Path: AttrPath{Name: "name", Sub: "familyName"}, Op: OpCo, Value: str("O'Malley")}},
		{name: "present", in: `title pr`, want: &Compare{Path: AttrPath{Name: "title"}, Op: OpPr}},
		{name: "date-time value", in: `meta.lastModified gt "2011-05-13T04:42:34Z"`,
			want: &Compare{Path: AttrPath{Name: "meta", Sub: "lastModified"}, Op: OpGt,
				Value: Value{Kind: KindDateTime, Str: "2011-05-13T04:42:34Z", Time: created}}},
		{name: "booleans, null and numbers", in: `a eq true or b eq False or c eq null or d ge -1.5e2`,
			want: &Logical{Op: Or, Left: &Logical{Op: Or, Left: &Logical{Op: Or,
				Left:  cmp("a", OpEq, Value{Kind: KindBool, Bool: true}),
				Right: cmp("b", OpEq, Value{Kind: KindBool})}, Right: cmp("c", OpEq, Value{Kind: KindNull})},
				Right: cmp("d", OpGe, Value{Kind: KindNumber, Num: -150, Raw: "-1.5e2"})}},
		{name: "and binds tighter than or", in: `a eq "1" or b eq "2" and c eq "3"`,
			want: &Logical{Op: Or, Left: cmp("a", OpEq, str("1")),
				Right: &Logical{Op: And, Left: cmp("b", OpEq, str("2")), Right: cmp("c", OpEq, str("3"))}}},
		{name: "parentheses override precedence", in: `(a eq "1" or b eq "2") and c eq "3"`,
			want: &Logical{Op: And,
				Left:  &Logical{Op: Or, Left: cmp("a", OpEq, str("1")), Right: cmp("b", OpEq, str("2"))},
				Right: cmp("c", OpEq, str("3"))}},
		{name: "not", in: `not (active eq false)`,
			want: &Not{Expr: cmp("active", OpEq, Value{Kind: KindBool})}},
		{name: "value path", in: `emails[type eq "work" and value co "@example.com"]`,
			want: &ValuePath{Attr: AttrPath{Name: "emails"}, Filter: &Logical{Op: And,
				Left: cmp("type", OpEq, str("work")), Right: cmp("value", OpCo, str("@example.com"))}}},
		{name: "core URN", in: `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName sw "B"`,
			want: &Compare{Path: AttrPath{URN: UserSchema, Name: "name", Sub: "givenName"}, Op: OpSw, Value: str("B")}},
		{name: "extension URN without a User suffix",
			in:   `urn:ietf:params:scim:schemas:extension:2.0:axon:badgeId eq "7"`,
			want: &Compare{Path: AttrPath{URN: AxonExtensionSchema, Name: "badgeId"}, Op: OpEq, Value: str("7")}},
		{name: "known URN matched ignoring case", in: `URN:IETF:params:scim:schemas:core:2.0:user:userName eq "x"`,
			want: &Compare{Path: AttrPath{URN: UserSchema, Name: "userName"}, Op: OpEq, Value: str("x")}},
		{name: "unknown URN split at its last colon", in: `urn:example:custom:1.0:Thing:color eq "red"`,
			want: &Compare{Path: AttrPath{URN: "urn:example:custom:1.0:Thing", Name: "color"}, Op: OpEq,
				Value: str("red")}},
		{name: "escaped quotes and unicode", in: `displayName eq "say \"hi\" \u00e9"`,
			want: cmp("displayName", OpEq, str(`say "hi" é`))},
		{name: "extra spaces", in: "  userName   eq\t\"x\"  ", want: cmp("userName", OpEq, str("x"))},
		{name: "an attribute called not", in: `not pr`, want: &Compare{Path: AttrPath{Name: "not"}, Op: OpPr}},
		{name: "$ref", in: `members.$ref pr`, want: &Compare{Path: AttrPath{Name: "members", Sub: "$ref"}, Op: OpPr}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse(%q)\n got %s\nwant %s", tc.in, got, tc.want)
			}
			again, err := Parse(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("String() %q does not parse back to the same tree: %v", got.String(), err)
			}
		})
	}
}

func TestParse_RejectsMalformedFiltersWithInvalidFilter(t *testing.T) {
	cases := []struct{ name, in string }{
		{name: "empty", in: "  "},
		{name: "missing operator", in: `userName`},
		{name: "unknown operator", in: `userName like "x"`},
		{name: "missing value", in: `userName eq`},
		{name: "unquoted string", in: `userName eq bjensen`},
		{name: "unterminated string", in: `userName eq "bjensen`},
		{name: "bad escape", in: `userName eq "\x"`},
		{name: "unbalanced parenthesis", in: `(userName eq "x"`},
		{name: "unbalanced bracket", in: `emails[type eq "work"`},
		{name: "nested value path", in: `emails[type[value eq "x"] pr]`},
		{name: "value path after a sub-attribute", in: `name.givenName[value eq "x"]`},
		{name: "dangling and", in: `userName eq "x" and`},
		{name: "trailing text", in: `userName eq "x" )`},
		{name: "two dots", in: `a.b.c eq "x"`},
		{name: "name starting with a digit", in: `1abc eq "x"`},
		{name: "leading zero number", in: `a eq 012`},
		{name: "bare URN", in: `urn:ietf:params:scim:schemas:core:2.0:User eq "x"`},
		{name: "not without parentheses before a comparison", in: `not userName eq "x"`},
		{name: "too deep", in: deepParens(MaxDepth + 1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in)
			if !errors.Is(err, ErrInvalidFilter) {
				t.Fatalf("Parse(%q) = %v, want ErrInvalidFilter", tc.in, err)
			}
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(tc.in) {
				t.Fatalf("want a SyntaxError with an offset inside the input, got %#v", err)
			}
		})
	}
}

func deepParens(n int) string {
	s := `a pr`
	for range n {
		s = "(" + s + ")"
	}
	return s
}

func TestParse_AcceptsNestingUpToTheLimit(t *testing.T) {
	if _, err := Parse(deepParens(MaxDepth)); err != nil {
		t.Fatalf("nesting %d: %v", MaxDepth, err)
	}
}

func TestParsePath_ReadsEveryPatchPathForm(t *testing.T) {
	cases := []struct {
		name string
		in   string
		opts []Option
		want Path
	}{
		{name: "attribute", in: "active", want: Path{AttrPath: AttrPath{Name: "active"}}},
		{name: "sub-attribute", in: "name.givenName", want: Path{AttrPath: AttrPath{Name: "name", Sub: "givenName"}}},
		{name: "core URN", in: UserSchema + ":name.familyName",
			want: Path{AttrPath: AttrPath{URN: UserSchema, Name: "name", Sub: "familyName"}}},
		{name: "extension attribute", in: AxonExtensionSchema + ":rankName",
			want: Path{AttrPath: AttrPath{URN: AxonExtensionSchema, Name: "rankName"}}},
		{name: "bare extension URN", in: AxonExtensionSchema, want: Path{AttrPath: AttrPath{URN: AxonExtensionSchema}}},
		{name: "enterprise URN", in: EnterpriseUserSchema + ":manager.value",
			want: Path{AttrPath: AttrPath{URN: EnterpriseUserSchema, Name: "manager", Sub: "value"}}},
		{name: "configured extension URN", in: "urn:agency:ext:1.0:badge",
			opts: []Option{WithSchemas("urn:agency:ext:1.0")},
			want: Path{AttrPath: AttrPath{URN: "urn:agency:ext:1.0", Name: "badge"}}},
		{name: "bare configured URN", in: "urn:agency:ext:1.0", opts: []Option{WithSchemas("urn:agency:ext:1.0")},
			want: Path{AttrPath: AttrPath{URN: "urn:agency:ext:1.0"}}},
		{name: "value filter with sub-attribute (Entra)", in: `emails[type eq "work"].value`,
			want: Path{AttrPath: AttrPath{Name: "emails", Sub: "value"},
				Filter: cmp("type", OpEq, str("work"))}},
		{name: "member filter (Okta remove)", in: `members[value eq "00u1"]`,
			want: Path{AttrPath: AttrPath{Name: "members"}, Filter: cmp("value", OpEq, str("00u1"))}},
		{name: "member filter with or", in: `members[value eq "1" or value eq "2"]`,
			want: Path{AttrPath: AttrPath{Name: "members"}, Filter: &Logical{Op: Or,
				Left: cmp("value", OpEq, str("1")), Right: cmp("value", OpEq, str("2"))}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePath(tc.in, tc.opts...)
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParsePath(%q)\n got %#v\nwant %#v", tc.in, got, tc.want)
			}
			again, err := ParsePath(got.String(), tc.opts...)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("String() %q does not parse back: %v", got.String(), err)
			}
		})
	}
}

func TestParsePath_RejectsMalformedPathsWithInvalidPath(t *testing.T) {
	cases := []struct{ name, in string }{
		{name: "empty", in: ""},
		{name: "spaces", in: "   "},
		{name: "unterminated filter", in: `emails[type eq "work"`},
		{name: "filter after sub-attribute", in: `name.givenName[value eq "x"]`},
		{name: "filter after bare URN", in: AxonExtensionSchema + `[value eq "x"]`},
		{name: "bad filter", in: `members[value eq]`},
		{name: "missing sub-attribute after dot", in: `emails[type eq "work"].`},
		{name: "trailing text", in: `members extra`},
		{name: "invalid name", in: `-name`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePath(tc.in)
			if !errors.Is(err, ErrInvalidPath) || errors.Is(err, ErrInvalidFilter) {
				t.Fatalf("ParsePath(%q) = %v, want ErrInvalidPath only", tc.in, err)
			}
		})
	}
}

func TestSyntaxError_DoesNotRepeatTheInput(t *testing.T) {
	_, err := Parse(`userName eq "jane.doe@example.com`)
	if err == nil {
		t.Fatal("want an error")
	}
	if msg := err.Error(); contains(msg, "jane.doe") {
		t.Fatalf("error %q repeats personal data from the input", msg)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
