package directory

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unreachable reports whether err says that the database could not be reached or dropped the
// connection: PostgreSQL stopped, restarting or out of connections, or the network between
// them cut. Such a request may succeed when it is sent again once the database is back. A
// write that failed this way at its commit may or may not have been stored. A context that
// ended (a request past its deadline) is not this, even though its error looks like a network
// timeout, unless it ended an attempt to connect.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	var connect *pgconn.ConnectError
	if errors.As(err, &connect) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	lostConnection := []error{driver.ErrBadConn, sql.ErrConnDone, pgconn.ErrConnClosed, io.ErrUnexpectedEOF, io.EOF}
	for _, lost := range lostConnection {
		if errors.Is(err, lost) {
			return true
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unreachableCode(pgErr.Code)
	}
	return false
}

// unreachableCode says whether a PostgreSQL error code means that the server went away, ended
// the session, or cannot take it now (https://www.postgresql.org/docs/current/errcodes-appendix.html).
func unreachableCode(code string) bool {
	switch code {
	case "57P01", // admin_shutdown: the server is stopping
		"57P02", // crash_shutdown
		"57P03", // cannot_connect_now: starting up or in recovery
		"53300", // too_many_connections
		"25P03": // idle_in_transaction_session_timeout ended the session (this replica stalled)
		return true
	}
	// Class 08: connection exception.
	return len(code) == 5 && code[:2] == "08"
}
