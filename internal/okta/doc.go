// Package okta is scim-operator's Okta management client. It wraps okta-sdk-golang/v2 behind
// small interfaces (Authenticator, AuthorizationServers, Apps, Policies, Schemas, Mappings,
// GroupPush) that speak in this package's own types, so controllers and tests never depend on
// the SDK. Every call carries a timeout; rate limits and server errors are handled in one
// transport shared by all clients of an org, and reported as typed errors.
package okta
