package directory

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds the prepared statements kept per pool. Filters of the same shape
// share their SQL (values are bound), so a few hundred cover every query Okta and Entra send;
// past the bound, statements are prepared for one use.
const maxCachedStatements = 256

// stmtCache keeps prepared statements by SQL text. SQLite spends more time parsing the SQL of
// a lookup than running it, so reusing statements halves a lookup's cost.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// get returns a statement prepared on db, or nil when the cache is full or preparing failed
// (the caller then runs the query unprepared, which reports the error).
func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st
	}
	if len(c.m) >= maxCachedStatements {
		return nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if c.m == nil {
		c.m = make(map[string]*sql.Stmt)
	}
	c.m[query] = st
	return st
}

// conn runs queries through cached statements, on a pool or on a transaction of that pool.
// SQL is written with `?` placeholders and rewritten for the dialect here.
type conn struct {
	s     *sqlStore
	db    *sql.DB
	tx    *sql.Tx
	stmts *stmtCache
}

// stmt returns the cached statement for query, bound to the transaction if there is one, or
// nil. A statement is first prepared on an idle connection of the pool (SQLite's writer pool
// keeps a second connection for that, while a mutex lets one transaction run at a time), then
// once on each connection that runs it. PostgreSQL's driver (pgx) caches prepared statements
// per connection itself, and its transactions may hold every pooled connection, so there the
// cache is not used.
func (c *conn) stmt(ctx context.Context, query string) *sql.Stmt {
	if !c.s.d.cacheStatements {
		return nil
	}
	st := c.stmts.get(ctx, c.db, query)
	if st == nil || c.tx == nil {
		return st
	}
	return c.tx.StmtContext(ctx, st)
}

// QueryContext implements dbtx.
func (c *conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = c.s.q(query)
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	if c.tx != nil {
		return c.tx.QueryContext(ctx, query, args...)
	}
	return c.db.QueryContext(ctx, query, args...)
}

// QueryRowContext implements dbtx.
func (c *conn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	query = c.s.q(query)
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	if c.tx != nil {
		return c.tx.QueryRowContext(ctx, query, args...)
	}
	return c.db.QueryRowContext(ctx, query, args...)
}

// ExecContext implements dbtx.
func (c *conn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query = c.s.q(query)
	if st := c.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	if c.tx != nil {
		return c.tx.ExecContext(ctx, query, args...)
	}
	return c.db.ExecContext(ctx, query, args...)
}

// execScript runs SQL holding several statements (a migration), unprepared.
func (c *conn) execScript(ctx context.Context, script string) error {
	var err error
	if c.tx != nil {
		_, err = c.tx.ExecContext(ctx, script)
	} else {
		_, err = c.db.ExecContext(ctx, script)
	}
	return err
}
