// Package filter parses the two small languages of SCIM 2.0 (RFC 7644): the filter expressions
// of `GET ?filter=` and `POST /.search` (section 3.4.2.2), and the attribute paths of PATCH
// operations (section 3.5.2). It produces a typed syntax tree and nothing else: deciding which
// attributes exist, and running a filter, belong to the directory.
//
// Schema URN prefixes are resolved against a list of known URNs, longest first, because an
// extension URN such as urn:ietf:params:scim:schemas:extension:2.0:axon has no `:User` suffix
// and `2.0` holds a dot. A prefix that matches no known URN is split at its last colon.
package filter
