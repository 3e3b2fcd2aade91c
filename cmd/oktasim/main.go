// Command oktasim serves one simulated Okta org on a loopback address for tests and the
// demo. It prints the org URL on the first line of stdout (and the API token on the second
// when it made one up), then serves until SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/provisioning-dev/scim-operator/internal/oktasim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		// The flag set printed the usage; asking for it is not a failure.
	case err != nil:
		fmt.Fprintln(os.Stderr, "oktasim:", err)
		os.Exit(1)
	}
}

// run serves the org until ctx ends; the org URL is the first line written to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("oktasim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to serve on (port 0 picks a free port)")
	token := fs.String("api-token", "", "SSWS API token; a random one is made and printed when empty")
	rosterFile := fs.String("roster", "", "roster JSON to seed users and groups from")
	org := fs.String("org-name", "oktasim", "org name used in the names Okta assigns to apps")
	rate := fs.Int("rate-limit", 600, "requests per minute per rate-limit bucket")
	verbose := fs.Bool("v", false, "log provisioning failures to stderr")
	settle := fs.Duration("schema-settle", 0, "how long a new app-profile property is unknown to profile mappings")
	if err := fs.Parse(args); err != nil {
		return err
	}

	if err := loopbackOnly(*listen); err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	opts := []oktasim.Option{
		oktasim.WithLogger(logger),
		oktasim.WithOrgName(*org),
		oktasim.WithRateLimit(*rate),
		oktasim.WithSchemaSettle(*settle),
	}
	if *token != "" {
		opts = append(opts, oktasim.WithAPIToken(*token))
	}
	sim, err := oktasim.New(opts...)
	if err != nil {
		return err
	}
	if err := sim.Listen(*listen); err != nil {
		return err
	}
	defer func() { _ = sim.Close() }()
	if *rosterFile != "" {
		res, err := sim.LoadRoster(*rosterFile)
		if err != nil {
			return err
		}
		logger.Warn("Seeded roster", "users", res.Users, "groups", res.Groups, "rejected", len(res.Rejected))
	}
	fmt.Fprintln(stdout, sim.URL())
	if *token == "" {
		fmt.Fprintln(stdout, sim.APIToken())
	}
	<-ctx.Done()
	return nil
}

// loopbackOnly refuses listen addresses that are not on a loopback host.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q is not a loopback address", addr)
	}
	return nil
}
