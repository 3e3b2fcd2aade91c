package scimconfig

import "time"

// ReportPath is where the SCIM server serves its Report on the metrics address.
const ReportPath = "/report"

// Report is what a SCIM server tells the operator about itself, as JSON on ReportPath of its
// metrics port. It holds no token, no secret and no personal data.
type Report struct {
	// AgencyID echoes the configuration, so a reader can tell it reached the right server.
	AgencyID string `json:"agencyID"`
	// Users and Groups count the directory's resources; ActiveUsers the active users.
	Users       int64 `json:"users"`
	ActiveUsers int64 `json:"activeUsers"`
	Groups      int64 `json:"groups"`
	// CountsUnavailable says the store could not be counted (not open yet, or unreachable):
	// the counts above are zero, not the directory's.
	CountsUnavailable bool `json:"countsUnavailable,omitempty"`
	// LastAuthenticated is the most recent request whose token was accepted, if any.
	LastAuthenticated *AuthenticatedRequest `json:"lastAuthenticated,omitempty"`
	// Rejections holds the latest token rejection of each reason, keyed by reason.
	Rejections map[string]Rejection `json:"rejections,omitempty"`
	// Refusals lists, oldest first, the latest refused write of each distinct cause (at most
	// MaxRefusals): the requests Okta sent that broke an agency rule.
	Refusals []Refusal `json:"refusals,omitempty"`
	// Store says why the directory does not answer; nil while it does.
	Store *StoreProblem `json:"store,omitempty"`
}

// StoreProblem is why a SCIM server's directory is not open or does not answer.
type StoreProblem struct {
	// Reason is StoreUnreachable or MigrationFailed.
	Reason string `json:"reason"`
	// Message is the store's own error, with no credential in it.
	Message string `json:"message"`
	// Since is when the server first saw this reason, in this run of the problem.
	Since time.Time `json:"since"`
}

// Reasons of a StoreProblem. They double as condition reasons on the operator's side.
const (
	StoreUnreachable = "StoreUnreachable"
	MigrationFailed  = "MigrationFailed"
)

// AuthenticatedRequest describes a request that carried an accepted token.
type AuthenticatedRequest struct {
	// ClientID is the token's `cid` claim: the OIDC app Okta used.
	ClientID string `json:"clientID"`
	// Issuer is the token's `iss` claim.
	Issuer string    `json:"issuer"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Status int       `json:"status"`
	Time   time.Time `json:"time"`
}

// Rejection is the latest token rejection for one reason.
type Rejection struct {
	// Reason is one of the Reason* constants.
	Reason string `json:"reason"`
	// Message says why, naming the expected and the seen value where there are two.
	Message string `json:"message"`
	// Expected and Seen are the two values compared, when the reason has them (issuer,
	// audience, client id). Never a token.
	Expected string `json:"expected,omitempty"`
	Seen     string `json:"seen,omitempty"`
	// Count is how many requests were rejected for this reason since the server started.
	Count int64     `json:"count"`
	Time  time.Time `json:"time"`
}

// Reasons a token is rejected. Except MissingToken and MalformedToken, which anyone can cause,
// they double as ScimAuthenticated reasons on the operator's side.
const (
	ReasonMissingToken     = "MissingToken"
	ReasonMalformedToken   = "MalformedToken"
	ReasonIssuerMismatch   = "IssuerMismatch"
	ReasonInvalidSignature = "InvalidSignature"
	ReasonTokenExpired     = "TokenExpired"
	ReasonTokenNotYetValid = "TokenNotYetValid"
	ReasonWrongAudience    = "WrongAudience"
	ReasonUnknownClient    = "UnknownClient"
	ReasonKeysUnavailable  = "KeysUnavailable"
)
