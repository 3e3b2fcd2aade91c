package directory

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// migrationLock is a transaction-level advisory lock key that serialises migrations of
// replicas starting together ("scimdir" in ASCII).
const migrationLock = "SELECT pg_advisory_xact_lock(7234224116664690)"

// idleTransactionTimeout ends a session whose transaction waits this long for its next
// statement. The store's transactions send their statements back to back, so only a replica
// that stopped or lost its network mid-transaction gets there; ending it releases the locks
// every other replica's writes wait for (all creates share one). It is below the request
// timeout, so writes queued behind such a transaction can still succeed.
const idleTransactionTimeout = 15 * time.Second

// postgresConnectTimeout bounds opening one connection (dial, TLS, authentication) unless the
// database URL sets connect_timeout: a server that accepts connections but never answers
// (frozen, or its packets dropped) fails the attempt, which the SCIM server reports and
// retries, instead of holding it without end.
const postgresConnectTimeout = 5 * time.Second

func openPostgres(ctx context.Context, databaseURL string, rules Rules, o options) (Store, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	const idleParam = "idle_in_transaction_session_timeout"
	if _, set := cfg.RuntimeParams[idleParam]; !set {
		cfg.RuntimeParams[idleParam] = strconv.FormatInt(idleTransactionTimeout.Milliseconds(), 10)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = postgresConnectTimeout
	}
	db := stdlib.OpenDB(*cfg)
	conns := o.maxConns
	if conns <= 0 {
		conns = 8
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	s := &sqlStore{
		d:      postgresDialect(),
		writer: db,
		reader: db,
		rules:  compileRules(rules),
		now:    o.now,
		log:    o.logger,
		// One write transaction at a time: see inTx.
		writeSlot: make(chan struct{}, 1),
	}
	s.init()
	if err := s.start(ctx, "postgres", migrationLock); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func postgresDialect() dialect {
	return dialect{
		name:               "postgres",
		dollar:             true,
		forUpdate:          " FOR UPDATE",
		overridingIdentity: " OVERRIDING SYSTEM VALUE",
		forNoKeyUpdate:     " FOR NO KEY UPDATE",
		forKeyShare:        " FOR KEY SHARE",
		contains:           func(col string) string { return "strpos(" + col + ", ?) > 0" },
		endsWith: func(col string, n int) string {
			return "right(" + col + ", " + strconv.Itoa(n) + ")"
		},
		inList:  func(col string) string { return col + " = ANY(?::text[])" },
		listArg: func(ids []string) any { return ids },
		uniqueIndex: func(err error) (string, bool) {
			var e *pgconn.PgError
			if errors.As(err, &e) && e.Code == "23505" {
				return e.ConstraintName, true
			}
			return "", false
		},
		rolledBack: func(err error) bool {
			var e *pgconn.PgError
			// deadlock_detected, serialization_failure
			return errors.As(err, &e) && (e.Code == "40P01" || e.Code == "40001")
		},
	}
}
