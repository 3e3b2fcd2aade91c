package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func TestOktaFlags_RefuseValuesThatWouldBeReplacedSilently(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "defaults"},
		{name: "a resync override", args: []string{"--okta-resync-period=30s"}},
		{name: "no call timeout", args: []string{"--okta-call-timeout=0s"},
			wantErr: "--okta-call-timeout must be more"},
		{name: "negative rate-limit wait", args: []string{"--okta-max-rate-limit-wait=-1s"},
			wantErr: "--okta-max-rate-limit-wait must be more"},
		{name: "no report polls", args: []string{"--scim-report-poll-interval=0s"},
			wantErr: "--scim-report-poll-interval must be more"},
		{name: "no request in flight", args: []string{"--okta-max-concurrent=0"},
			wantErr: "--okta-max-concurrent must be at least 1"},
		{name: "no worker", args: []string{"--max-concurrent-reconciles=0"},
			wantErr: "--max-concurrent-reconciles must be at least 1"},
		{name: "negative resync", args: []string{"--okta-resync-period=-1m"},
			wantErr: "--okta-resync-period must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("manager", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			f := bindOktaFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := f.validate()
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
