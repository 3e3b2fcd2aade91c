package directory

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Option configures Open.
type Option func(*options)

type options struct {
	logger   *slog.Logger
	now      func() time.Time
	maxConns int
}

// WithLogger sets the logger for migrations and background work; slog.Default when unset.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithClock sets the clock that stamps meta.created and meta.lastModified (tests).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithMaxConns bounds the database connections: the SQLite read pool, or the PostgreSQL
// pool. The default is 4 for SQLite (plus its one writer) and 8 for PostgreSQL.
func WithMaxConns(n int) Option {
	return func(o *options) { o.maxConns = n }
}

// Open opens (creating when needed) the directory at databaseURL, applies pending schema
// migrations, creates the rules' user groups when missing, and returns the store.
// databaseURL is sqlite:///absolute/path.db, sqlite:relative/path.db, or a postgres:// or
// postgresql:// URL as pgx reads it.
func Open(ctx context.Context, databaseURL string, rules Rules, opts ...Option) (Store, error) {
	o := options{logger: slog.Default(), now: time.Now}
	for _, fn := range opts {
		fn(&o)
	}
	if err := rules.Validate(); err != nil {
		return nil, fmt.Errorf("open directory: %w", err)
	}
	switch {
	case strings.HasPrefix(databaseURL, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite:"), "//")
		if path == "" {
			return nil, fmt.Errorf("open directory: sqlite URL names no file")
		}
		return openSQLite(ctx, path, rules, o)
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		return openPostgres(ctx, databaseURL, rules, o)
	default:
		return nil, fmt.Errorf("open directory: unsupported database URL scheme (want sqlite: or postgres://)")
	}
}
