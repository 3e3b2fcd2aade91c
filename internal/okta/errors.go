package okta

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrNotFound is returned when the Okta object does not exist (HTTP 404, E0000007).
	ErrNotFound = errors.New("okta object not found")
	// ErrInvalidCredentials is returned when Okta rejects the API token or the service app's
	// key (HTTP 401, or 403 for a token without the needed permission or scope).
	ErrInvalidCredentials = errors.New("okta rejected the credentials")
	// ErrForbidden is returned when the credentials are valid but lack a permission or scope.
	ErrForbidden = errors.New("okta denied the request")
	// ErrRateLimited is returned when Okta keeps answering 429 past the bounded wait.
	ErrRateLimited = errors.New("okta rate limit exceeded")
	// ErrUnreachable is returned when the org cannot be reached (DNS, connection, timeout).
	ErrUnreachable = errors.New("okta org unreachable")
	// ErrServer is returned when Okta keeps answering 5xx after the retries.
	ErrServer = errors.New("okta server error")
	// ErrInvalidRequest is returned when Okta refuses the request as invalid (HTTP 400).
	ErrInvalidRequest = errors.New("okta refused the request")
	// ErrConflict is returned for HTTP 409 answers.
	ErrConflict = errors.New("okta reported a conflict")
)

// RateLimitError says until when the org refuses requests. It matches ErrRateLimited.
type RateLimitError struct {
	// Reset is when Okta said the limit resets (X-Rate-Limit-Reset).
	Reset time.Time
	// Limit is the X-Rate-Limit-Limit value, when sent.
	Limit string
}

// Error implements error.
func (e *RateLimitError) Error() string {
	return fmt.Sprintf("okta rate limit exceeded (limit %s) until %s", e.Limit, e.Reset.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// RetryAfter is how long from now the caller should wait, never negative.
func (e *RateLimitError) RetryAfter(now time.Time) time.Duration {
	return max(e.Reset.Sub(now), 0)
}

// UnreachableError describes why the org could not be reached. It matches ErrUnreachable and
// deliberately does not unwrap to the network error, so the SDK does not retry it by itself.
type UnreachableError struct {
	// Host is the org host that was dialled.
	Host string
	// Cause is the network error's text.
	Cause string
}

// Error implements error.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("okta org %s unreachable: %s", e.Host, e.Cause)
}

// Is makes errors.Is(err, ErrUnreachable) true.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// APIError is an Okta error answer: the HTTP status and Okta's error code and summary.
// It matches the sentinel for its status (ErrNotFound, ErrInvalidCredentials, ...).
type APIError struct {
	Status  int
	Code    string
	Summary string
	// Causes are Okta's errorCauses summaries.
	Causes []string
}

// Error implements error.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("okta answered %d", e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Summary != "" {
		msg += ": " + e.Summary
	}
	for _, c := range e.Causes {
		msg += "; " + c
	}
	return msg
}

// Is maps the status to the package's sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrInvalidCredentials:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrInvalidRequest:
		return e.Status == http.StatusBadRequest
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrServer:
		return e.Status >= http.StatusInternalServerError
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	}
	return false
}

// classify turns what the SDK returned into this package's errors. Errors our transport raised
// (rate limit, unreachable) pass through unchanged; Okta error bodies become *APIError.
func classify(resp *sdk.Response, err error) error {
	if err == nil {
		return nil
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return rl
	}
	var un *UnreachableError
	if errors.As(err, &un) {
		return un
	}
	var oe *sdk.Error
	if errors.As(err, &oe) {
		apiErr := &APIError{Code: oe.ErrorCode, Summary: oe.ErrorSummary}
		if apiErr.Code == "" {
			apiErr.Code = oe.ErrorMessage
		}
		if apiErr.Summary == "" {
			apiErr.Summary = oe.ErrorDescription
		}
		if resp != nil && resp.Response != nil {
			apiErr.Status = resp.StatusCode
		}
		for _, c := range oe.ErrorCauses {
			if s, ok := c["errorSummary"].(string); ok {
				apiErr.Causes = append(apiErr.Causes, s)
			}
		}
		if apiErr.Status == 0 {
			apiErr.Status = statusFromCode(apiErr.Code)
		}
		return apiErr
	}
	if resp != nil && resp.Response != nil && resp.StatusCode >= http.StatusBadRequest {
		return &APIError{Status: resp.StatusCode, Summary: err.Error()}
	}
	return err
}

// statusFromCode recovers the HTTP status of an error the SDK raised without a response, as
// it does when fetching a service-app access token fails.
func statusFromCode(code string) int {
	switch code {
	case "E0000011", "invalid_client", "invalid_token", "E0000004":
		return http.StatusUnauthorized
	case "E0000006", "invalid_scope", "access_denied":
		return http.StatusForbidden
	case "E0000007":
		return http.StatusNotFound
	case "E0000047":
		return http.StatusTooManyRequests
	}
	return 0
}
