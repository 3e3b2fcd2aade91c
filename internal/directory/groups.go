package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// CreateGroup implements Store.
func (s *sqlStore) CreateGroup(ctx context.Context, g Group) (*Group, error) {
	if strings.TrimSpace(g.DisplayName) == "" {
		return nil, errorf(KindInvalidValue, "displayName", "displayName is required")
	}
	if err := checkGroupValue("displayName", g.DisplayName); err != nil {
		return nil, err
	}
	if err := checkGroupValue("externalId", g.ExternalID); err != nil {
		return nil, err
	}
	now := s.stamp()
	g.ID = newID()
	g.Meta = Meta{Created: now, LastModified: now, Version: 1}
	var out *Group
	err := s.inTx(ctx, func(tx *conn) error {
		var seq int64
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO groups
			(id, display_name, display_name_ci, external_id, created, last_modified, version)
			VALUES (?, ?, ?, ?, ?, ?, 1) RETURNING seq`),
			g.ID, g.DisplayName, strings.ToLower(g.DisplayName), nullable(g.ExternalID),
			formatTime(now), formatTime(now)).Scan(&seq)
		if err != nil {
			return s.mapWriteError(fmt.Errorf("insert group: %w", err))
		}
		if _, err := s.addMembers(ctx, tx, seq, g.ID, memberIDs(g.Members)); err != nil {
			return err
		}
		out, err = s.groupInTx(ctx, tx, seq, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func memberIDs(members []Member) []string {
	ids := make([]string, 0, len(members))
	for _, m := range members {
		ids = append(ids, m.Value)
	}
	return ids
}

// GetGroup implements Store.
func (s *sqlStore) GetGroup(ctx context.Context, id string, withMembers bool) (*Group, error) {
	seq, g, err := s.loadGroup(ctx, s.rd, id, "")
	if err != nil {
		return nil, err
	}
	if withMembers {
		groups := []Group{*g}
		if err := s.attachMembers(ctx, s.rd, []int64{seq}, groups); err != nil {
			return nil, err
		}
		return &groups[0], nil
	}
	return g, nil
}

// loadGroup reads one group by id; lock (a dialect's forUpdate or forNoKeyUpdate) locks its row.
func (s *sqlStore) loadGroup(ctx context.Context, db dbtx, id, lock string) (int64, *Group, error) {
	if badID(id) {
		return 0, nil, errorf(KindNotFound, "id", "group not found")
	}
	query := selectGroup + " WHERE g.id = ?" + lock
	seq, g, err := scanGroup(db.QueryRowContext(ctx, s.q(query), id))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, errorf(KindNotFound, "id", "group %s not found", id)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read group %s: %w", id, err)
	}
	return seq, g, nil
}

// groupInTx re-reads a group inside a write transaction.
func (s *sqlStore) groupInTx(ctx context.Context, tx *conn, seq int64, withMembers bool) (*Group, error) {
	_, g, err := scanGroup(tx.QueryRowContext(ctx, s.q(selectGroup+" WHERE g.seq = ?"), seq))
	if err != nil {
		return nil, fmt.Errorf("read group: %w", err)
	}
	if !withMembers {
		return g, nil
	}
	groups := []Group{*g}
	if err := s.attachMembers(ctx, tx, []int64{seq}, groups); err != nil {
		return nil, err
	}
	return &groups[0], nil
}

// ReplaceGroup implements Store.
func (s *sqlStore) ReplaceGroup(ctx context.Context, id string, g Group, opts ...WriteOption) (*Group, error) {
	ops := []GroupOp{
		{Kind: OpSetDisplayName, Value: g.DisplayName},
		{Kind: OpSetExternalID, Value: g.ExternalID},
		{Kind: OpReplaceMembers, Members: memberIDs(g.Members)},
	}
	return s.patchAndReadGroup(ctx, id, ops, opts, true)
}

// PatchGroup implements Store.
func (s *sqlStore) PatchGroup(ctx context.Context, id string, ops []GroupOp, opts ...WriteOption) (*Group, error) {
	return s.patchAndReadGroup(ctx, id, ops, opts, false)
}

// patchAndReadGroup applies ops to a group and reads it back in the same transaction; the
// members are read back only when withMembers is set.
func (s *sqlStore) patchAndReadGroup(
	ctx context.Context,
	id string,
	ops []GroupOp,
	opts []WriteOption,
	withMembers bool,
) (*Group, error) {
	var out *Group
	err := s.inTx(ctx, func(tx *conn) error {
		seq, err := s.patchGroupTx(ctx, tx, id, ops, opts)
		if err != nil {
			return err
		}
		out, err = s.groupInTx(ctx, tx, seq, withMembers)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// patchGroupTx applies ops to a group and bumps its version once if anything changed.
func (s *sqlStore) patchGroupTx(
	ctx context.Context,
	tx *conn,
	id string,
	ops []GroupOp,
	opts []WriteOption,
) (int64, error) {
	o := collectWriteOptions(opts)
	// Not FOR UPDATE: another transaction may add this group as a member meanwhile (it takes
	// a key share lock), or two groups added to each other at once would deadlock.
	seq, g, err := s.loadGroup(ctx, tx, id, s.d.forNoKeyUpdate)
	if err != nil {
		return 0, err
	}
	if err := o.check("group", id, g.Meta.Version); err != nil {
		return 0, err
	}
	changed := false
	for _, op := range ops {
		n, err := s.applyGroupOp(ctx, tx, seq, g, op)
		if err != nil {
			return 0, err
		}
		changed = changed || n > 0
	}
	if changed {
		if err := s.touchGroup(ctx, tx, seq); err != nil {
			return 0, err
		}
	}
	return seq, nil
}

// applyGroupOp applies one operation and returns how many rows it changed.
func (s *sqlStore) applyGroupOp(ctx context.Context, tx *conn, seq int64, g *Group, op GroupOp) (int64, error) {
	for _, id := range op.Members {
		if badID(id) {
			return 0, errorf(KindInvalidValue, "members", "a member id must be UTF-8 without U+0000")
		}
	}
	switch op.Kind {
	case OpAddMembers:
		return s.addMembers(ctx, tx, seq, g.ID, op.Members)
	case OpRemoveMembers:
		if len(op.Members) == 0 {
			return 0, nil
		}
		return s.execCount(ctx, tx, "DELETE FROM group_members WHERE group_seq = ? AND "+s.d.inList("member_id"),
			seq, s.d.listArg(op.Members))
	case OpRemoveMembersMatching:
		if op.Filter == nil {
			return 0, errorf(KindInvalidValue, "members", "a member filter is required")
		}
		f := &sqlFilter{d: &s.d, ext: s.rules.extension}
		if err := f.translate(op.Filter, memberSchema); err != nil {
			return 0, err
		}
		args := append([]any{seq}, f.args...)
		return s.execCount(ctx, tx, "DELETE FROM group_members WHERE group_seq = ? AND ("+f.b.String()+")", args...)
	case OpRemoveAllMembers:
		return s.execCount(ctx, tx, "DELETE FROM group_members WHERE group_seq = ?", seq)
	case OpReplaceMembers:
		removed, err := s.execCount(ctx, tx, "DELETE FROM group_members WHERE group_seq = ? AND NOT "+
			s.d.inList("member_id"), seq, s.d.listArg(dedupe(op.Members)))
		if err != nil {
			return 0, err
		}
		added, err := s.addMembers(ctx, tx, seq, g.ID, op.Members)
		return removed + added, err
	case OpSetDisplayName:
		return s.renameGroup(ctx, tx, seq, g, op.Value)
	case OpSetExternalID:
		if op.Value == g.ExternalID {
			return 0, nil
		}
		if err := checkGroupValue("externalId", op.Value); err != nil {
			return 0, err
		}
		g.ExternalID = op.Value
		n, err := s.execCount(ctx, tx, "UPDATE groups SET external_id = ? WHERE seq = ?", nullable(op.Value), seq)
		return n, s.mapWriteError(err)
	default:
		return 0, fmt.Errorf("unknown group operation %d", op.Kind)
	}
}

// checkGroupValue refuses a group's displayName or externalId that the stores cannot both hold:
// one containing U+0000 (PostgreSQL text cannot) or longer than MaxIndexedValueBytes. Every
// write of either attribute goes through it.
func checkGroupValue(field, value string) error {
	if strings.ContainsRune(value, 0) {
		return errorf(KindInvalidValue, field, "%s cannot contain U+0000", field)
	}
	return checkIndexedLength(field, value)
}

// renameGroup changes a group's displayName. A command-hierarchy group keeps its name, since
// the name is what protects it.
func (s *sqlStore) renameGroup(ctx context.Context, tx *conn, seq int64, g *Group, name string) (int64, error) {
	if name == g.DisplayName {
		return 0, nil
	}
	if strings.TrimSpace(name) == "" {
		return 0, errorf(KindInvalidValue, "displayName", "displayName is required")
	}
	if err := checkGroupValue("displayName", name); err != nil {
		return 0, err
	}
	if why := s.rules.protectedGroup(g.DisplayName); why != "" && !strings.EqualFold(name, g.DisplayName) {
		return 0, errorf(KindConflict, "displayName", "group %q %s and cannot be renamed", g.DisplayName, why)
	}
	n, err := s.execCount(ctx, tx, "UPDATE groups SET display_name = ?, display_name_ci = ? WHERE seq = ?",
		name, strings.ToLower(name), seq)
	if err != nil {
		return 0, s.mapWriteError(err)
	}
	g.DisplayName = name
	return n, nil
}

func (s *sqlStore) execCount(ctx context.Context, tx *conn, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return 0, fmt.Errorf("update members: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return n, nil
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// addMembers adds users or groups by id; every id must name one (KindInvalidValue naming
// the first that does not). Members already present stay as they are.
func (s *sqlStore) addMembers(ctx context.Context, tx *conn, seq int64, groupID string, ids []string) (int64, error) {
	ids = dedupe(ids)
	if len(ids) == 0 {
		return 0, nil
	}
	for _, id := range ids {
		if badID(id) {
			return 0, errorf(KindInvalidValue, "members", "a member id must be UTF-8 without U+0000")
		}
		if id == groupID {
			return 0, errorf(KindInvalidValue, "members", "a group cannot be a member of itself")
		}
	}
	list := s.d.listArg(ids)
	if err := s.lockMemberGroups(ctx, tx, list); err != nil {
		return 0, err
	}
	found := make(map[string]bool, len(ids))
	rows, err := tx.QueryContext(ctx, s.q("SELECT id FROM users WHERE "+s.d.inList("id")+
		" UNION ALL SELECT id FROM groups WHERE "+s.d.inList("id")), list, list)
	if err != nil {
		return 0, fmt.Errorf("check members: %w", err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close()
			return 0, fmt.Errorf("check members: %w", err)
		}
		found[id] = true
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("check members: %w", err)
	}
	for _, id := range ids {
		if !found[id] {
			return 0, errorf(KindInvalidValue, "members", "member %q is neither a user nor a group of the agency", id)
		}
	}
	added, err := s.execCount(ctx, tx, `INSERT INTO group_members (group_seq, member_id, member_type)
		SELECT ?, id, 'User' FROM users WHERE `+s.d.inList("id")+` ON CONFLICT DO NOTHING`, seq, list)
	if err != nil {
		return 0, err
	}
	addedGroups, err := s.execCount(ctx, tx, `INSERT INTO group_members (group_seq, member_id, member_type)
		SELECT ?, id, 'Group' FROM groups WHERE `+s.d.inList("id")+` ON CONFLICT DO NOTHING`, seq, list)
	return added + addedGroups, err
}

// lockMemberGroups keeps the groups among the ids in list from being deleted until the
// transaction ends. A deletion cannot see an uncommitted membership, so without the lock a
// group deleted meanwhile on PostgreSQL would stay behind as a member. SQLite runs one write
// at a time.
func (s *sqlStore) lockMemberGroups(ctx context.Context, tx *conn, list any) error {
	if s.d.forKeyShare == "" {
		return nil
	}
	if err := s.lockGroupRows(ctx, tx, "id", list, s.d.forKeyShare); err != nil {
		return fmt.Errorf("lock member groups: %w", err)
	}
	return nil
}

// lockGroupRows takes lock (a FOR ... clause) on the groups whose col is in list, in creation
// order, so that transactions locking several groups never wait for each other in a cycle.
func (s *sqlStore) lockGroupRows(ctx context.Context, tx *conn, col string, list any, lock string) error {
	rows, err := tx.QueryContext(ctx, "SELECT seq FROM groups WHERE "+s.d.inList(col)+" ORDER BY seq"+lock, list)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
	}
	return rows.Err()
}

// DeleteGroup implements Store.
func (s *sqlStore) DeleteGroup(ctx context.Context, id string, opts ...WriteOption) error {
	o := collectWriteOptions(opts)
	return s.inTx(ctx, func(tx *conn) error {
		seq, g, err := s.loadGroup(ctx, tx, id, s.d.forUpdate)
		if err != nil {
			return err
		}
		if err := o.check("group", id, g.Meta.Version); err != nil {
			return err
		}
		if why := s.rules.protectedGroup(g.DisplayName); why != "" {
			return errorf(KindConflict, "", "group %q %s and cannot be deleted", g.DisplayName, why)
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM group_members WHERE group_seq = ? OR member_id = ?", seq, id)
		if err != nil {
			return fmt.Errorf("delete group members: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM groups WHERE seq = ?"), seq); err != nil {
			return fmt.Errorf("delete group: %w", err)
		}
		return nil
	})
}

// seedUserGroups creates the rules' user groups that do not exist yet. Several replicas may
// do it at once; the unique index on the name makes the losers' inserts no-ops.
func (s *sqlStore) seedUserGroups(ctx context.Context) error {
	for _, name := range s.rules.userGroups {
		if strings.TrimSpace(name) == "" {
			continue
		}
		now := formatTime(s.stamp())
		_, err := s.wr.ExecContext(ctx, s.q(`INSERT INTO groups
			(id, display_name, display_name_ci, created, last_modified, version)
			VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT DO NOTHING`),
			newID(), name, strings.ToLower(name), now, now)
		if err != nil {
			return fmt.Errorf("create user group %q: %w", name, err)
		}
	}
	return nil
}
