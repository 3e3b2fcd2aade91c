// Command rostergen writes the simulator's synthetic police department roster. The output
// is deterministic for a given seed and size, so the committed testdata/roster.json can be
// checked by regenerating it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/provisioning-dev/scim-operator/internal/oktasim/roster"
)

func main() {
	out := flag.String("out", "testdata/roster.json", "file to write")
	seed := flag.Uint64("seed", 2026, "random seed")
	n := flag.Int("n", 500, "number of people")
	flag.Parse()
	b, err := roster.Marshal(roster.Generate(*seed, *n))
	if err == nil {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rostergen:", err)
		os.Exit(1)
	}
}
