package scimconfig

import "time"

// MaxRefusals bounds Report.Refusals: the server keeps the latest refusal of at most this
// many distinct causes, dropping the oldest.
const MaxRefusals = 50

// Refusal is the latest write the SCIM server refused for one cause: a request that broke
// an agency rule (a rank or role that does not exist, a missing badge id, a duplicate
// userName, a protected group). Details name fields and the agency's lookup values, never a
// person.
type Refusal struct {
	// Resource is Users or Groups; Method the HTTP method of the refused request.
	Resource string `json:"resource"`
	Method   string `json:"method"`
	// Status is the HTTP status answered; ScimType the SCIM error type (invalidValue,
	// uniqueness, mutability), empty for a plain conflict.
	Status   int    `json:"status"`
	ScimType string `json:"scimType,omitempty"`
	// Detail is the SCIM error's detail, which says which rule was broken.
	Detail string `json:"detail"`
	// Count is how many writes were refused for this cause since the server started.
	Count int64     `json:"count"`
	Time  time.Time `json:"time"`
}
