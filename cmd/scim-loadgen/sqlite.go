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

// rawInsertRate is the raw-insert ceiling: single-row INSERTs, each its own transaction, into
// a users-like table with a unique index, through one writer connection with the directory's
// durability settings (WAL, synchronous=FULL, busy_timeout, BEGIN IMMEDIATE).
func rawInsertRate(ctx context.Context, dir string, workers int, d time.Duration) (float64, int, error) {
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(5000)")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "synchronous(FULL)")
	v.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "raw.db")+"?"+v.Encode())
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = db.Close() }()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE users (id TEXT PRIMARY KEY, user_name TEXT NOT NULL,
		user_name_ci TEXT NOT NULL UNIQUE, external_id TEXT, active INTEGER NOT NULL,
		data TEXT NOT NULL)`); err != nil {
		return 0, 0, fmt.Errorf("create table: %w", err)
	}
	var n atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				name := fmt.Sprintf("raw%d-%d@agency.example", w, i)
				_, err := db.ExecContext(ctx, `INSERT INTO users VALUES (?, ?, ?, ?, 1, ?)`,
					fmt.Sprintf("id-%d-%d", w, i), name, name, fmt.Sprintf("00u%d-%d", w, i), `{"badgeId":"1"}`)
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
	return float64(n.Load()) / time.Since(start).Seconds(), int(n.Load()), nil
}
