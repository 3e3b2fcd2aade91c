package filter

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits that keep a hostile filter cheap to reject.
const (
	// MaxLength is the longest filter or path accepted, in bytes.
	MaxLength = 64 << 10
	// MaxDepth is the deepest nesting of parentheses and `not` accepted.
	MaxDepth = 64
)

// Parse parses a SCIM filter (RFC 7644 section 3.4.2.2). Operators and the words and, or, not,
// true, false and null are matched case-insensitively. Every error matches ErrInvalidFilter.
func Parse(s string, opts ...Option) (Expr, error) {
	p := &parser{in: s, kind: ErrInvalidFilter, cfg: newConfig(opts)}
	if len(s) > MaxLength {
		return nil, p.fail(0, fmt.Sprintf("longer than %d bytes", MaxLength))
	}
	p.skipSpace()
	if p.pos == len(s) {
		return nil, p.fail(0, "empty filter")
	}
	e, err := p.parseOr(false)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(s) {
		return nil, p.fail(p.pos, "unexpected text after the filter")
	}
	return e, nil
}

// ParsePath parses a PATCH operation's path (RFC 7644 section 3.5.2). Every error matches
// ErrInvalidPath.
func ParsePath(s string, opts ...Option) (Path, error) {
	p := &parser{in: s, kind: ErrInvalidPath, cfg: newConfig(opts)}
	if len(s) > MaxLength {
		return Path{}, p.fail(0, fmt.Sprintf("longer than %d bytes", MaxLength))
	}
	p.skipSpace()
	start := p.pos
	tok := p.word()
	if tok == "" {
		return Path{}, p.fail(p.pos, "expected an attribute name")
	}
	attr, err := p.attrPath(tok, start, true)
	if err != nil {
		return Path{}, err
	}
	path := Path{AttrPath: attr}
	if p.pos < len(s) && s[p.pos] == '[' {
		if attr.Sub != "" || attr.Name == "" {
			return Path{}, p.fail(p.pos, "a value filter follows an attribute, not a sub-attribute or a URN")
		}
		p.pos++
		// The inner filter is a filter; report its errors as path errors all the same.
		inner, err := p.parseOr(true)
		if err != nil {
			return Path{}, err
		}
		p.skipSpace()
		if !p.eat(']') {
			return Path{}, p.fail(p.pos, "expected ']'")
		}
		path.Filter = inner
		if p.eat('.') {
			subStart := p.pos
			sub := p.word()
			if !validName(sub) {
				return Path{}, p.fail(subStart, "expected a sub-attribute name after ']'")
			}
			path.Sub = sub
		}
	}
	p.skipSpace()
	if p.pos != len(s) {
		return Path{}, p.fail(p.pos, "unexpected text after the path")
	}
	return path, nil
}

type parser struct {
	in    string
	pos   int
	kind  error
	cfg   *config
	depth int
}

func (p *parser) fail(at int, reason string) error {
	return &SyntaxError{Kind: p.kind, Offset: at, Reason: reason}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.in) && (p.in[p.pos] == ' ' || p.in[p.pos] == '\t' || p.in[p.pos] == '\n' || p.in[p.pos] == '\r') {
		p.pos++
	}
}

func (p *parser) eat(c byte) bool {
	if p.pos < len(p.in) && p.in[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == ':' || c == '$'
}

// word reads a run of name characters: an attribute path, an operator or a keyword.
func (p *parser) word() string {
	start := p.pos
	for p.pos < len(p.in) && isWordByte(p.in[p.pos]) {
		p.pos++
	}
	return p.in[start:p.pos]
}

// peekWord returns the next word without consuming it, and where it ends.
func (p *parser) peekWord() (string, int) {
	save := p.pos
	p.skipSpace()
	w := p.word()
	end := p.pos
	p.pos = save
	return w, end
}

func (p *parser) enter(at int) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.fail(at, fmt.Sprintf("nested deeper than %d", MaxDepth))
	}
	return nil
}

// parseOr reads `and-expr *( "or" and-expr )`. inBrackets marks a value filter, where value
// paths cannot nest.
func (p *parser) parseOr(inBrackets bool) (Expr, error) {
	left, err := p.parseAnd(inBrackets)
	if err != nil {
		return nil, err
	}
	for {
		w, end := p.peekWord()
		if !strings.EqualFold(w, "or") {
			return left, nil
		}
		p.pos = end
		right, err := p.parseAnd(inBrackets)
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: Or, Left: left, Right: right}
	}
}

func (p *parser) parseAnd(inBrackets bool) (Expr, error) {
	left, err := p.parseUnary(inBrackets)
	if err != nil {
		return nil, err
	}
	for {
		w, end := p.peekWord()
		if !strings.EqualFold(w, "and") {
			return left, nil
		}
		p.pos = end
		right, err := p.parseUnary(inBrackets)
		if err != nil {
			return nil, err
		}
		left = &Logical{Op: And, Left: left, Right: right}
	}
}

// parseUnary reads `not (filter)`, `(filter)`, a value path or a comparison.
func (p *parser) parseUnary(inBrackets bool) (Expr, error) {
	p.skipSpace()
	start := p.pos
	if p.eat('(') {
		return p.parseGroup(start, inBrackets)
	}
	w, end := p.peekWord()
	if strings.EqualFold(w, "not") {
		save := p.pos
		p.pos = end
		p.skipSpace()
		if p.eat('(') {
			inner, err := p.parseGroup(start, inBrackets)
			if err != nil {
				return nil, err
			}
			return &Not{Expr: inner}, nil
		}
		// `not` without a parenthesis is an attribute called "not".
		p.pos = save
	}
	return p.parseAttrExpr(inBrackets)
}

// parseGroup reads the rest of a parenthesised filter whose '(' was at start.
func (p *parser) parseGroup(start int, inBrackets bool) (Expr, error) {
	if err := p.enter(start); err != nil {
		return nil, err
	}
	inner, err := p.parseOr(inBrackets)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eat(')') {
		return nil, p.fail(p.pos, "expected ')'")
	}
	p.depth--
	return inner, nil
}

func (p *parser) parseAttrExpr(inBrackets bool) (Expr, error) {
	p.skipSpace()
	start := p.pos
	tok := p.word()
	if tok == "" {
		if p.pos == len(p.in) {
			return nil, p.fail(p.pos, "unexpected end, expected an attribute name")
		}
		return nil, p.fail(p.pos, fmt.Sprintf("unexpected %q, expected an attribute name", p.in[p.pos]))
	}
	path, err := p.attrPath(tok, start, false)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.in) && p.in[p.pos] == '[' {
		return p.parseValuePath(path, inBrackets)
	}
	p.skipSpace()
	opStart := p.pos
	opWord := p.word()
	op, ok := operators[strings.ToLower(opWord)]
	if !ok {
		if opWord == "" {
			return nil, p.fail(opStart, "expected an operator after the attribute")
		}
		return nil, p.fail(opStart, fmt.Sprintf("unknown operator %q", opWord))
	}
	if op == OpPr {
		return &Compare{Path: path, Op: op}, nil
	}
	p.skipSpace()
	val, err := p.value()
	if err != nil {
		return nil, err
	}
	return &Compare{Path: path, Op: op, Value: val}, nil
}

func (p *parser) parseValuePath(path AttrPath, inBrackets bool) (Expr, error) {
	at := p.pos
	if inBrackets {
		return nil, p.fail(at, "value filters cannot nest")
	}
	if path.Sub != "" {
		return nil, p.fail(at, "a value filter follows an attribute, not a sub-attribute")
	}
	p.pos++
	if err := p.enter(at); err != nil {
		return nil, err
	}
	inner, err := p.parseOr(true)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eat(']') {
		return nil, p.fail(p.pos, "expected ']'")
	}
	p.depth--
	return &ValuePath{Attr: path, Filter: inner}, nil
}

// attrPath splits a word into URN, attribute and sub-attribute. bareURN allows a path that
// is only a schema URN (PATCH paths).
func (p *parser) attrPath(tok string, at int, bareURN bool) (AttrPath, error) {
	urn, rest, qualified, bare := p.cfg.splitURN(tok)
	if bare {
		if bareURN {
			return AttrPath{URN: urn}, nil
		}
		return AttrPath{}, p.fail(at, "expected an attribute name after the schema URN")
	}
	if qualified && !validURN(urn) {
		return AttrPath{}, p.fail(at, "invalid schema URN")
	}
	name, sub, dotted := strings.Cut(rest, ".")
	if !validName(name) {
		return AttrPath{}, p.fail(at, "invalid attribute name")
	}
	if dotted && !validName(sub) {
		return AttrPath{}, p.fail(at, "invalid sub-attribute name")
	}
	return AttrPath{URN: urn, Name: name, Sub: sub}, nil
}

// validName reports whether s is an ATTRNAME: a letter, then letters, digits, '-' and '_';
// `$ref` is accepted too.
func validName(s string) bool {
	if s == "$ref" {
		return true
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter {
			return false
		}
		digit := c >= '0' && c <= '9'
		if !letter && !digit && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// value reads a comparison value: a JSON string, number, true, false or null.
func (p *parser) value() (Value, error) {
	start := p.pos
	if p.pos == len(p.in) {
		return Value{}, p.fail(start, "expected a value after the operator")
	}
	if p.in[p.pos] == '"' {
		return p.stringValue()
	}
	w := p.word()
	switch strings.ToLower(w) {
	case "true":
		return Value{Kind: KindBool, Bool: true}, nil
	case "false":
		return Value{Kind: KindBool}, nil
	case "null":
		return Value{Kind: KindNull}, nil
	}
	// Numbers start with a digit or '-'; word() stops at '-' only if it starts a word, so
	// read the number by hand.
	p.pos = start
	for p.pos < len(p.in) && strings.IndexByte("+-.eE0123456789", p.in[p.pos]) >= 0 {
		p.pos++
	}
	raw := p.in[start:p.pos]
	if raw == "" || !validJSONNumber(raw) {
		p.pos = start
		return Value{}, p.fail(start, "expected a string, number, true, false or null")
	}
	n, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		return Value{}, p.fail(start, "number out of range")
	}
	return Value{Kind: KindNumber, Num: n, Raw: raw}, nil
}

func (p *parser) stringValue() (Value, error) {
	start := p.pos
	p.pos++
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case '\\':
			p.pos += 2
			continue
		case '"':
			p.pos++
			s, ok := unquote(p.in[start:p.pos])
			if !ok {
				return Value{}, p.fail(start, "invalid string escape")
			}
			v := Value{Kind: KindString, Str: s}
			if t, ok := parseDateTime(s); ok {
				v.Kind = KindDateTime
				v.Time = t
			}
			return v, nil
		}
		p.pos++
	}
	return Value{}, p.fail(start, "unterminated string")
}

// unquote reads a JSON string literal, quotes included, as encoding/json does. A literal
// without escapes, control characters or invalid UTF-8 (every userName Okta looks up) is its
// own content, so only the others go through encoding/json.
func unquote(lit string) (string, bool) {
	body := lit[1 : len(lit)-1]
	plain := true
	for i := 0; i < len(body); i++ {
		if c := body[i]; c == '\\' || c < ' ' {
			plain = false
			break
		}
	}
	if plain && utf8.ValidString(body) {
		return body, true
	}
	var s string
	if err := json.Unmarshal([]byte(lit), &s); err != nil {
		return "", false
	}
	return s, true
}

// parseDateTime recognises an RFC 3339 timestamp (xsd:dateTime as SCIM uses it).
func parseDateTime(s string) (time.Time, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[10] != 'T' && s[10] != 't' {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// validJSONNumber reports whether s is a JSON number.
func validJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	first := i
	if n := digits(); n == 0 || (n > 1 && s[first] == '0') {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
