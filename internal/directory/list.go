package directory

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/provisioning-dev/scim-operator/internal/filter"
)

// where translates a query's filter for a resource; "" when there is none.
func (s *sqlStore) where(e filter.Expr, sc *schema) (string, []any, error) {
	if e == nil {
		return "", nil, nil
	}
	f := &sqlFilter{d: &s.d, ext: s.rules.extension}
	if err := f.translate(e, sc); err != nil {
		return "", nil, err
	}
	return " WHERE " + f.b.String(), f.args, nil
}

// ListUsers implements Store.
func (s *sqlStore) ListUsers(ctx context.Context, q Query) (*Page[User], error) {
	start, count := pageBounds(q)
	page := &Page[User]{StartIndex: start, Resources: []User{}}
	where, args, err := s.where(q.Filter, userSchema)
	if err != nil {
		return nil, err
	}
	order, err := orderBy(q, userSchema, s.rules.extension)
	if err != nil {
		return nil, err
	}
	if s.d.inProcess && uniqueLookup(q.Filter) {
		ctx = context.WithoutCancel(ctx)
	}
	var seqs []int64
	if count > 0 {
		// A page's users come with their groups in the same query: a lookup is one statement.
		sel := selectUser
		if q.WithMembers {
			sel = s.selectUserGroups
		}
		query, qargs, err := s.userPageQuery(ctx, q, sel, where, args, order, start, count)
		if err != nil {
			return nil, err
		}
		rows, err := s.rd.QueryContext(ctx, query, qargs...)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		if seqs, err = collectUsers(rows, page, q.WithMembers); err != nil {
			return nil, err
		}
	}
	page.Total, err = s.total(ctx, "users", len(seqs), start, count, where, args, "SELECT count(*) FROM users u")
	if err != nil {
		return nil, err
	}
	return page, nil
}

// uniqueLookup reports whether e selects at most one user through a unique index (Okta's
// lookup by userName; by id or externalId). On SQLite such a statement runs in microseconds,
// so it runs without watching for cancellation, which costs database/sql and the SQLite
// driver a goroutine each per statement. PostgreSQL's statements always watch: one can wait
// on a lock or on a server that stopped answering, and the request's deadline must end it.
func uniqueLookup(e filter.Expr) bool {
	c, ok := e.(*filter.Compare)
	if !ok || c.Op != filter.OpEq || c.Path.Sub != "" || c.Value.Kind != filter.KindString {
		return false
	}
	if c.Path.URN != "" && !strings.EqualFold(c.Path.URN, filter.UserSchema) {
		return false
	}
	switch strings.ToLower(c.Path.Name) {
	case "username", "id", "externalid":
		return true
	}
	return false
}

// userGroupsColumn is the SQL of a column holding a user's groups as a JSON array of
// [seq, id, displayName] triples, for the dialect; decodeGroupRefs orders them. Sorting a
// user's few groups in Go spares SQLite a temporary B-tree on every read of a user.
func userGroupsColumn(d *dialect) string {
	const from = ` FROM group_members m JOIN groups g ON g.seq = m.group_seq WHERE m.member_id = u.id)`
	if d.dollar {
		return `(SELECT COALESCE(json_agg(json_build_array(g.seq, g.id, g.display_name)), '[]')::text` + from
	}
	return `(SELECT json_group_array(json_array(g.seq, g.id, g.display_name))` + from
}

// groupRef is a user's group with its creation order, to sort by.
type groupRef struct {
	seq int64
	GroupRef
}

// userGroupRefs orders a user's groups by lowercase display name, then creation (the
// display_name_ci and seq columns), compared byte by byte in every database, whatever its
// collation; every read of a user's groups goes through it.
func userGroupRefs(refs []groupRef) []GroupRef {
	if len(refs) == 0 {
		return nil
	}
	slices.SortFunc(refs, func(a, b groupRef) int {
		if c := strings.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName)); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := make([]GroupRef, len(refs))
	for i, r := range refs {
		out[i] = r.GroupRef
	}
	return out
}

// decodeGroupRefs reads a userGroupsColumn value.
func decodeGroupRefs(v string) ([]GroupRef, error) {
	if v == "" || v == "[]" {
		return nil, nil
	}
	var refs []groupRef
	d := docReader{s: v}
	ok := d.array(func() bool {
		var r groupRef
		ok := d.byte('[') && d.integer(&r.seq) && d.byte(',') && d.into(&r.ID) && d.byte(',') &&
			d.into(&r.DisplayName) && d.byte(']')
		refs = append(refs, r)
		return ok
	})
	if !ok || !d.end() {
		var triples [][3]any
		if err := json.Unmarshal([]byte(v), &triples); err != nil {
			return nil, fmt.Errorf("decode user's groups: %w", err)
		}
		refs = refs[:0]
		for _, t := range triples {
			seq, _ := t[0].(float64)
			id, _ := t[1].(string)
			name, _ := t[2].(string)
			refs = append(refs, groupRef{seq: int64(seq), GroupRef: GroupRef{ID: id, DisplayName: name}})
		}
	}
	return userGroupRefs(refs), nil
}

// userPageQuery builds the SELECT of one page. An unfiltered page in creation order seeks to
// its first row by seq when seqs are dense (1..n, checked in one snapshot): users are never
// deleted, so then the user at position p has seq p, now and later. SQLite's single writer
// leaves no gaps; PostgreSQL's sequences may, and then the page is read with OFFSET.
func (s *sqlStore) userPageQuery(
	ctx context.Context,
	q Query,
	sel string,
	where string,
	args []any,
	order string,
	start, count int,
) (string, []any, error) {
	if q.Filter == nil && q.SortBy == "" {
		if start == 1 {
			return sel + " ORDER BY u.seq LIMIT ?", []any{count}, nil
		}
		dense, err := s.denseUsers(ctx)
		if err != nil {
			return "", nil, err
		}
		if dense {
			return sel + " WHERE u.seq >= ? ORDER BY u.seq LIMIT ?", []any{start, count}, nil
		}
	}
	query := sel + where + " ORDER BY " + order + " LIMIT ? OFFSET ?"
	return query, append(append([]any(nil), args...), count, start-1), nil
}

// denseUsers reports whether the users' seqs are exactly 1..n.
func (s *sqlStore) denseUsers(ctx context.Context) (bool, error) {
	if s.noSeek {
		return false, nil
	}
	var maxSeq sql.NullInt64
	var n int64
	err := s.rd.QueryRowContext(ctx, `SELECT (SELECT max(seq) FROM users),
		(SELECT value FROM counters WHERE name = 'users')`).Scan(&maxSeq, &n)
	if err != nil {
		return false, fmt.Errorf("check user positions: %w", err)
	}
	return maxSeq.Int64 == n, nil
}

// collectUsers reads the rows of a page; withGroups when they hold a userGroupsColumn.
func collectUsers(rows *sql.Rows, page *Page[User], withGroups bool) ([]int64, error) {
	defer func() { _ = rows.Close() }()
	var seqs []int64
	var groups string
	var extra []any
	if withGroups {
		extra = []any{&groups}
	}
	for rows.Next() {
		seq, u, _, err := scanUser(rows, extra...)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		if withGroups {
			if u.Groups, err = decodeGroupRefs(groups); err != nil {
				return nil, fmt.Errorf("list users: %w", err)
			}
		}
		page.Resources = append(page.Resources, *u)
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return seqs, nil
}

// total returns how many resources match. A short page that starts at the beginning or holds
// rows already tells; an unfiltered query reads the counter; otherwise the database counts
// (from an index, for the indexed attributes).
func (s *sqlStore) total(
	ctx context.Context,
	counter string,
	got, start, count int,
	where string,
	args []any,
	countSQL string,
) (int, error) {
	if count > 0 && got < count && (got > 0 || start == 1) {
		return start - 1 + got, nil
	}
	if where == "" {
		return s.counter(ctx, counter)
	}
	var n int64
	if err := s.rd.QueryRowContext(ctx, s.q(countSQL+where), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", counter, err)
	}
	return int(n), nil
}

const selectGroup = "SELECT g.seq, g.id, g.display_name, g.external_id, g.created, g.last_modified, g.version" +
	" FROM groups g"

func scanGroup(r rowScanner) (int64, *Group, error) {
	var (
		seq               int64
		g                 Group
		ext               sql.NullString
		created, modified string
	)
	if err := r.Scan(&seq, &g.ID, &g.DisplayName, &ext, &created, &modified, &g.Meta.Version); err != nil {
		return 0, nil, err
	}
	g.ExternalID = ext.String
	var err error
	if g.Meta.Created, err = parseTime(created); err != nil {
		return 0, nil, err
	}
	if g.Meta.LastModified, err = parseTime(modified); err != nil {
		return 0, nil, err
	}
	return seq, &g, nil
}

// ListGroups implements Store.
func (s *sqlStore) ListGroups(ctx context.Context, q Query) (*Page[Group], error) {
	start, count := pageBounds(q)
	page := &Page[Group]{StartIndex: start, Resources: []Group{}}
	where, args, err := s.where(q.Filter, groupSchema)
	if err != nil {
		return nil, err
	}
	order, err := orderBy(q, groupSchema, s.rules.extension)
	if err != nil {
		return nil, err
	}
	var seqs []int64
	if count > 0 {
		query := selectGroup + where + " ORDER BY " + order + " LIMIT ? OFFSET ?"
		rows, err := s.rd.QueryContext(ctx, s.q(query), append(append([]any(nil), args...), count, start-1)...)
		if err != nil {
			return nil, fmt.Errorf("list groups: %w", err)
		}
		if seqs, err = collectGroups(rows, page); err != nil {
			return nil, err
		}
	}
	page.Total, err = s.total(ctx, "groups", len(seqs), start, count, where, args, "SELECT count(*) FROM groups g")
	if err != nil {
		return nil, err
	}
	if q.WithMembers && len(seqs) > 0 {
		if err := s.attachMembers(ctx, s.rd, seqs, page.Resources); err != nil {
			return nil, err
		}
	}
	return page, nil
}

func collectGroups(rows *sql.Rows, page *Page[Group]) ([]int64, error) {
	defer func() { _ = rows.Close() }()
	var seqs []int64
	for rows.Next() {
		seq, g, err := scanGroup(rows)
		if err != nil {
			return nil, fmt.Errorf("list groups: %w", err)
		}
		page.Resources = append(page.Resources, *g)
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return seqs, nil
}

// attachMembers loads the members of groups (seqs[i] is groups[i]'s) in one query.
func (s *sqlStore) attachMembers(ctx context.Context, db dbtx, seqs []int64, groups []Group) error {
	index := make(map[int64]int, len(seqs))
	marks := make([]string, len(seqs))
	args := make([]any, len(seqs))
	for i, seq := range seqs {
		index[seq] = i
		marks[i] = "?"
		args[i] = seq
		groups[i].Members = []Member{}
	}
	rows, err := db.QueryContext(ctx, s.q(`SELECT m.group_seq, m.member_id, m.member_type,
		COALESCE(u.display_name, u.user_name, mg.display_name, '')
		FROM group_members m
		LEFT JOIN users u ON m.member_type = 'User' AND u.id = m.member_id
		LEFT JOIN groups mg ON m.member_type = 'Group' AND mg.id = m.member_id
		WHERE m.group_seq IN (`+strings.Join(marks, ", ")+`) ORDER BY m.group_seq, m.member_id`), args...)
	if err != nil {
		return fmt.Errorf("read members: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var seq int64
		var m Member
		var typ string
		if err := rows.Scan(&seq, &m.Value, &typ, &m.Display); err != nil {
			return fmt.Errorf("read members: %w", err)
		}
		m.Type = MemberType(typ)
		if i, ok := index[seq]; ok {
			groups[i].Members = append(groups[i].Members, m)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read members: %w", err)
	}
	return nil
}
