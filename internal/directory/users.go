package directory

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// userColumns are the indexed columns written from a user, in the order userValues gives.
var userColumns = []string{
	"external_id", "user_name", "user_name_ci", "display_name", "display_name_ci",
	"nick_name_ci", "title_ci", "user_type_ci", "preferred_language_ci", "locale_ci",
	"timezone_ci", "profile_url_ci", "formatted_name_ci", "family_name_ci", "given_name_ci",
	"middle_name_ci", "honorific_prefix_ci", "honorific_suffix_ci", "badge_id_ci",
	"rank_name_ci", "evidence_group_ci", "user_group_ci", "axon_role_ci", "primary_email_ci",
	"active", "last_modified", "doc",
}

var (
	// insertUserSQL gives a new user the next position, max(seq) + 1, not the next number of
	// PostgreSQL's identity sequence, which a failed create would use up. Creates take their
	// position one at a time (lockUserPositions; SQLite's single writer), so positions stay
	// 1..n after failed creates and pages keep seeking by position. %s is the dialect's
	// overridingIdentity.
	insertUserSQL = "INSERT INTO users (seq, " + strings.Join(userColumns, ", ") +
		", created, version, id)%s VALUES ((SELECT COALESCE(max(seq), 0) + 1 FROM users), " +
		strings.Repeat("?, ", len(userColumns)+2) + "?) RETURNING seq"
	updateUserSQL = "UPDATE users SET " + strings.Join(userColumns, " = ?, ") +
		" = ?, version = version + 1 WHERE seq = ?"
)

const selectUser = "SELECT u.seq, u.id, u.active, u.created, u.last_modified, u.version, u.doc FROM users u"

// userValues returns the values of userColumns for u.
func userValues(u *User, doc []byte) []any {
	x := &u.Extension
	return []any{
		nullable(u.ExternalID), u.UserName, strings.ToLower(u.UserName),
		nullable(u.DisplayName), lowerNullable(u.DisplayName),
		lowerNullable(u.NickName), lowerNullable(u.Title), lowerNullable(u.UserType),
		lowerNullable(u.PreferredLanguage), lowerNullable(u.Locale), lowerNullable(u.Timezone),
		lowerNullable(u.ProfileURL), lowerNullable(u.Name.Formatted), lowerNullable(u.Name.FamilyName),
		lowerNullable(u.Name.GivenName), lowerNullable(u.Name.MiddleName),
		lowerNullable(u.Name.HonorificPrefix), lowerNullable(u.Name.HonorificSuffix),
		lowerNullable(x.BadgeID), lowerNullable(x.RankName), lowerNullable(x.EvidenceGroupName),
		lowerNullable(x.UserGroupName), lowerNullable(x.AxonRole),
		lowerNullable(primaryEmail(u.Emails)),
		boolInt(u.Active), formatTime(u.Meta.LastModified), string(doc),
	}
}

// encodeUser is the stored JSON of a user: everything but what columns hold on their own.
func encodeUser(u *User) ([]byte, error) {
	c := *u
	c.ID = ""
	c.Active = false
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("encode user: %w", err)
	}
	// PostgreSQL text cannot hold U+0000, which JSON writes as \u0000; refuse it in both stores.
	if bytes.Contains(b, []byte(`\u0000`)) {
		return nil, errorf(KindInvalidValue, "", "attribute values cannot contain U+0000")
	}
	return b, nil
}

type rowScanner interface {
	Scan(dest ...any) error
}

// scanUser reads a row of selectUser; it returns the stored doc too, to detect no-op writes.
// extra receives the columns a query selects after selectUser's.
func scanUser(r rowScanner, extra ...any) (int64, *User, string, error) {
	var (
		seq                    int64
		u                      User
		active                 int64
		created, modified, doc string
	)
	dest := append([]any{&seq, &u.ID, &active, &created, &modified, &u.Meta.Version, &doc}, extra...)
	if err := r.Scan(dest...); err != nil {
		return 0, nil, "", err
	}
	id := u.ID
	if err := decodeUserDoc(doc, &u); err != nil {
		return 0, nil, "", fmt.Errorf("decode stored user %s: %w", id, err)
	}
	u.ID = id
	u.Active = active != 0
	var err error
	if u.Meta.Created, err = parseTime(created); err != nil {
		return 0, nil, "", err
	}
	if u.Meta.LastModified, err = parseTime(modified); err != nil {
		return 0, nil, "", err
	}
	return seq, &u, doc, nil
}

// CreateUser implements Store.
func (s *sqlStore) CreateUser(ctx context.Context, u User) (*User, error) {
	var out *User
	err := s.inTx(ctx, func(tx *conn) error {
		var err error
		out, err = s.createUserTx(ctx, tx, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// createUserTx is CreateUser inside a transaction.
func (s *sqlStore) createUserTx(ctx context.Context, tx *conn, u User) (*User, error) {
	if err := s.lockUserPositions(ctx, tx); err != nil {
		return nil, err
	}
	u.ID = newID()
	u.Groups = nil
	if err := s.rules.applyUserRules(&u, nil); err != nil {
		return nil, err
	}
	now := s.stamp()
	u.Meta = Meta{Created: now, LastModified: now, Version: 1}
	if err := s.lockUserGroups(ctx, tx, u.Extension.UserGroupName); err != nil {
		return nil, err
	}
	groupSeq, err := s.resolveUserGroup(ctx, tx, &u)
	if err != nil {
		return nil, err
	}
	doc, err := encodeUser(&u)
	if err != nil {
		return nil, err
	}
	args := append(userValues(&u, doc), formatTime(now), int64(1), u.ID)
	var seq int64
	if err := tx.QueryRowContext(ctx, s.q(s.insertUser), args...).Scan(&seq); err != nil {
		return nil, s.mapWriteError(fmt.Errorf("insert user: %w", err))
	}
	if err := s.writeEmails(ctx, tx, seq, u.Emails, false); err != nil {
		return nil, err
	}
	if groupSeq != 0 {
		if err := s.joinGroup(ctx, tx, groupSeq, u.ID); err != nil {
			return nil, err
		}
		if u.Groups, err = s.userGroups(ctx, tx, u.ID); err != nil {
			return nil, err
		}
	}
	return &u, nil
}

// lockUserPositions makes PostgreSQL's creates take their position (seq) and commit one at a
// time, so users become visible in creation order and pages by position neither repeat nor
// skip a user while others are created. Creates queued on the users counter's row until
// commit already; the lock is now taken before the seq rather than after the insert, which
// another create's wait (for a duplicate userName, say) could come between. SQLite runs one
// write at a time.
func (s *sqlStore) lockUserPositions(ctx context.Context, tx *conn) error {
	if s.d.forUpdate == "" {
		return nil
	}
	var n int64
	err := tx.QueryRowContext(ctx, "SELECT value FROM counters WHERE name = 'users'"+s.d.forUpdate).Scan(&n)
	if err != nil {
		return fmt.Errorf("lock user positions: %w", err)
	}
	return nil
}

// GetUser implements Store.
func (s *sqlStore) GetUser(ctx context.Context, id string) (*User, error) {
	if badID(id) {
		return nil, errorf(KindNotFound, "id", "user not found")
	}
	// One row by primary key: on SQLite too short to be worth watching for cancellation (see
	// uniqueLookup).
	if s.d.inProcess {
		ctx = context.WithoutCancel(ctx)
	}
	var groups string
	_, u, _, err := scanUser(s.rd.QueryRowContext(ctx, s.q(s.selectUserGroups+" WHERE u.id = ?"), id), &groups)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(KindNotFound, "id", "user %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read user %s: %w", id, err)
	}
	if u.Groups, err = decodeGroupRefs(groups); err != nil {
		return nil, fmt.Errorf("read user %s: %w", id, err)
	}
	return u, nil
}

// loadUser reads one user by id; forUpdate locks the row (PostgreSQL).
func (s *sqlStore) loadUser(ctx context.Context, db dbtx, id string, forUpdate bool) (int64, *User, string, error) {
	if badID(id) {
		return 0, nil, "", errorf(KindNotFound, "id", "user not found")
	}
	query := selectUser + " WHERE u.id = ?"
	if forUpdate {
		query += s.d.forUpdate
	}
	seq, u, doc, err := scanUser(db.QueryRowContext(ctx, s.q(query), id))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, "", errorf(KindNotFound, "id", "user %s not found", id)
	}
	if err != nil {
		return 0, nil, "", fmt.Errorf("read user %s: %w", id, err)
	}
	return seq, u, doc, nil
}

// ReplaceUser implements Store.
func (s *sqlStore) ReplaceUser(ctx context.Context, id string, u User, opts ...WriteOption) (*User, error) {
	return s.PatchUser(ctx, id, func(cur *User) error {
		*cur = u
		return nil
	}, opts...)
}

// DeactivateUser implements Store.
func (s *sqlStore) DeactivateUser(ctx context.Context, id string, opts ...WriteOption) (*User, error) {
	return s.PatchUser(ctx, id, func(cur *User) error {
		cur.Active = false
		return nil
	}, opts...)
}

// PatchUser implements Store.
func (s *sqlStore) PatchUser(
	ctx context.Context,
	id string,
	mutate func(*User) error,
	opts ...WriteOption,
) (*User, error) {
	o := collectWriteOptions(opts)
	var out *User
	err := s.inTx(ctx, func(tx *conn) error {
		seq, old, oldDoc, err := s.loadUser(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := o.check("user", id, old.Meta.Version); err != nil {
			return err
		}
		next := cloneUser(old)
		if err := mutate(next); err != nil {
			return err
		}
		next.ID, next.Meta, next.Groups = old.ID, old.Meta, nil
		if err := s.rules.applyUserRules(next, old); err != nil {
			return err
		}
		out, err = s.updateUser(ctx, tx, seq, old, oldDoc, next)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// updateUser writes next over old, unless nothing changed, and returns the stored user.
func (s *sqlStore) updateUser(
	ctx context.Context,
	tx *conn,
	seq int64,
	old *User,
	oldDoc string,
	next *User,
) (*User, error) {
	if !strings.EqualFold(old.Extension.UserGroupName, next.Extension.UserGroupName) {
		err := s.lockUserGroups(ctx, tx, old.Extension.UserGroupName, next.Extension.UserGroupName)
		if err != nil {
			return nil, err
		}
	}
	// A userGroupName the write leaves as it was is not looked up again: the group may have
	// been deleted since, and its members must stay writable (deactivation included).
	var groupSeq int64
	if stored := old.Extension.UserGroupName; stored != "" &&
		strings.EqualFold(stored, next.Extension.UserGroupName) {
		next.Extension.UserGroupName = stored
	} else {
		var err error
		if groupSeq, err = s.resolveUserGroup(ctx, tx, next); err != nil {
			return nil, err
		}
	}
	doc, err := encodeUser(next)
	if err != nil {
		return nil, err
	}
	if string(doc) != oldDoc || next.Active != old.Active {
		next.Meta.LastModified = s.stamp()
		next.Meta.Version = old.Meta.Version + 1
		args := append(userValues(next, doc), seq)
		if _, err := tx.ExecContext(ctx, s.q(updateUserSQL), args...); err != nil {
			return nil, s.mapWriteError(fmt.Errorf("update user: %w", err))
		}
		if !sameEmails(old.Emails, next.Emails) {
			if err := s.writeEmails(ctx, tx, seq, next.Emails, true); err != nil {
				return nil, err
			}
		}
		if err := s.moveUserGroup(ctx, tx, old, next, groupSeq); err != nil {
			return nil, err
		}
	}
	next.Groups, err = s.userGroups(ctx, tx, next.ID)
	if err != nil {
		return nil, err
	}
	return next, nil
}

// moveUserGroup follows a change of userGroupName: out of the old group, into the new one.
func (s *sqlStore) moveUserGroup(ctx context.Context, tx *conn, old, next *User, newSeq int64) error {
	if strings.EqualFold(old.Extension.UserGroupName, next.Extension.UserGroupName) {
		return nil
	}
	if old.Extension.UserGroupName != "" {
		var oldSeq int64
		err := tx.QueryRowContext(ctx, s.q("SELECT seq FROM groups WHERE display_name_ci = ?"),
			strings.ToLower(old.Extension.UserGroupName)).Scan(&oldSeq)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("find user group: %w", err)
		default:
			if err := s.leaveGroup(ctx, tx, oldSeq, next.ID); err != nil {
				return err
			}
		}
	}
	if newSeq != 0 {
		return s.joinGroup(ctx, tx, newSeq, next.ID)
	}
	return nil
}

// lockUserGroups locks the rows of the groups a user joins or leaves, in creation order,
// before any membership row is written. Group writes lock the group's row first too, so the
// two never wait for each other in opposite orders (PostgreSQL answered one with a deadlock
// error), and neither do two users moving between the same groups in opposite directions.
// It also keeps a group from being deleted between its lookup and the user joining it.
// SQLite runs one write at a time and needs no lock. Names holding U+0000 are skipped:
// resolveUserGroup refuses them.
func (s *sqlStore) lockUserGroups(ctx context.Context, tx *conn, names ...string) error {
	if s.d.forUpdate == "" {
		return nil
	}
	lowered := make([]string, 0, len(names))
	for _, name := range names {
		if name != "" && !strings.ContainsRune(name, 0) {
			lowered = append(lowered, strings.ToLower(name))
		}
	}
	if len(lowered) == 0 {
		return nil
	}
	if err := s.lockGroupRows(ctx, tx, "display_name_ci", s.d.listArg(lowered), s.d.forUpdate); err != nil {
		return fmt.Errorf("lock user groups: %w", err)
	}
	return nil
}

// resolveUserGroup checks that userGroupName names a group, gives it the group's spelling and
// returns the group's seq (0 when the user names none).
func (s *sqlStore) resolveUserGroup(ctx context.Context, tx *conn, u *User) (int64, error) {
	name := u.Extension.UserGroupName
	if name == "" {
		return 0, nil
	}
	if strings.ContainsRune(name, 0) {
		return 0, errorf(KindInvalidValue, s.rules.extField("userGroupName"), "user group names cannot contain U+0000")
	}
	var seq int64
	var display string
	err := tx.QueryRowContext(ctx, s.q("SELECT seq, display_name FROM groups WHERE display_name_ci = ?"),
		strings.ToLower(name)).Scan(&seq, &display)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errorf(KindInvalidValue, s.rules.extField("userGroupName"),
			"user group %q does not exist in the agency", name)
	}
	if err != nil {
		return 0, fmt.Errorf("find user group: %w", err)
	}
	u.Extension.UserGroupName = display
	return seq, nil
}

// joinGroup adds a user to a group, if not there yet, and bumps the group's version.
func (s *sqlStore) joinGroup(ctx context.Context, tx *conn, groupSeq int64, userID string) error {
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO group_members (group_seq, member_id, member_type)
		VALUES (?, ?, ?) ON CONFLICT DO NOTHING`), groupSeq, userID, string(MemberUser))
	if err != nil {
		return fmt.Errorf("add user to group: %w", err)
	}
	return s.touchGroupIf(ctx, tx, groupSeq, res)
}

// leaveGroup removes a user from a group and bumps the group's version.
func (s *sqlStore) leaveGroup(ctx context.Context, tx *conn, groupSeq int64, userID string) error {
	res, err := tx.ExecContext(ctx, s.q("DELETE FROM group_members WHERE group_seq = ? AND member_id = ?"),
		groupSeq, userID)
	if err != nil {
		return fmt.Errorf("remove user from group: %w", err)
	}
	return s.touchGroupIf(ctx, tx, groupSeq, res)
}

// touchGroupIf bumps a group's version and lastModified when res changed rows.
func (s *sqlStore) touchGroupIf(ctx context.Context, tx *conn, groupSeq int64, res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return nil
	}
	return s.touchGroup(ctx, tx, groupSeq)
}

func (s *sqlStore) touchGroup(ctx context.Context, tx *conn, groupSeq int64) error {
	_, err := tx.ExecContext(ctx, s.q("UPDATE groups SET version = version + 1, last_modified = ? WHERE seq = ?"),
		formatTime(s.stamp()), groupSeq)
	if err != nil {
		return fmt.Errorf("touch group: %w", err)
	}
	return nil
}

// writeEmails stores a user's emails in the table filters use.
func (s *sqlStore) writeEmails(ctx context.Context, tx *conn, seq int64, emails []Email, replace bool) error {
	if replace {
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM user_emails WHERE user_seq = ?"), seq); err != nil {
			return fmt.Errorf("delete emails: %w", err)
		}
	}
	for i, e := range emails {
		_, err := tx.ExecContext(ctx, `INSERT INTO user_emails
			(user_seq, ord, value_ci, type_ci, display_ci, is_primary) VALUES (?, ?, ?, ?, ?, ?)`,
			seq, i, strings.ToLower(e.Value), lowerNullable(e.Type), lowerNullable(e.Display), boolInt(e.Primary))
		if err != nil {
			return fmt.Errorf("insert email: %w", err)
		}
	}
	return nil
}

func sameEmails(a, b []Email) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// userGroups reads the groups a user is a member of, in userGroupRefs's order.
func (s *sqlStore) userGroups(ctx context.Context, db dbtx, userID string) ([]GroupRef, error) {
	rows, err := db.QueryContext(ctx, s.q(`SELECT g.seq, g.id, g.display_name FROM group_members m
		JOIN groups g ON g.seq = m.group_seq WHERE m.member_id = ?`), userID)
	if err != nil {
		return nil, fmt.Errorf("read user's groups: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var refs []groupRef
	for rows.Next() {
		var g groupRef
		if err := rows.Scan(&g.seq, &g.ID, &g.DisplayName); err != nil {
			return nil, fmt.Errorf("read user's groups: %w", err)
		}
		refs = append(refs, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read user's groups: %w", err)
	}
	return userGroupRefs(refs), nil
}

// cloneUser copies a user deeply enough that mutating the copy leaves the original intact.
func cloneUser(u *User) *User {
	c := *u
	c.Emails = append([]Email(nil), u.Emails...)
	c.PhoneNumbers = append([]MultiValue(nil), u.PhoneNumbers...)
	c.IMs = append([]MultiValue(nil), u.IMs...)
	c.Photos = append([]MultiValue(nil), u.Photos...)
	c.Addresses = append([]Address(nil), u.Addresses...)
	c.Roles = append([]MultiValue(nil), u.Roles...)
	c.Groups = append([]GroupRef(nil), u.Groups...)
	return &c
}
