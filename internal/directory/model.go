package directory

import (
	"strconv"
	"time"
)

// User is a SCIM user (RFC 7643 section 4.1) with the agency's extension. Empty strings mean
// "not set". The password Okta sends is never part of it: the directory does not keep one.
// The json tags are the store's own encoding of the record, not the SCIM representation,
// which the HTTP layer writes.
type User struct {
	// ID is assigned by the store on create and never changes.
	ID         string `json:"id"`
	ExternalID string `json:"externalId,omitempty"`
	// UserName is unique in the agency, compared case-insensitively.
	UserName          string `json:"userName"`
	Name              Name   `json:"name"`
	DisplayName       string `json:"displayName,omitempty"`
	NickName          string `json:"nickName,omitempty"`
	ProfileURL        string `json:"profileUrl,omitempty"`
	Title             string `json:"title,omitempty"`
	UserType          string `json:"userType,omitempty"`
	PreferredLanguage string `json:"preferredLanguage,omitempty"`
	Locale            string `json:"locale,omitempty"`
	Timezone          string `json:"timezone,omitempty"`
	Active            bool   `json:"active"`
	// Emails: the primary one (flagged primary, else the first) is unique in the agency,
	// compared case-insensitively.
	Emails       []Email        `json:"emails,omitempty"`
	PhoneNumbers []MultiValue   `json:"phoneNumbers,omitempty"`
	IMs          []MultiValue   `json:"ims,omitempty"`
	Photos       []MultiValue   `json:"photos,omitempty"`
	Addresses    []Address      `json:"addresses,omitempty"`
	Roles        []MultiValue   `json:"roles,omitempty"`
	Enterprise   EnterpriseUser `json:"enterprise"`
	Extension    Extension      `json:"extension"`
	// Groups is read-only: the groups that list the user as a member.
	Groups []GroupRef `json:"-"`
	Meta   Meta       `json:"-"`
}

// Name is a user's name (RFC 7643 section 4.1.1).
type Name struct {
	Formatted       string `json:"formatted,omitempty"`
	FamilyName      string `json:"familyName,omitempty"`
	GivenName       string `json:"givenName,omitempty"`
	MiddleName      string `json:"middleName,omitempty"`
	HonorificPrefix string `json:"honorificPrefix,omitempty"`
	HonorificSuffix string `json:"honorificSuffix,omitempty"`
}

// Email is one of a user's email addresses.
type Email struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Display string `json:"display,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// MultiValue is a value of phoneNumbers, ims, photos or roles.
type MultiValue struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Display string `json:"display,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// Address is a physical mailing address (RFC 7643 section 4.1.2).
type Address struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"streetAddress,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postalCode,omitempty"`
	Country       string `json:"country,omitempty"`
	Type          string `json:"type,omitempty"`
	Primary       bool   `json:"primary,omitempty"`
}

// EnterpriseUser holds the attributes of the enterprise user extension (RFC 7643 section 4.3)
// that Entra sends. It is kept as sent; none of it is filterable.
type EnterpriseUser struct {
	EmployeeNumber string  `json:"employeeNumber,omitempty"`
	CostCenter     string  `json:"costCenter,omitempty"`
	Organization   string  `json:"organization,omitempty"`
	Division       string  `json:"division,omitempty"`
	Department     string  `json:"department,omitempty"`
	Manager        Manager `json:"manager"`
}

// Manager is the enterprise extension's manager reference.
type Manager struct {
	Value       string `json:"value,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// Extension holds the agency's extension schema attributes.
type Extension struct {
	// BadgeID is required.
	BadgeID string `json:"badgeId,omitempty"`
	// RankName, EvidenceGroupName and UserGroupName must name a rank, evidence group and
	// group of the agency. UserGroupName also makes the user a member of that group.
	RankName          string `json:"rankName,omitempty"`
	EvidenceGroupName string `json:"evidenceGroupName,omitempty"`
	UserGroupName     string `json:"userGroupName,omitempty"`
	// AxonRole must name a role of the agency; "Blank" is ignored and no role means "User".
	AxonRole string `json:"axonRole,omitempty"`
}

// GroupRef is a group a user belongs to.
type GroupRef struct {
	ID          string
	DisplayName string
}

// Meta is a resource's metadata (RFC 7643 section 3.1). Location is the HTTP layer's.
type Meta struct {
	Created      time.Time
	LastModified time.Time
	// Version starts at 1 and grows by one on every change.
	Version int64
}

// ETag renders Version as the weak entity tag SCIM uses for meta.version and ETag headers.
func (m Meta) ETag() string {
	return `W/"` + strconv.FormatInt(m.Version, 10) + `"`
}

// ParseETag reads an entity tag written by ETag, weak or strong. ok is false for anything
// else, which therefore matches no version.
func ParseETag(tag string) (version int64, ok bool) {
	if len(tag) > 2 && tag[:2] == "W/" {
		tag = tag[2:]
	}
	if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, false
	}
	v, err := strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
	if err != nil || v < 1 {
		return 0, false
	}
	return v, true
}

// Group is a SCIM group (RFC 7643 section 4.2).
type Group struct {
	ID          string
	DisplayName string
	ExternalID  string
	// Members is nil when the caller asked for a group without members.
	Members []Member
	Meta    Meta
}

// MemberType says what a member is.
type MemberType string

// Member types.
const (
	MemberUser  MemberType = "User"
	MemberGroup MemberType = "Group"
)

// Member is one member of a group. Display is read from the member when the group is read.
type Member struct {
	Value   string
	Type    MemberType
	Display string
}

// Counts are the directory's totals, as the SCIM server reports them to the operator.
type Counts struct {
	Users       int64
	ActiveUsers int64
	Groups      int64
}
