package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the pure-Go driver the directory uses
)

// rawInserter is the raw-insert ceiling: single-row INSERTs, each its own transaction, into a
// users-like table with a unique index, through one writer connection with the directory's
// durability settings (WAL, synchronous=FULL, busy_timeout, BEGIN IMMEDIATE).
type rawInserter struct {
	db   *sql.DB
	next atomic.Int64
}

func openRawInserter(ctx context.Context, dir string) (*rawInserter, error) {
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(5000)")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "synchronous(FULL)")
	v.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "raw.db")+"?"+v.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE users (id TEXT PRIMARY KEY, user_name TEXT NOT NULL,
		user_name_ci TEXT NOT NULL UNIQUE, external_id TEXT, active INTEGER NOT NULL,
		data TEXT NOT NULL)`); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("create table: %w", err)
	}
	return &rawInserter{db: db}, nil
}

func (ri *rawInserter) close() { _ = ri.db.Close() }

// run inserts with workers goroutines for d and returns how many rows went in and how long it took.
func (ri *rawInserter) run(ctx context.Context, workers int, d time.Duration) (int, time.Duration, error) {
	var n atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				i := ri.next.Add(1)
				name := fmt.Sprintf("raw%d@agency.example", i)
				_, err := ri.db.ExecContext(ctx, `INSERT INTO users VALUES (?, ?, ?, ?, 1, ?)`,
					fmt.Sprintf("id-%d", i), name, name, fmt.Sprintf("00u%d", i), `{"badgeId":"1"}`)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return 0, 0, fmt.Errorf("raw insert: %w", err)
	}
	return int(n.Load()), time.Since(start), nil
}
