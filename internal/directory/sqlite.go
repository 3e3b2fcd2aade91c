package directory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLiteDSN is the modernc.org/sqlite data source name the store's writer uses for the file
// at path: WAL, a 5 s busy timeout, foreign keys, immediate transactions and
// synchronous=FULL, so a write is on disk (not only in the OS cache) before it is
// acknowledged and survives a kill -9 or a power cut. Exported so benchmarks can measure raw
// inserts with the same durability.
func SQLiteDSN(path string) string {
	return sqliteDSN(path, false)
}

func sqliteDSN(path string, readOnly bool) string {
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(5000)")
	v.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		v.Add("_pragma", "query_only(1)")
	} else {
		v.Add("_pragma", "journal_mode(WAL)")
		v.Add("_pragma", "synchronous(FULL)")
		v.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + v.Encode()
}

func openSQLite(ctx context.Context, path string, rules Rules, o options) (Store, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open directory: sqlite path must not hold '?' or '#'")
	}
	writer, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	// One transaction at a time (sqlStore.batch); the second connection only prepares
	// statements while the first is in a transaction.
	writer.SetMaxOpenConns(2)
	writer.SetMaxIdleConns(2)
	writer.SetConnMaxLifetime(0)
	// The first connection switches the file to WAL before readers open it.
	if err := writer.PingContext(ctx); err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	reader, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	conns := o.maxConns
	if conns <= 0 {
		conns = 4
	}
	reader.SetMaxOpenConns(conns)
	reader.SetMaxIdleConns(conns)
	reader.SetConnMaxLifetime(0)
	s := &sqlStore{
		d:      sqliteDialect(),
		writer: writer,
		reader: reader,
		rules:  compileRules(rules),
		now:    o.now,
		log:    o.logger,
	}
	s.init()
	if err := s.start(ctx, "sqlite", ""); err != nil {
		_ = s.Close()
		return nil, err
	}
	// Migrations ran alone; from here on concurrent writes share transactions.
	s.batch = newBatcher(s)
	return s, nil
}

// start migrates the schema and creates the user groups.
func (s *sqlStore) start(ctx context.Context, dir, lock string) error {
	if err := s.migrate(ctx, dir, lock); err != nil {
		return fmt.Errorf("open directory: %w", err)
	}
	if err := s.seedUserGroups(ctx); err != nil {
		return fmt.Errorf("open directory: %w", err)
	}
	return nil
}

func sqliteDialect() dialect {
	return dialect{
		name:      "sqlite",
		forUpdate: "",
		contains:  func(col string) string { return "instr(" + col + ", ?) > 0" },
		endsWith: func(col string, n int) string {
			return "substr(" + col + ", -" + strconv.Itoa(n) + ")"
		},
		inList: func(col string) string { return col + " IN (SELECT value FROM json_each(?))" },
		listArg: func(ids []string) any {
			b, err := json.Marshal(ids)
			if err != nil {
				// A []string always marshals.
				return "[]"
			}
			return string(b)
		},
		uniqueIndex:     sqliteUniqueIndex,
		oneWriter:       true,
		cacheStatements: true,
		inProcess:       true,
	}
}

// sqliteUniqueIndex reads "UNIQUE constraint failed: users.user_name_ci" into its column.
func sqliteUniqueIndex(err error) (string, bool) {
	var e *sqlite.Error
	if !errors.As(err, &e) || e.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return "", false
	}
	msg := e.Error()
	i := strings.LastIndex(msg, "failed: ")
	if i < 0 {
		return "", true
	}
	col := msg[i+len("failed: "):]
	if j := strings.IndexAny(col, ", ("); j >= 0 {
		col = col[:j]
	}
	return col, true
}
