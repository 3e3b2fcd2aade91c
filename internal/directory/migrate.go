package directory

import (
	"cmp"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationFiles embed.FS

// migration is one numbered schema change, named NNNN_what.sql.
type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(dir string) ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations/"+dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(migrationFiles, "migrations/"+dir+"/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	return out, nil
}

// MigrationError is a schema migration that the database refused or could not finish: Open
// returns it (wrapped) so that a caller can tell a bad schema from a database out of reach.
type MigrationError struct {
	// Name is the migration's file name, such as 0002_groups.sql.
	Name string
	Err  error
}

// Error implements error.
func (e *MigrationError) Error() string {
	return fmt.Sprintf("migration %s: %v", e.Name, e.Err)
}

// Unwrap returns the database's error.
func (e *MigrationError) Unwrap() error {
	return e.Err
}

// migrate applies the migrations newer than the database's version, each in a transaction
// with its version record. lock, when set, runs first in each transaction so that several
// replicas starting at once apply each migration once.
func (s *sqlStore) migrate(ctx context.Context, dir, lock string) error {
	ms, err := loadMigrations(dir)
	if err != nil {
		return err
	}
	// Under the lock too: PostgreSQL's IF NOT EXISTS does not stop two replicas from both
	// creating the table, and the second one fails.
	if err := s.inTx(ctx, func(tx *conn) error { return createMigrationsTable(ctx, tx, lock) }); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := s.inTx(ctx, func(tx *conn) error { return s.applyMigration(ctx, tx, m, lock) }); err != nil {
			return &MigrationError{Name: m.name, Err: err}
		}
	}
	return nil
}

func createMigrationsTable(ctx context.Context, tx *conn, lock string) error {
	if lock != "" {
		if err := tx.execScript(ctx, lock); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
	}
	return tx.execScript(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`)
}

func (s *sqlStore) applyMigration(ctx context.Context, tx *conn, m migration, lock string) error {
	if lock != "" {
		if err := tx.execScript(ctx, lock); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
	}
	var n int
	err := tx.QueryRowContext(ctx, s.q("SELECT count(*) FROM schema_migrations WHERE version = ?"), m.version).Scan(&n)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if n > 0 {
		return nil
	}
	if err := tx.execScript(ctx, m.sql); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	_, err = tx.ExecContext(ctx, s.q("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
		m.version, m.name, formatTime(s.stamp()))
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	s.log.Info("Applied schema migration", "store", s.d.name, "migration", m.name)
	return nil
}
