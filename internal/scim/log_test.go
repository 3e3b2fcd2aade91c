package scim

import (
	"io"
	"log/slog"
	"os"
)

// discardLogger drops request logs, unless SCIM_TEST_LOG is set.
func discardLogger() *slog.Logger {
	if os.Getenv("SCIM_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
