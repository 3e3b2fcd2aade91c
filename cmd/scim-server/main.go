// Command scim-server serves one agency's SCIM 2.0 API for Okta, as the operator's pods run
// it: scim-server --config FILE. See docs/scim-server.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// Garbage collector settings unless GOGC or GOMEMLIMIT say otherwise. The live heap of a
// server under load is small (tens of MiB), so collecting at 4x it instead of 2x halves the
// collector's share of the CPU, and the soft limit keeps the heap, and so the pod's RSS, well
// under its 150 MiB budget when the live heap grows.
const (
	gcPercent   = 400
	memoryLimit = 96 << 20
)

func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

func main() {
	tuneGC()
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run parses flags, starts the server and blocks until SIGTERM or SIGINT. It returns the
// process exit code: 2 for a bad command line or configuration, 1 for a runtime failure.
func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("scim-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "path of the YAML configuration file (required)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	pprof := fs.Bool("pprof", false, "serve Go profiles under /debug/pprof/ on the metrics address")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // the usage was asked for, and printed
		}
		return 2
	}
	if *configPath == "" {
		fmt.Fprintln(stderr, "scim-server: --config FILE is required")
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "scim-server: --log-level: %v\n", err)
		return 2
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "scim-server: %v\n", err)
		return 2
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := serve(ctx, cfg, logger, *pprof); err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("SCIM server stopped", "error", err)
		return 1
	}
	return 0
}
