package auth

import (
	"errors"
	"fmt"
)

// ErrRejected is wrapped by every *Error, so callers can test for any token rejection with
// errors.Is.
var ErrRejected = errors.New("token rejected")

// Error is a token rejection. Reason is one of the scimconfig Reason* constants; Expected and
// Seen hold the two compared values when the reason has them (issuer, audience, client id).
// No field ever holds the token itself.
type Error struct {
	Reason   string
	Message  string
	Expected string
	Seen     string
	// Err is the underlying cause, if any (a key fetch failure, a parser error).
	Err error
}

// Error returns the message, which names the cause.
func (e *Error) Error() string {
	return e.Message
}

// Unwrap returns ErrRejected and the underlying cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrRejected}
	}
	return []error{ErrRejected, e.Err}
}

func reject(reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Message: fmt.Sprintf(format, args...)}
}
