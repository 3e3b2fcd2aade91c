// Command scim-loadgen measures a scim-server it starts itself on 127.0.0.1: it loads users
// the way Okta creates them, replays Okta's lookup, import and update traffic at a given
// concurrency, and measures in the same run the two ceilings the targets are relative to (a
// bare net/http handler and raw SQLite inserts). It prints the results and can write them to
// docs/benchmarks.md. See docs/benchmarks.md for what each number means.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "--serve-bare" {
		if err := serveBare(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "scim-loadgen:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.StringVar(&o.server, "server", "bin/scim-server", "scim-server binary to start and measure")
	flag.IntVar(&o.users, "users", 100000, "users loaded before the large-directory measurements")
	flag.IntVar(&o.smallUsers, "small-users", 1000, "users loaded for the small-directory latency baseline")
	flag.IntVar(&o.concurrency, "concurrency", 16, "concurrent clients")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each timed phase")
	flag.IntVar(&o.slices, "slices", 5, "turns in which a measurement and its ceiling alternate")
	flag.StringVar(&o.out, "out", "", "write the results as Markdown to this file (docs/benchmarks.md)")
	flag.StringVar(&o.workdir, "workdir", "", "directory for the databases (a temp dir when empty)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scim-loadgen:", err)
		os.Exit(1)
	}
	md := res.markdown()
	fmt.Print(md)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(keepNotes(o.out, md)), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "scim-loadgen:", err)
			os.Exit(1)
		}
	}
}

type options struct {
	server      string
	users       int
	smallUsers  int
	concurrency int
	duration    time.Duration
	slices      int
	out         string
	workdir     string
}

// notesMarker ends the generated part of the results file; what follows it is kept.
const notesMarker = "<!-- end of generated results; notes below are kept by scim-loadgen -->"

// keepNotes appends the hand-written notes of the existing file at path to md.
func keepNotes(path, md string) string {
	md += "\n" + notesMarker + "\n"
	old, err := os.ReadFile(path)
	if err != nil {
		return md
	}
	if _, notes, ok := strings.Cut(string(old), notesMarker+"\n"); ok {
		return md + notes
	}
	return md
}
