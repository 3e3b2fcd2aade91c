// Package scim is the SCIM 2.0 protocol layer of an agency's SCIM server (RFC 7643, RFC 7644):
// routing under /api/v2/agencies/{agencyID}/scim, bearer token checks, the JSON form of users
// and groups, filters, PATCH in the forms Okta and Entra send, ETags and errors. It stores
// nothing itself: every read and write goes through a directory.Store.
package scim
