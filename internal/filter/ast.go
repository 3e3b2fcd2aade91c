package filter

import (
	"encoding/json"
	"strings"
	"time"
)

// Expr is a node of a filter's syntax tree: *Compare, *Logical, *Not or *ValuePath.
type Expr interface {
	// String renders the node back as filter text that parses to an equal tree.
	String() string
	expr()
}

// AttrPath names an attribute: an optional schema URN, an attribute and an optional
// sub-attribute. Names keep the spelling of the input; SCIM compares them case-insensitively.
type AttrPath struct {
	// URN is the schema URN the path was qualified with, in the known URN's spelling when it
	// matched one; empty when the path was not qualified.
	URN string
	// Name is the attribute. It is empty only for a PATCH path that is a bare schema URN.
	Name string
	// Sub is the sub-attribute, empty when none.
	Sub string
}

// String renders the path as `urn:name.sub`.
func (p AttrPath) String() string {
	var b strings.Builder
	if p.URN != "" {
		b.WriteString(p.URN)
		if p.Name != "" {
			b.WriteByte(':')
		}
	}
	b.WriteString(p.Name)
	if p.Sub != "" {
		b.WriteByte('.')
		b.WriteString(p.Sub)
	}
	return b.String()
}

// Operator is a comparison operator, always lower case.
type Operator string

// The comparison operators of RFC 7644 section 3.4.2.2.
const (
	OpEq Operator = "eq"
	OpNe Operator = "ne"
	OpCo Operator = "co"
	OpSw Operator = "sw"
	OpEw Operator = "ew"
	OpPr Operator = "pr"
	OpGt Operator = "gt"
	OpGe Operator = "ge"
	OpLt Operator = "lt"
	OpLe Operator = "le"
)

var operators = map[string]Operator{
	"eq": OpEq, "ne": OpNe, "co": OpCo, "sw": OpSw, "ew": OpEw,
	"pr": OpPr, "gt": OpGt, "ge": OpGe, "lt": OpLt, "le": OpLe,
}

// ValueKind is the JSON type of a comparison value.
type ValueKind int

// The kinds of comparison values. KindDateTime is a string that is also an RFC 3339 timestamp;
// its text stays in Value.Str, so a store that compares it as a string loses nothing.
const (
	KindString ValueKind = iota
	KindNumber
	KindBool
	KindNull
	KindDateTime
)

// Value is the right-hand side of a comparison.
type Value struct {
	Kind ValueKind
	// Str holds the text of a string or date-time value.
	Str string
	// Num holds a number; Raw holds the number as written.
	Num float64
	Raw string
	// Bool holds a boolean.
	Bool bool
	// Time holds a date-time value, in UTC.
	Time time.Time
}

// String renders the value as JSON.
func (v Value) String() string {
	switch v.Kind {
	case KindNumber:
		return v.Raw
	case KindBool:
		if v.Bool {
			return "true"
		}
		return "false"
	case KindNull:
		return "null"
	default:
		b, err := json.Marshal(v.Str)
		if err != nil {
			// A Go string always marshals; invalid UTF-8 is replaced, never an error.
			return `""`
		}
		return string(b)
	}
}

// Compare is `path op value`, or `path pr` (then Value is the zero Value).
type Compare struct {
	Path  AttrPath
	Op    Operator
	Value Value
}

// LogicalOp joins two expressions.
type LogicalOp string

// The logical operators.
const (
	And LogicalOp = "and"
	Or  LogicalOp = "or"
)

// Logical is `left and right` or `left or right`.
type Logical struct {
	Op          LogicalOp
	Left, Right Expr
}

// Not is `not (expr)`.
type Not struct {
	Expr Expr
}

// ValuePath is `attr[filter]`: true when one value of the multi-valued attribute matches the
// inner filter. The inner filter's paths name sub-attributes of Attr (`type`, `value`).
type ValuePath struct {
	Attr   AttrPath
	Filter Expr
}

func (*Compare) expr()   {}
func (*Logical) expr()   {}
func (*Not) expr()       {}
func (*ValuePath) expr() {}

// String implements Expr.
func (c *Compare) String() string {
	if c.Op == OpPr {
		return c.Path.String() + " pr"
	}
	return c.Path.String() + " " + string(c.Op) + " " + c.Value.String()
}

// String implements Expr.
func (l *Logical) String() string {
	return "(" + l.Left.String() + " " + string(l.Op) + " " + l.Right.String() + ")"
}

// String implements Expr.
func (n *Not) String() string {
	return "not (" + n.Expr.String() + ")"
}

// String implements Expr.
func (v *ValuePath) String() string {
	return v.Attr.String() + "[" + v.Filter.String() + "]"
}

// Path is a PATCH operation's path: `attr`, `attr.sub`, `urn:...:attr`, a bare schema URN,
// `emails[type eq "work"]` or `emails[type eq "work"].value`. When Filter is set, AttrPath.Sub
// is the sub-attribute written after the closing bracket.
type Path struct {
	AttrPath
	// Filter selects values of a multi-valued attribute; nil when the path has none.
	Filter Expr
}

// String renders the path back as text.
func (p Path) String() string {
	if p.Filter == nil {
		return p.AttrPath.String()
	}
	head := AttrPath{URN: p.URN, Name: p.Name}
	s := head.String() + "[" + p.Filter.String() + "]"
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}
