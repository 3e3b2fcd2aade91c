package directory

import (
	"context"
	"slices"

	"github.com/provisioning-dev/scim-operator/internal/filter"
)

// Store is the agency's directory. Both backends (SQLite and PostgreSQL) implement it with the
// same behaviour and pass the same test suite. Every error a caller can act on is an *Error
// (see ErrorKind); anything else is the database failing.
type Store interface {
	// CreateUser applies the agency's rules to u, stores it and returns it with ID, Meta and
	// Groups set. u.ID, u.Meta and u.Groups are ignored; u.Active is taken as given (SCIM
	// creates users active when the request leaves it out: the HTTP layer sets it).
	CreateUser(ctx context.Context, u User) (*User, error)
	// GetUser returns a user, with Groups.
	GetUser(ctx context.Context, id string) (*User, error)
	// ReplaceUser replaces every attribute of a user with u's (PUT), applying the rules. u.ID,
	// u.Meta and u.Groups are ignored.
	ReplaceUser(ctx context.Context, id string, u User, opts ...WriteOption) (*User, error)
	// PatchUser reads a user, lets mutate change it and stores the result, in one transaction
	// (PATCH). The rules apply to the result as to a PUT. When mutate returns an error nothing
	// is stored and the error is returned as it is.
	PatchUser(ctx context.Context, id string, mutate func(*User) error, opts ...WriteOption) (*User, error)
	// DeactivateUser sets a user inactive (DELETE keeps users); it stays readable.
	DeactivateUser(ctx context.Context, id string, opts ...WriteOption) (*User, error)
	// ListUsers answers a query with the total of matches and one page of them.
	ListUsers(ctx context.Context, q Query) (*Page[User], error)

	// CreateGroup stores a group with its members and returns it (with members).
	CreateGroup(ctx context.Context, g Group) (*Group, error)
	// GetGroup returns a group; its Members are loaded only when withMembers is true.
	GetGroup(ctx context.Context, id string, withMembers bool) (*Group, error)
	// ReplaceGroup replaces a group's displayName, externalId and members (PUT). The member
	// list is diffed in the database; unchanged members are not rewritten.
	ReplaceGroup(ctx context.Context, id string, g Group, opts ...WriteOption) (*Group, error)
	// PatchGroup applies PATCH operations in order, in one transaction, and returns the group
	// without members; a failing operation leaves the group unchanged.
	PatchGroup(ctx context.Context, id string, ops []GroupOp, opts ...WriteOption) (*Group, error)
	// DeleteGroup removes a group and its memberships. Command-hierarchy groups cannot be
	// deleted (KindConflict).
	DeleteGroup(ctx context.Context, id string, opts ...WriteOption) error
	// ListGroups answers a query; members are loaded only when q.WithMembers is true.
	ListGroups(ctx context.Context, q Query) (*Page[Group], error)

	// Counts returns the directory's totals without scanning it.
	Counts(ctx context.Context) (Counts, error)
	// Ping reports whether the database answers (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the database. The store cannot be used afterwards.
	Close() error
}

// SortOrder is the direction of a sort.
type SortOrder int

// Sort orders; the zero value is ascending, as RFC 7644 section 3.4.2.3 says.
const (
	Ascending SortOrder = iota
	Descending
)

// Query selects a page of users or groups (RFC 7644 section 3.4.2).
type Query struct {
	// Filter selects resources; nil selects all. Attribute names are matched
	// case-insensitively; an attribute that cannot be filtered on gives KindInvalidFilter.
	Filter filter.Expr
	// SortBy is an attribute path such as "userName" or "name.familyName"; empty keeps the
	// default order (creation order). Ties are broken by creation order, so pages are stable.
	SortBy    string
	SortOrder SortOrder
	// StartIndex is 1-based; values below 1 are taken as 1.
	StartIndex int
	// Count is the largest page wanted. 0 returns no resources, only the total. Negative
	// values are taken as 0. The HTTP layer caps it.
	Count int
	// WithMembers loads each group's Members, and each user's Groups. Leave it false when
	// the response excludes them.
	WithMembers bool
}

// Page is one page of a query's answer.
type Page[T any] struct {
	// Total is the number of resources matching the filter, across all pages.
	Total int
	// StartIndex echoes the query's (at least 1).
	StartIndex int
	// Resources is never nil.
	Resources []T
}

// GroupOpKind names a PATCH operation on a group.
type GroupOpKind int

// Group PATCH operations.
const (
	// OpAddMembers adds Members (already present ones are kept, not duplicated).
	OpAddMembers GroupOpKind = iota + 1
	// OpRemoveMembers removes the members whose ids are in Members.
	OpRemoveMembers
	// OpRemoveMembersMatching removes the members matching Filter, a value filter over
	// `value`, `display` and `type` (from `members[value eq "id"]`).
	OpRemoveMembersMatching
	// OpRemoveAllMembers removes every member (`remove` with path `members`).
	OpRemoveAllMembers
	// OpReplaceMembers makes Members the whole member list (may be empty).
	OpReplaceMembers
	// OpSetDisplayName renames the group to Value.
	OpSetDisplayName
	// OpSetExternalID sets the externalId to Value (empty clears it).
	OpSetExternalID
)

// GroupOp is one PATCH operation on a group.
type GroupOp struct {
	Kind GroupOpKind
	// Members are member ids (user or group ids), for the member operations.
	Members []string
	// Filter is for OpRemoveMembersMatching.
	Filter filter.Expr
	// Value is for OpSetDisplayName and OpSetExternalID.
	Value string
}

// WriteOption qualifies a write.
type WriteOption func(*writeOptions)

type writeOptions struct {
	ifVersions    []int64 // If-Match: the version must be one of these, when any is given
	ifNotVersions []int64 // If-None-Match: the version must be none of these
	ifAbsent      bool    // If-None-Match: *
}

// IfVersion makes a write fail with KindPreconditionFailed unless the resource's
// meta.version is v or the version of another IfVersion option (If-Match with a list of
// tags). Checked in the same transaction as the write.
func IfVersion(v int64) WriteOption {
	return func(o *writeOptions) { o.ifVersions = append(o.ifVersions, v) }
}

// IfNotVersion makes a write fail with KindPreconditionFailed when the resource's
// meta.version is v (If-None-Match). Checked in the same transaction as the write.
func IfNotVersion(v int64) WriteOption {
	return func(o *writeOptions) { o.ifNotVersions = append(o.ifNotVersions, v) }
}

// IfAbsent makes a write fail with KindPreconditionFailed when the resource exists
// (If-None-Match: *). A write to an id that names nothing still fails with KindNotFound.
func IfAbsent() WriteOption {
	return func(o *writeOptions) { o.ifAbsent = true }
}

// check applies the preconditions to a resource of this kind ("user", "group") and id at
// version.
func (o writeOptions) check(kind, id string, version int64) error {
	if len(o.ifVersions) > 0 && !slices.Contains(o.ifVersions, version) {
		return errorf(KindPreconditionFailed, "", "%s %s is at version %d, which If-Match does not name",
			kind, id, version)
	}
	if o.ifAbsent {
		return errorf(KindPreconditionFailed, "", "%s %s exists (If-None-Match: *)", kind, id)
	}
	if slices.Contains(o.ifNotVersions, version) {
		return errorf(KindPreconditionFailed, "", "%s %s is at version %d, which If-None-Match names",
			kind, id, version)
	}
	return nil
}

func collectWriteOptions(opts []WriteOption) writeOptions {
	var o writeOptions
	for _, fn := range opts {
		fn(&o)
	}
	return o
}
