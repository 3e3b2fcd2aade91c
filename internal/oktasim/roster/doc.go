// Package roster holds the synthetic agency roster the simulator seeds: its file format and
// the deterministic generator behind testdata/roster.json (run `make oktasim-roster` or
// `go generate ./internal/oktasim/roster`). Every name, email and badge number is made up.
package roster
