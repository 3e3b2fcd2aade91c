package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRun_PrintsURLFirstAndServesUntilCancelled(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		wantToken bool
	}{
		{name: "given token", args: []string{
			"--listen", "127.0.0.1:0", "--api-token", "tok-123", "--roster", "../../testdata/roster.json",
		}},
		{name: "random token printed second", args: []string{"--listen", "127.0.0.1:0"}, wantToken: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() { done <- run(ctx, tc.args, pw, io.Discard); _ = pw.Close() }()
			lines := bufio.NewScanner(pr)
			if !lines.Scan() || !strings.HasPrefix(lines.Text(), "http://127.0.0.1:") {
				t.Fatalf("first line %q is not the org URL", lines.Text())
			}
			url := lines.Text()
			token := "tok-123"
			if tc.wantToken {
				if !lines.Scan() || len(lines.Text()) < 20 {
					t.Fatalf("second line %q is not a random token", lines.Text())
				}
				token = lines.Text()
			}
			go func() { _, _ = io.Copy(io.Discard, pr) }()
			for _, auth := range []struct {
				header string
				want   int
			}{{"", http.StatusUnauthorized}, {"SSWS " + token, http.StatusOK}} {
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/api/v1/apps", nil)
				if auth.header != "" {
					req.Header.Set("Authorization", auth.header)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var body any
				_ = json.NewDecoder(resp.Body).Decode(&body)
				_ = resp.Body.Close()
				if resp.StatusCode != auth.want {
					t.Fatalf("GET /api/v1/apps with %q: %d, want %d", auth.header, resp.StatusCode, auth.want)
				}
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("run did not stop after cancel")
			}
		})
	}
}

func TestRun_RefusesNonLoopbackAddresses(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.1.2.3:80"} {
		t.Run(addr, func(t *testing.T) {
			if err := run(t.Context(), []string{"--listen", addr}, io.Discard, io.Discard); err == nil {
				t.Fatalf("listen on %s must be refused", addr)
			}
		})
	}
}

func TestRun_HelpIsReportedAsHelp(t *testing.T) {
	var usage strings.Builder
	if err := run(t.Context(), []string{"--help"}, io.Discard, &usage); !errors.Is(err, flag.ErrHelp) ||
		!strings.Contains(usage.String(), "-listen") {
		t.Fatalf("run --help = %v, usage %q; want flag.ErrHelp and the usage, which main exits 0 on",
			err, usage.String())
	}
}
