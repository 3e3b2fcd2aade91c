package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/provisioning-dev/scim-operator/internal/directory"
)

// SCIM error types (RFC 7644 section 3.12).
const (
	scimTypeInvalidSyntax = "invalidSyntax"
	scimTypeInvalidFilter = "invalidFilter"
	scimTypeInvalidPath   = "invalidPath"
	scimTypeInvalidValue  = "invalidValue"
	scimTypeNoTarget      = "noTarget"
	scimTypeUniqueness    = "uniqueness"
	scimTypeMutability    = "mutability"
	scimTypeTooMany       = "tooMany"
	scimTypeInvalidVers   = "invalidVers"
)

const errorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"

// Error is the one error type the SCIM layer answers with. Status is an http.Status* code;
// ScimType is empty or one of the RFC 7644 error types; Detail is safe to show to the client
// (no personal data beyond what the client sent, no internals).
type Error struct {
	Status   int
	ScimType string
	Detail   string
	// Err is the cause, kept for logs and errors.Is; never shown to the client.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.ScimType, e.Detail, e.Err)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.ScimType, e.Detail)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error {
	return e.Err
}

// errorBody is the JSON form of an Error; status is a string, as RFC 7644 shows it.
type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

func (e *Error) body() errorBody {
	return errorBody{
		Schemas:  []string{errorSchema},
		Status:   strconv.Itoa(e.Status),
		ScimType: e.ScimType,
		Detail:   e.Detail,
	}
}

func newError(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

func badRequest(scimType, format string, args ...any) *Error {
	return newError(http.StatusBadRequest, scimType, format, args...)
}

func notFound(resource, id string) *Error {
	return newError(http.StatusNotFound, "", "%s %q not found", resource, id)
}

// retryAfterSeconds is the Retry-After of a 503: the store was too slow for the request's
// deadline, or a concurrent write conflicted; a client that comes back at once would only add
// to the load.
const retryAfterSeconds = "10"

// asError is the one function that turns any error into the Error the client sees. Errors it
// does not know become 500 with a detail that reveals nothing; only store failures reach it.
// A store that did not answer before the request's deadline, or that rolled the write back
// for a concurrent one, or whose database cannot be reached, is 503: the request may succeed
// when retried.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Status: http.StatusServiceUnavailable, Err: err,
			Detail: "the directory did not answer in time; retry later"}
	}
	if directory.Unreachable(err) {
		return &Error{Status: http.StatusServiceUnavailable, Err: err,
			Detail: "the directory's database cannot be reached; retry later"}
	}
	if errors.Is(err, directory.ErrConcurrentWrite) {
		return &Error{Status: http.StatusServiceUnavailable, Err: err,
			Detail: "a concurrent write conflicted with this one and nothing was written; send it again"}
	}
	var de *directory.Error
	if !errors.As(err, &de) {
		return &Error{Status: http.StatusInternalServerError, Detail: "internal error", Err: err}
	}
	out := &Error{Detail: de.Detail, Err: err}
	switch de.Kind {
	case directory.KindNotFound:
		out.Status = http.StatusNotFound
	case directory.KindUniqueness:
		out.Status, out.ScimType = http.StatusConflict, scimTypeUniqueness
	case directory.KindInvalidValue:
		out.Status, out.ScimType = http.StatusBadRequest, scimTypeInvalidValue
	case directory.KindMutability:
		out.Status, out.ScimType = http.StatusBadRequest, scimTypeMutability
	case directory.KindConflict:
		out.Status = http.StatusConflict
	case directory.KindPreconditionFailed:
		out.Status = http.StatusPreconditionFailed
	case directory.KindInvalidFilter:
		out.Status, out.ScimType = http.StatusBadRequest, scimTypeInvalidFilter
	default:
		out.Status, out.Detail = http.StatusInternalServerError, "internal error"
	}
	if de.Field != "" && out.Status != http.StatusInternalServerError && !strings.Contains(out.Detail, de.Field) {
		out.Detail = de.Field + ": " + out.Detail
	}
	return out
}
