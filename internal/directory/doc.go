// Package directory is an agency's directory of users and groups: the typed model the SCIM
// server serves, the agency's rules (uniqueness, deactivation instead of deletion, lookup
// data, default language, protected groups), and two stores with the same behaviour behind
// one Store interface: SQLite (one file, one writer) and PostgreSQL (several replicas).
//
// Filters arrive as syntax trees from package filter and are translated to SQL, so every
// lookup runs in the database and, for the attributes Okta and Entra look up by, on an index.
package directory
