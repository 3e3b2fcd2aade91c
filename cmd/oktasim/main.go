// Command oktasim serves one simulated Okta org on a loopback address for tests and the
// demo. It prints the org URL on the first line of stdout (and the API token on the second
// when it made one up), then serves until SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/provisioning-dev/scim-operator/internal/oktasim"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "oktasim:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to serve on (port 0 picks a free port)")
	token := flag.String("api-token", "", "SSWS API token; a random one is made and printed when empty")
	rosterFile := flag.String("roster", "", "roster JSON to seed users and groups from")
	org := flag.String("org-name", "oktasim", "org name used in the names Okta assigns to apps")
	rate := flag.Int("rate-limit", 600, "requests per minute per rate-limit bucket")
	verbose := flag.Bool("v", false, "log provisioning failures to stderr")
	flag.Parse()

	if err := loopbackOnly(*listen); err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	opts := []oktasim.Option{oktasim.WithLogger(logger), oktasim.WithOrgName(*org), oktasim.WithRateLimit(*rate)}
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
	fmt.Println(sim.URL())
	if *token == "" {
		fmt.Println(sim.APIToken())
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
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
