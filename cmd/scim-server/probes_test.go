package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provisioning-dev/scim-operator/internal/directory"
	"github.com/provisioning-dev/scim-operator/internal/scim"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// pingStore is a store whose Ping and Counts answer err; the probes call nothing else.
type pingStore struct {
	directory.Store
	err error
}

func (p pingStore) Ping(context.Context) error { return p.err }

func (p pingStore) Counts(context.Context) (directory.Counts, error) {
	return directory.Counts{Users: 3}, p.err
}

func TestProbes_ReadyzFollowsTheStore(t *testing.T) {
	mon, err := scim.NewMonitor(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		store   directory.Store
		readyz  int
		partial bool
		problem string
	}{
		{name: "store not open yet", store: nil, readyz: http.StatusServiceUnavailable, partial: true},
		{
			name:    "store unreachable",
			store:   pingStore{err: errors.New("connection refused")},
			readyz:  http.StatusServiceUnavailable,
			partial: true,
			problem: scimconfig.StoreUnreachable,
		},
		{name: "store answers", store: pingStore{}, readyz: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := &storeState{}
			if tt.store != nil {
				state.set(tt.store)
			}
			mux := metricsMux(&scimconfig.Config{AgencyID: "a"}, prometheus.NewRegistry(), mon, state)
			get := func(path string) *httptest.ResponseRecorder {
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
				return rec
			}
			if got := get("/healthz").Code; got != http.StatusOK {
				t.Errorf("/healthz = %d", got)
			}
			if got := get("/readyz").Code; got != tt.readyz {
				t.Errorf("/readyz = %d, want %d", got, tt.readyz)
			}
			rep := get(scimconfig.ReportPath)
			var body scimconfig.Report
			if err := json.Unmarshal(rep.Body.Bytes(), &body); err != nil || body.CountsUnavailable != tt.partial {
				t.Errorf("/report body %s: countsUnavailable want %v (%v)", rep.Body, tt.partial, err)
			}
			if got := body.Store; (got == nil) != (tt.problem == "") || (got != nil && got.Reason != tt.problem) {
				t.Errorf("/report store %+v, want problem %q", got, tt.problem)
			}
			if rep.Code != http.StatusOK || (rep.Header().Get("X-Report-Partial") != "") != tt.partial {
				t.Errorf(
					"/report = %d partial=%q, want partial %v",
					rep.Code,
					rep.Header().Get("X-Report-Partial"),
					tt.partial,
				)
			}
		})
	}
}

func TestStoreState_KeepsWhenAProblemBeganAndHidesThePassword(t *testing.T) {
	migration := fmt.Errorf("open directory: %w", &directory.MigrationError{Name: "0002_x.sql",
		Err: errors.New("syntax error")})
	unreachable := errors.New("failed to connect to `user=scim`: password pw-1234 refused")
	tests := []struct {
		name   string
		steps  []error // nil: the store answered
		reason string
		keeps  bool // Since is the first failure's
		want   string
	}{
		{name: "never failed", steps: []error{nil}},
		{name: "unreachable", steps: []error{unreachable}, reason: scimconfig.StoreUnreachable, keeps: true,
			want: "password xxxxx refused"},
		{name: "the same reason again keeps its start", steps: []error{unreachable, unreachable},
			reason: scimconfig.StoreUnreachable, keeps: true},
		{name: "a migration failure is its own reason", steps: []error{unreachable, migration},
			reason: scimconfig.MigrationFailed, want: "migration 0002_x.sql: syntax error"},
		{name: "an answer ends the problem", steps: []error{unreachable, nil}},
		{name: "a long error is cut", steps: []error{errors.New(strings.Repeat("é", maxProblemMessage))},
			reason: scimconfig.StoreUnreachable, keeps: true, want: "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStoreState("postgres://scim:pw-1234@db.invalid:5432/agency")
			var first time.Time
			for _, err := range tt.steps {
				if err == nil {
					s.answered()
					continue
				}
				s.failed(err)
				if first.IsZero() {
					first = s.current().Since
				}
				time.Sleep(time.Millisecond)
			}
			got := s.current()
			if tt.reason == "" {
				if got != nil {
					t.Fatalf("problem %+v, want none", got)
				}
				return
			}
			if got == nil || got.Reason != tt.reason || !strings.Contains(got.Message, tt.want) ||
				strings.Contains(got.Message, "pw-1234") || len(got.Message) > maxProblemMessage+len("...") ||
				!utf8.ValidString(got.Message) {
				t.Fatalf("problem %+v, want %s mentioning %q, bounded, without the password", got, tt.reason, tt.want)
			}
			if got.Since.Equal(first) != tt.keeps {
				t.Errorf("since %v, first failure %v: want kept %v", got.Since, first, tt.keeps)
			}
		})
	}
}

// hangStore is a store whose database stopped answering (frozen, or its packets dropped):
// Ping and Counts return only when their context ends.
type hangStore struct{ directory.Store }

func (hangStore) Ping(ctx context.Context) error {
	<-ctx.Done()
	return fmt.Errorf("ping postgres: %w", ctx.Err())
}

func (hangStore) Counts(ctx context.Context) (directory.Counts, error) {
	<-ctx.Done()
	return directory.Counts{}, fmt.Errorf("read counters: %w", ctx.Err())
}

// TestProbes_ReportAnswersWhileTheStoreHangs: the operator reads /report with a 5 s timeout,
// so a database that stops answering must still give a report in time, saying why.
func TestProbes_ReportAnswersWhileTheStoreHangs(t *testing.T) {
	mon, err := scim.NewMonitor(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	state := &storeState{}
	state.set(hangStore{})
	mux := metricsMux(&scimconfig.Config{AgencyID: "a"}, prometheus.NewRegistry(), mon, state)
	for _, path := range []string{scimconfig.ReportPath, "/readyz"} {
		t.Run(path, func(t *testing.T) {
			done := make(chan *httptest.ResponseRecorder, 1)
			began := time.Now()
			go func() {
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
				done <- rec
			}()
			var rec *httptest.ResponseRecorder
			select {
			case rec = <-done:
			case <-time.After(probeTimeout + 3*time.Second):
				t.Fatalf("%s did not answer within %s while the store hangs", path, probeTimeout+3*time.Second)
			}
			t.Logf("%s answered %d in %s", path, rec.Code, time.Since(began).Round(time.Millisecond))
			if path == "/readyz" {
				if rec.Code != http.StatusServiceUnavailable {
					t.Errorf("/readyz = %d, want 503", rec.Code)
				}
				return
			}
			var body scimconfig.Report
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusOK ||
				!body.CountsUnavailable || body.Store == nil || body.Store.Reason != scimconfig.StoreUnreachable ||
				!strings.Contains(body.Store.Message, "did not answer within") {
				t.Errorf("/report = %d %s (%v), want counts unavailable and StoreUnreachable saying it did not answer",
					rec.Code, rec.Body, err)
			}
		})
	}
}
