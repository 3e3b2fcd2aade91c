package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

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
	}{
		{name: "store not open yet", store: nil, readyz: http.StatusServiceUnavailable, partial: true},
		{
			name:    "store unreachable",
			store:   pingStore{err: errors.New("connection refused")},
			readyz:  http.StatusServiceUnavailable,
			partial: true,
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
