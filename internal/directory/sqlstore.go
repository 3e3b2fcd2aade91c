package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// dialect holds what differs between SQLite and PostgreSQL; the SQL is otherwise shared.
type dialect struct {
	name string
	// dollar rewrites `?` placeholders to `$1`, `$2`, ... (PostgreSQL).
	dollar bool
	// forUpdate is appended to the SELECT that reads a row about to be written.
	forUpdate string
	// overridingIdentity lets an INSERT set an identity column (PostgreSQL).
	overridingIdentity string
	// forNoKeyUpdate locks a row about to be written without conflicting with forKeyShare:
	// a group being patched can still be added as a member by another transaction.
	forNoKeyUpdate string
	// forKeyShare is appended to a SELECT that reads rows which must not be deleted before
	// the transaction ends (groups being added as members).
	forKeyShare string
	// contains renders "col contains ?" and endsWith "the last n characters of col".
	contains func(col string) string
	endsWith func(col string, n int) string
	// inList renders "col is in the list bound to ?" and listArg builds that list's argument.
	inList  func(col string) string
	listArg func(ids []string) any
	// uniqueIndex returns the name of the unique index or column an error violated.
	uniqueIndex func(err error) (string, bool)
	// rolledBack says whether the database ended a transaction because of a concurrent one
	// (see ErrConcurrentWrite); nil when it never does (SQLite runs one writer).
	rolledBack func(err error) bool
	// oneWriter runs one write transaction at a time (SQLite).
	oneWriter bool
	// cacheStatements keeps prepared statements in a stmtCache (SQLite).
	cacheStatements bool
	// inProcess: the database runs in this process (SQLite), so a short read cannot wait on a
	// network or another server and may skip watching for cancellation (see uniqueLookup).
	inProcess bool
}

// dbtx is what *sql.DB and *sql.Tx share.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// sqlStore implements Store on database/sql for both backends.
type sqlStore struct {
	d      dialect
	writer *sql.DB
	reader *sql.DB
	rules  compiledRules
	now    func() time.Time
	log    *slog.Logger

	// rd and wr run statements on the pools through the prepared-statement caches.
	rd, wr                   *conn
	readerStmts, writerStmts stmtCache

	writeMu sync.Mutex // held by write transactions when d.oneWriter and batch is nil
	// writeSlot, when set (PostgreSQL), lets one write transaction of this process at a time
	// reach the database; see inTx.
	writeSlot chan struct{}
	// batch runs SQLite's writes with group commit once the store has started.
	batch     *batcher
	rewritten sync.Map // SQL with ? -> SQL with $n
	// selectUserGroups is selectUser with the user's groups as one more column.
	selectUserGroups string
	// insertUser is insertUserSQL for the dialect.
	insertUser string
	// noSeek turns off seeking to a page by seq (benchmarks compare with OFFSET).
	noSeek bool
}

// init sets up what every store needs besides its pools.
func (s *sqlStore) init() {
	s.rd = &conn{s: s, db: s.reader, stmts: &s.readerStmts}
	s.wr = &conn{s: s, db: s.writer, stmts: &s.writerStmts}
	if s.reader == s.writer {
		s.rd.stmts = &s.writerStmts
	}
	s.selectUserGroups = strings.Replace(selectUser, " FROM users u", ", "+userGroupsColumn(&s.d)+" FROM users u", 1)
	s.insertUser = fmt.Sprintf(insertUserSQL, s.d.overridingIdentity)
}

// q returns query in the dialect's placeholder style.
func (s *sqlStore) q(query string) string {
	if !s.d.dollar {
		return query
	}
	if v, ok := s.rewritten.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	out := b.String()
	s.rewritten.Store(query, out)
	return out
}

// inTx runs fn in a write transaction and commits it. SQLite's writes go through the
// batcher (group commit); PostgreSQL runs each in its own transaction, one at a time per
// process. Every create and every change of a user's active flag locks a shared counter row
// until commit, so they run one at a time across replicas anyway; running them one at a time
// here too means that a replica that freezes mid-write holds one transaction, which
// PostgreSQL ends after idleTransactionTimeout. Without it, each transaction the frozen
// replica had queued for that row would get it in turn and hold it as long again.
func (s *sqlStore) inTx(ctx context.Context, fn func(tx *conn) error) error {
	if s.batch != nil {
		return s.batch.run(ctx, fn)
	}
	if s.d.oneWriter {
		s.writeMu.Lock()
		defer s.writeMu.Unlock()
	}
	if s.writeSlot != nil {
		select {
		case s.writeSlot <- struct{}{}:
			defer func() { <-s.writeSlot }()
		case <-ctx.Done():
			return fmt.Errorf("wait for the replica's write slot: %w", ctx.Err())
		}
	}
	return s.runTx(ctx, fn)
}

// runTx runs fn in a transaction of its own and commits it.
func (s *sqlStore) runTx(ctx context.Context, fn func(tx *conn) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(&conn{s: s, db: s.writer, tx: tx, stmts: &s.writerStmts}); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(s.concurrentWrite(err), fmt.Errorf("roll back: %w", rbErr))
		}
		return s.concurrentWrite(err)
	}
	if err := tx.Commit(); err != nil {
		return s.concurrentWrite(s.mapWriteError(fmt.Errorf("commit: %w", err)))
	}
	return nil
}

// concurrentWrite marks err with ErrConcurrentWrite when the database ended the transaction
// because of a concurrent one.
func (s *sqlStore) concurrentWrite(err error) error {
	if s.d.rolledBack != nil && s.d.rolledBack(err) {
		return fmt.Errorf("%w: %w", ErrConcurrentWrite, err)
	}
	return err
}

// mapWriteError turns a unique-index violation into a KindUniqueness error naming the field.
func (s *sqlStore) mapWriteError(err error) error {
	if err == nil {
		return nil
	}
	idx, ok := s.d.uniqueIndex(err)
	if !ok {
		return err
	}
	switch {
	case strings.Contains(idx, "user_name_ci"):
		return errorf(KindUniqueness, "userName", "another user has this userName")
	case strings.Contains(idx, "primary_email_ci"):
		return errorf(KindUniqueness, "emails", "another user has this primary email")
	case strings.Contains(idx, "users_external_id"), idx == "users.external_id":
		return errorf(KindUniqueness, "externalId", "another user has this externalId")
	case strings.Contains(idx, "groups_display_name_ci"), idx == "groups.display_name_ci":
		return errorf(KindUniqueness, "displayName", "another group has this displayName")
	case strings.Contains(idx, "groups_external_id"), idx == "groups.external_id":
		return errorf(KindUniqueness, "externalId", "another group has this externalId")
	}
	return err
}

// Ping implements Store.
func (s *sqlStore) Ping(ctx context.Context) error {
	if err := s.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", s.d.name, err)
	}
	// Read a table, not a constant, so the answer depends on the database file or server.
	var n int64
	if err := s.reader.QueryRowContext(ctx, "SELECT value FROM counters WHERE name = 'users'").Scan(&n); err != nil {
		return fmt.Errorf("ping %s: %w", s.d.name, err)
	}
	return nil
}

// Close implements Store.
func (s *sqlStore) Close() error {
	var errs []error
	if s.batch != nil {
		s.batch.close()
	}
	if s.reader != s.writer {
		errs = append(errs, s.reader.Close())
	}
	errs = append(errs, s.writer.Close())
	return errors.Join(errs...)
}

// Counts implements Store.
func (s *sqlStore) Counts(ctx context.Context) (Counts, error) {
	rows, err := s.rd.QueryContext(ctx, "SELECT name, value FROM counters")
	if err != nil {
		return Counts{}, fmt.Errorf("read counters: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var c Counts
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			return Counts{}, fmt.Errorf("read counters: %w", err)
		}
		switch name {
		case "users":
			c.Users = v
		case "active_users":
			c.ActiveUsers = v
		case "groups":
			c.Groups = v
		}
	}
	if err := rows.Err(); err != nil {
		return Counts{}, fmt.Errorf("read counters: %w", err)
	}
	return c, nil
}

// counter reads one counter.
func (s *sqlStore) counter(ctx context.Context, name string) (int, error) {
	var v int64
	if err := s.rd.QueryRowContext(ctx, s.q("SELECT value FROM counters WHERE name = ?"), name).Scan(&v); err != nil {
		return 0, fmt.Errorf("read counter %s: %w", name, err)
	}
	return int(v), nil
}

// timeFormat stores times as fixed-width UTC text, so text order is time order in both
// databases and filters compare them as strings.
const timeFormat = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// parseTime reads a time written by formatTime. Every read of a user reads two, so the fixed
// form is read digit by digit; anything else goes to time.Parse.
func parseTime(s string) (time.Time, error) {
	if t, ok := readFixedTime(s); ok {
		return t, nil
	}
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

// readFixedTime reads s in exactly timeFormat's layout (a digit wherever the layout has one,
// the layout's other characters elsewhere), with the values time.Parse accepts.
func readFixedTime(s string) (time.Time, bool) {
	if len(s) != len(timeFormat) {
		return time.Time{}, false
	}
	for i := range len(s) {
		digit := timeFormat[i] >= '0' && timeFormat[i] <= '9'
		if digit != (s[i] >= '0' && s[i] <= '9') || !digit && s[i] != timeFormat[i] {
			return time.Time{}, false
		}
	}
	num := func(from, to int) int {
		n := 0
		for _, c := range []byte(s[from:to]) {
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, mo, d, h, mi, sec, us := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19), num(20, 26)
	if mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, us*1000, time.UTC)
	// A day past the month's end rolls over; time.Parse refuses it.
	return t, t.Day() == d
}

func (s *sqlStore) stamp() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// nullable maps "" to NULL.
func nullable(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// lowerNullable maps "" to NULL and lowers the rest.
func lowerNullable(v string) any {
	if v == "" {
		return nil
	}
	return strings.ToLower(v)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
