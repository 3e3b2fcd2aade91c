// Package auth verifies the OAuth 2.0 bearer access tokens Okta sends to an agency's SCIM
// server: RS256 JWTs issued by the agency's own Okta org, checked against keys fetched only
// from that org's authorization servers. Every rejection carries one of the scimconfig
// Reason* constants so the server can count it and the operator can explain it.
package auth
