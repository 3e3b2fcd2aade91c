package directory

import (
	"errors"
	"fmt"
)

// ErrorKind classifies the errors the HTTP layer maps to SCIM errors.
type ErrorKind int

// Error kinds, with the SCIM answer each one maps to.
const (
	// KindNotFound: 404.
	KindNotFound ErrorKind = iota + 1
	// KindUniqueness: 409 with scimType uniqueness. Field is userName, emails or externalId
	// (or displayName for groups).
	KindUniqueness
	// KindInvalidValue: 400 with scimType invalidValue; a required attribute is missing or a
	// value names nothing in the agency (rank, role, evidence group, user group, member).
	KindInvalidValue
	// KindMutability: 400 with scimType mutability; an attempt to change something immutable.
	KindMutability
	// KindConflict: 409; the agency forbids the change (deleting a command-hierarchy group).
	KindConflict
	// KindPreconditionFailed: 412; IfVersion did not match.
	KindPreconditionFailed
	// KindInvalidFilter: 400 with scimType invalidFilter; the filter or sortBy names an
	// attribute that cannot be filtered or sorted on, or compares it with the wrong type.
	KindInvalidFilter
)

var kindNames = map[ErrorKind]string{
	KindNotFound:           "not found",
	KindUniqueness:         "uniqueness",
	KindInvalidValue:       "invalid value",
	KindMutability:         "mutability",
	KindConflict:           "conflict",
	KindPreconditionFailed: "precondition failed",
	KindInvalidFilter:      "invalid filter",
}

// String names the kind.
func (k ErrorKind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// Error is a directory error the caller can act on. Its message holds no personal data
// (a duplicate userName is named by its field, not its value) but may hold lookup values
// (a missing rank name) and ids, which are the agency's configuration, not people.
type Error struct {
	Kind ErrorKind
	// Field is the attribute concerned, as SCIM names it ("userName", "emails",
	// "urn:ietf:params:scim:schemas:extension:2.0:axon:rankName"), when there is one.
	Field string
	// Detail is a sentence for the SCIM error's detail.
	Detail string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Field == "" {
		return e.Kind.String() + ": " + e.Detail
	}
	return e.Kind.String() + " (" + e.Field + "): " + e.Detail
}

// Is matches another *Error of the same kind, so errors.Is(err, directory.ErrNotFound) works.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Kind == e.Kind && t.Field == "" && t.Detail == ""
}

// Sentinels for errors.Is; the returned errors carry a field and a detail besides.
var (
	ErrNotFound           error = &Error{Kind: KindNotFound}
	ErrUniqueness         error = &Error{Kind: KindUniqueness}
	ErrInvalidValue       error = &Error{Kind: KindInvalidValue}
	ErrMutability         error = &Error{Kind: KindMutability}
	ErrConflict           error = &Error{Kind: KindConflict}
	ErrPreconditionFailed error = &Error{Kind: KindPreconditionFailed}
	ErrInvalidFilter      error = &Error{Kind: KindInvalidFilter}
)

// ErrConcurrentWrite marks a write the database rolled back to resolve a conflict with a
// concurrent transaction (a deadlock, a serialization failure): nothing of it was written, and
// the same request can succeed when it is sent again.
var ErrConcurrentWrite = errors.New("the database rolled this write back to resolve a conflict with a concurrent one")

// KindOf returns the kind of a directory error in err's chain, or 0 when there is none.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func errorf(kind ErrorKind, field, format string, args ...any) *Error {
	return &Error{Kind: kind, Field: field, Detail: fmt.Sprintf(format, args...)}
}
