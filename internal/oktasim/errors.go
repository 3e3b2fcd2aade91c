package oktasim

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Okta error codes the simulator answers with.
const (
	CodeValidation       = "E0000001"
	CodeNotFound         = "E0000007"
	CodeInvalidToken     = "E0000011"
	CodeForbidden        = "E0000006"
	CodeMethodNotAllowed = "E0000022"
	CodeBadRequestBody   = "E0000003"
	CodeRateLimit        = "E0000047"
	CodeDeleteAppActive  = "E0000056"
	CodeServerError      = "E0000009"
)

// APIError is an Okta error body with the HTTP status it is sent with.
type APIError struct {
	Status  int          `json:"-"`
	Code    string       `json:"errorCode"`
	Summary string       `json:"errorSummary"`
	Link    string       `json:"errorLink"`
	ID      string       `json:"errorId"`
	Causes  []ErrorCause `json:"errorCauses"`
}

// ErrorCause is one entry of an Okta error's errorCauses.
type ErrorCause struct {
	Summary string `json:"errorSummary"`
}

// Error returns the Okta error code and summary.
func (e *APIError) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Summary)
}

func newAPIError(status int, code, summary string, causes ...string) *APIError {
	e := &APIError{Status: status, Code: code, Summary: summary, Link: code, Causes: []ErrorCause{}}
	for _, c := range causes {
		e.Causes = append(e.Causes, ErrorCause{Summary: c})
	}
	return e
}

func errNotFound(id, kind string) *APIError {
	return newAPIError(http.StatusNotFound, CodeNotFound,
		fmt.Sprintf("Not found: Resource not found: %s (%s)", id, kind))
}

func errValidation(what string, causes ...string) *APIError {
	return newAPIError(http.StatusBadRequest, CodeValidation, "Api validation failed: "+what, causes...)
}

func errInvalidToken() *APIError {
	return newAPIError(http.StatusUnauthorized, CodeInvalidToken, "Invalid token provided")
}

func errForbidden() *APIError {
	return newAPIError(http.StatusForbidden, CodeForbidden,
		"You do not have permission to perform the requested action")
}

func errBadBody(detail string) *APIError {
	return newAPIError(http.StatusBadRequest, CodeBadRequestBody,
		"The request body was not well-formed.", detail)
}

func errRateLimited() *APIError {
	return newAPIError(http.StatusTooManyRequests, CodeRateLimit,
		"API call exceeded rate limit due to too many requests.")
}

// writeError answers with Okta's error body. Errors that are not *APIError become a 500.
func writeError(w http.ResponseWriter, err error) {
	apiErr := &APIError{}
	if !errors.As(err, &apiErr) {
		apiErr = newAPIError(http.StatusInternalServerError, CodeServerError,
			"Internal Server Error", err.Error())
	}
	apiErr.ID = "oae" + randomToken(11)
	writeJSON(w, apiErr.Status, apiErr)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// oauthError is the error body of the OAuth 2.0 endpoints (RFC 6749 section 5.2).
type oauthError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func newOAuthError(status int, code, description string) *oauthError {
	return &oauthError{Status: status, Code: code, Description: description}
}

func writeOAuthError(w http.ResponseWriter, err error) {
	oe := &oauthError{}
	if !errors.As(err, &oe) {
		apiErr := &APIError{}
		if errors.As(err, &apiErr) {
			writeError(w, apiErr)
			return
		}
		oe = newOAuthError(http.StatusInternalServerError, "server_error", err.Error())
	}
	w.Header().Set("Cache-Control", "no-store")
	if oe.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="`+oe.Code+`"`)
	}
	writeJSON(w, oe.Status, oe)
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomToken returns n random characters from [a-zA-Z0-9].
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Errorf("read random bytes: %w", err))
	}
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

// newID returns an Okta-shaped object id: a three-letter prefix and 17 characters.
func newID(prefix string) string {
	return prefix + randomToken(17)
}
