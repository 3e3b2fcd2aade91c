// Package oktasim plays one Okta org on 127.0.0.1 for the operator's tests and the demo.
//
// It serves the slice of Okta's management API the operator uses (apps, app user schema,
// profile mappings, authorization servers, users, groups, assignments, group push), the
// default and org authorization servers (discovery, keys, tokens), and a provisioning engine
// that pushes assigned users and groups to a SCIM base URL the way Okta does for a custom
// SAML app once an admin has done the manual step. It refuses what Okta refuses. The
// simulator-only admin API lives under /__sim; docs/oktasim.md lists every endpoint.
package oktasim
