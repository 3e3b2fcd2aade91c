package directory

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestUnreachable_TellsALostDatabaseFromOtherFailures(t *testing.T) {
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},
		{name: "connection refused", err: fmt.Errorf("begin transaction: %w", dialErr), want: true},
		{name: "connection dropped mid-answer", err: fmt.Errorf("list users: %w", io.ErrUnexpectedEOF), want: true},
		{name: "connection closed", err: io.EOF, want: true},
		{name: "bad pooled connection", err: driver.ErrBadConn, want: true},
		{name: "pool closed connection", err: sql.ErrConnDone, want: true},
		{name: "driver closed the connection", err: fmt.Errorf("begin transaction: %w", pgconn.ErrConnClosed),
			want: true},
		{name: "a failed statement then a failed roll back", err: errors.Join(
			fmt.Errorf("lock user positions: %w", io.ErrUnexpectedEOF), errors.New("roll back: conn closed")),
			want: true},
		{name: "server stopping", err: &pgconn.PgError{Code: "57P01"}, want: true},
		{name: "server starting", err: fmt.Errorf("get user: %w", &pgconn.PgError{Code: "57P03"}), want: true},
		{name: "too many connections", err: &pgconn.PgError{Code: "53300"}, want: true},
		{name: "session ended for idling in a transaction",
			err: fmt.Errorf("commit: %w", &pgconn.PgError{Code: "25P03"}), want: true},
		{name: "connection exception class", err: &pgconn.PgError{Code: "08006"}, want: true},
		{name: "unique violation", err: &pgconn.PgError{Code: "23505"}, want: false},
		{name: "deadlock", err: &pgconn.PgError{Code: "40P01"}, want: false},
		{name: "syntax error", err: &pgconn.PgError{Code: "42601"}, want: false},
		{name: "directory rule", err: errorf(KindUniqueness, "userName", "taken"), want: false},
		{name: "deadline", err: fmt.Errorf("list users: %w", context.DeadlineExceeded), want: false},
		{name: "canceled", err: context.Canceled, want: false},
		{name: "other", err: errors.New("disk full"), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Unreachable(tt.err); got != tt.want {
				t.Errorf("Unreachable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
