package directory

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/provisioning-dev/scim-operator/internal/filter"
)

type attrKind int

const (
	kindText attrKind = iota
	kindBool
	kindTime
)

// column is a filterable attribute: a SQL expression, its type, and whether it holds values
// lowered by the application (case-insensitive attributes).
type column struct {
	expr string
	kind attrKind
	ci   bool
}

// multiAttr is a multi-valued attribute kept in a table of its own; a comparison on it
// becomes `in` over a subquery, which the database answers from the table's index.
type multiAttr struct {
	// in is the SQL with %s where the condition on the values goes.
	in   string
	subs map[string]column
	// def is the sub-attribute compared when the filter names none (`emails eq "x"`).
	def string
	// sort is the column sorted on for sortBy on this attribute (the primary value), if any.
	sort string
}

// schema maps a resource's filterable attributes to SQL. Keys are lower case, sub-attributes
// joined with a dot ("name.givenname").
type schema struct {
	urn    string
	core   map[string]column
	ext    map[string]column
	multis map[string]*multiAttr
	// order is the default order, creation order.
	order string
}

func ci(expr string) column   { return column{expr: expr, ci: true} }
func text(expr string) column { return column{expr: expr} }

var userSchema = &schema{
	urn: filter.UserSchema,
	core: map[string]column{
		"id":                   text("u.id"),
		"externalid":           text("u.external_id"),
		"username":             ci("u.user_name_ci"),
		"displayname":          ci("u.display_name_ci"),
		"nickname":             ci("u.nick_name_ci"),
		"title":                ci("u.title_ci"),
		"usertype":             ci("u.user_type_ci"),
		"preferredlanguage":    ci("u.preferred_language_ci"),
		"locale":               ci("u.locale_ci"),
		"timezone":             ci("u.timezone_ci"),
		"profileurl":           ci("u.profile_url_ci"),
		"name.formatted":       ci("u.formatted_name_ci"),
		"name.familyname":      ci("u.family_name_ci"),
		"name.givenname":       ci("u.given_name_ci"),
		"name.middlename":      ci("u.middle_name_ci"),
		"name.honorificprefix": ci("u.honorific_prefix_ci"),
		"name.honorificsuffix": ci("u.honorific_suffix_ci"),
		"active":               {expr: "u.active", kind: kindBool},
		"meta.created":         {expr: "u.created", kind: kindTime},
		"meta.lastmodified":    {expr: "u.last_modified", kind: kindTime},
	},
	ext: map[string]column{
		"badgeid":           ci("u.badge_id_ci"),
		"rankname":          ci("u.rank_name_ci"),
		"evidencegroupname": ci("u.evidence_group_ci"),
		"usergroupname":     ci("u.user_group_ci"),
		"axonrole":          ci("u.axon_role_ci"),
	},
	multis: map[string]*multiAttr{
		"emails": {
			in: "u.seq IN (SELECT e.user_seq FROM user_emails e WHERE %s)",
			subs: map[string]column{
				"value":   ci("e.value_ci"),
				"type":    ci("e.type_ci"),
				"display": ci("e.display_ci"),
				"primary": {expr: "e.is_primary", kind: kindBool},
			},
			def:  "value",
			sort: "u.primary_email_ci",
		},
		"groups": {
			in: "u.id IN (SELECT gm.member_id FROM group_members gm JOIN groups gg ON gg.seq = gm.group_seq WHERE %s)",
			subs: map[string]column{
				"value":   text("gg.id"),
				"display": ci("gg.display_name_ci"),
			},
			def: "value",
		},
	},
	order: "u.seq",
}

var groupSchema = &schema{
	urn: filter.GroupSchema,
	core: map[string]column{
		"id":                text("g.id"),
		"externalid":        text("g.external_id"),
		"displayname":       ci("g.display_name_ci"),
		"meta.created":      {expr: "g.created", kind: kindTime},
		"meta.lastmodified": {expr: "g.last_modified", kind: kindTime},
	},
	multis: map[string]*multiAttr{
		"members": {
			in: "g.seq IN (SELECT gm.group_seq FROM group_members gm WHERE %s)",
			subs: map[string]column{
				"value": text("gm.member_id"),
				"type":  ci("lower(gm.member_type)"), // "User" or "Group", compared case-insensitively
			},
			def: "value",
		},
	},
	order: "g.seq",
}

// memberSchema is the value filter of `members[...]` in a PATCH remove.
var memberSchema = &schema{
	core: map[string]column{
		"value": text("member_id"),
		"type":  ci("lower(member_type)"),
	},
}

// sqlFilter is a WHERE condition being built.
type sqlFilter struct {
	d    *dialect
	ext  string
	b    strings.Builder
	args []any
}

func badFilter(format string, args ...any) error {
	return errorf(KindInvalidFilter, "filter", format, args...)
}

// translate appends e as SQL. Every comparison yields true or false, never NULL, where it
// matters (under not), so SQL's three-valued logic cannot change the answer.
func (f *sqlFilter) translate(e filter.Expr, sc *schema) error {
	switch n := e.(type) {
	case *filter.Logical:
		f.b.WriteByte('(')
		if err := f.translate(n.Left, sc); err != nil {
			return err
		}
		if n.Op == filter.And {
			f.b.WriteString(" AND ")
		} else {
			f.b.WriteString(" OR ")
		}
		if err := f.translate(n.Right, sc); err != nil {
			return err
		}
		f.b.WriteByte(')')
		return nil
	case *filter.Not:
		f.b.WriteString("NOT COALESCE((")
		if err := f.translate(n.Expr, sc); err != nil {
			return err
		}
		f.b.WriteString("), FALSE)")
		return nil
	case *filter.ValuePath:
		m, err := f.multi(n.Attr, sc)
		if err != nil {
			return err
		}
		return f.inMulti(m, func() error {
			return f.translate(n.Filter, &schema{core: m.subs})
		})
	case *filter.Compare:
		return f.compare(n, sc)
	default:
		return badFilter("unsupported expression")
	}
}

func (f *sqlFilter) inMulti(m *multiAttr, inner func() error) error {
	before, after, _ := strings.Cut(m.in, "%s")
	f.b.WriteString(before)
	if err := inner(); err != nil {
		return err
	}
	f.b.WriteString(after)
	return nil
}

// multi resolves a value path's attribute to a multi-valued attribute.
func (f *sqlFilter) multi(p filter.AttrPath, sc *schema) (*multiAttr, error) {
	if p.URN != "" && !strings.EqualFold(p.URN, sc.urn) {
		return nil, badFilter("%q is not a multi-valued attribute", p.String())
	}
	m, ok := sc.multis[strings.ToLower(p.Name)]
	if !ok || p.Sub != "" {
		return nil, badFilter("%q is not a multi-valued attribute that can be filtered", p.String())
	}
	return m, nil
}

// resolve finds the column of a path; for a multi-valued attribute it returns the attribute
// and the column of the sub-attribute compared.
func (f *sqlFilter) resolve(p filter.AttrPath, sc *schema) (column, *multiAttr, error) {
	name := strings.ToLower(p.Name)
	key := name
	if p.Sub != "" {
		key += "." + strings.ToLower(p.Sub)
	}
	switch {
	case p.URN == "" || strings.EqualFold(p.URN, sc.urn):
		if c, ok := sc.core[key]; ok {
			return c, nil, nil
		}
		if m, ok := sc.multis[name]; ok {
			sub := m.def
			if p.Sub != "" {
				sub = strings.ToLower(p.Sub)
			}
			if c, ok := m.subs[sub]; ok {
				return c, m, nil
			}
		}
		if p.URN == "" {
			if c, ok := sc.ext[key]; ok {
				return c, nil, nil
			}
		}
	case strings.EqualFold(p.URN, f.ext):
		if c, ok := sc.ext[key]; ok {
			return c, nil, nil
		}
	}
	return column{}, nil, badFilter("attribute %q cannot be filtered on", p.String())
}

func (f *sqlFilter) compare(c *filter.Compare, sc *schema) error {
	col, m, err := f.resolve(c.Path, sc)
	if err != nil {
		return err
	}
	if m != nil {
		return f.inMulti(m, func() error { return f.compareColumn(col, c) })
	}
	return f.compareColumn(col, c)
}

func (f *sqlFilter) compareColumn(col column, c *filter.Compare) error {
	if c.Op == filter.OpPr {
		f.b.WriteString(col.expr + " IS NOT NULL")
		return nil
	}
	if c.Value.Kind == filter.KindNull {
		switch c.Op {
		case filter.OpEq:
			f.b.WriteString(col.expr + " IS NULL")
		case filter.OpNe:
			f.b.WriteString(col.expr + " IS NOT NULL")
		default:
			return badFilter("%q compares %q with null", c.Op, c.Path.String())
		}
		return nil
	}
	switch col.kind {
	case kindBool:
		return f.compareBool(col, c)
	case kindTime:
		return f.compareTime(col, c)
	default:
		return f.compareText(col, c)
	}
}

func (f *sqlFilter) arg(v any) {
	f.args = append(f.args, v)
}

func (f *sqlFilter) compareText(col column, c *filter.Compare) error {
	if c.Value.Kind != filter.KindString && c.Value.Kind != filter.KindDateTime {
		return badFilter("%q is a string attribute; compare it with a string", c.Path.String())
	}
	v := c.Value.Str
	if strings.ContainsRune(v, 0) {
		return badFilter("a filter value cannot contain U+0000")
	}
	if col.ci {
		v = strings.ToLower(v)
	}
	x := col.expr
	switch c.Op {
	case filter.OpEq:
		f.b.WriteString(x + " = ?")
	case filter.OpNe:
		f.b.WriteString("(" + x + " IS NULL OR " + x + " <> ?)")
	case filter.OpCo:
		f.b.WriteString("(" + x + " IS NOT NULL AND " + f.d.contains(x) + ")")
	case filter.OpSw:
		if upper, ok := prefixUpperBound(v); ok {
			f.b.WriteString("(" + x + " >= ? AND " + x + " < ?)")
			f.arg(v)
			f.arg(upper)
			return nil
		}
		f.b.WriteString(x + " >= ?")
	case filter.OpEw:
		if v == "" {
			f.b.WriteString(x + " IS NOT NULL")
			return nil
		}
		f.b.WriteString("(" + x + " IS NOT NULL AND " + f.d.endsWith(x, utf8.RuneCountInString(v)) + " = ?)")
	case filter.OpGt:
		f.b.WriteString(x + " > ?")
	case filter.OpGe:
		f.b.WriteString(x + " >= ?")
	case filter.OpLt:
		f.b.WriteString(x + " < ?")
	case filter.OpLe:
		f.b.WriteString(x + " <= ?")
	default:
		return badFilter("unknown operator %q", c.Op)
	}
	f.arg(v)
	return nil
}

func (f *sqlFilter) compareBool(col column, c *filter.Compare) error {
	var b bool
	switch {
	case c.Value.Kind == filter.KindBool:
		b = c.Value.Bool
	case c.Value.Kind == filter.KindString && strings.EqualFold(c.Value.Str, "true"):
		b = true
	case c.Value.Kind == filter.KindString && strings.EqualFold(c.Value.Str, "false"):
	default:
		return badFilter("%q is a boolean attribute; compare it with true or false", c.Path.String())
	}
	switch c.Op {
	case filter.OpEq:
		f.b.WriteString(col.expr + " = ?")
	case filter.OpNe:
		f.b.WriteString(col.expr + " <> ?")
	default:
		return badFilter("a boolean attribute takes only eq, ne and pr, not %q", c.Op)
	}
	f.arg(boolInt(b))
	return nil
}

func (f *sqlFilter) compareTime(col column, c *filter.Compare) error {
	var t time.Time
	switch c.Value.Kind {
	case filter.KindDateTime:
		t = c.Value.Time
	default:
		return badFilter("%q is a date-time attribute; compare it with an RFC 3339 date-time", c.Path.String())
	}
	ops := map[filter.Operator]string{
		filter.OpEq: " = ?", filter.OpNe: " <> ?", filter.OpGt: " > ?",
		filter.OpGe: " >= ?", filter.OpLt: " < ?", filter.OpLe: " <= ?",
	}
	op, ok := ops[c.Op]
	if !ok {
		return badFilter("a date-time attribute takes eq, ne, gt, ge, lt, le and pr, not %q", c.Op)
	}
	f.b.WriteString(col.expr + op)
	f.arg(formatTime(t))
	return nil
}

// prefixUpperBound returns the smallest string greater than every string starting with p,
// so `sw` is an index range. ok is false when there is none (p is empty or all U+10FFFF).
func prefixUpperBound(p string) (string, bool) {
	runes := []rune(p)
	for i := len(runes) - 1; i >= 0; i-- {
		r := runes[i] + 1
		if r >= 0xD800 && r <= 0xDFFF {
			r = 0xE000
		}
		if r <= utf8.MaxRune {
			return string(runes[:i]) + string(r), true
		}
	}
	return "", false
}

// orderBy returns the ORDER BY clause for a query: default (creation) order, or sortBy with
// missing values last and creation order breaking ties.
func orderBy(q Query, sc *schema, ext string) (string, error) {
	if q.SortBy == "" {
		return sc.order, nil
	}
	p, err := filter.ParsePath(q.SortBy, filter.WithSchemas(ext))
	if err != nil || p.Filter != nil || p.Name == "" {
		return "", errorf(KindInvalidFilter, "sortBy", "sortBy must name an attribute")
	}
	f := &sqlFilter{ext: ext}
	col, m, err := f.resolve(p.AttrPath, sc)
	if err != nil {
		return "", errorf(KindInvalidFilter, "sortBy", "attribute %q cannot be sorted on", q.SortBy)
	}
	expr := col.expr
	if m != nil {
		// The sort column holds the primary value, so only the attribute or its value sorts.
		if m.sort == "" || (p.Sub != "" && !strings.EqualFold(p.Sub, m.def)) {
			return "", errorf(KindInvalidFilter, "sortBy", "attribute %q cannot be sorted on", q.SortBy)
		}
		expr = m.sort
	}
	dir := " ASC"
	if q.SortOrder == Descending {
		dir = " DESC"
	}
	return "(" + expr + " IS NULL), " + expr + dir + ", " + sc.order, nil
}

// pageBounds normalises startIndex and count.
func pageBounds(q Query) (start, count int) {
	start, count = q.StartIndex, q.Count
	if start < 1 {
		start = 1
	}
	if count < 0 {
		count = 0
	}
	return start, count
}
