// Package scimconfig defines the configuration file that scim-server reads with --config and
// the report it serves on its metrics port. The operator renders the first and reads the
// second, so both live here, free of server and controller dependencies.
package scimconfig
