package directory

import (
	"context"
	"errors"
)

// The backends are being written; this file goes away with them.
func openSQLite(context.Context, string, Rules, options) (Store, error) {
	return nil, errors.New("open directory: SQLite backend not built yet")
}

func openPostgres(context.Context, string, Rules, options) (Store, error) {
	return nil, errors.New("open directory: PostgreSQL backend not built yet")
}
