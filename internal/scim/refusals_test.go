package scim

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provisioning-dev/scim-operator/internal/directory"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

func TestMonitor_ReportsRefusedWritesByCause(t *testing.T) {
	rank := asError(&directory.Error{Kind: directory.KindInvalidValue, Field: "rankName",
		Detail: `rank "Sgt" does not exist`})
	dup := asError(&directory.Error{Kind: directory.KindUniqueness, Field: "userName", Detail: "userName is taken"})
	tests := []struct {
		name   string
		method string
		errs   []*Error
		want   []scimconfig.Refusal
	}{
		{name: "a rule broken twice is one refusal counted twice", method: http.MethodPost, errs: []*Error{rank, rank},
			want: []scimconfig.Refusal{{Resource: "Users", Method: "POST", Status: http.StatusBadRequest,
				ScimType: "invalidValue", Detail: rank.Detail, Count: 2}}},
		{name: "two rules are two refusals, oldest first", method: http.MethodPut, errs: []*Error{rank, dup},
			want: []scimconfig.Refusal{
				{Resource: "Users", Method: "PUT", Status: http.StatusBadRequest, ScimType: "invalidValue",
					Detail: rank.Detail, Count: 1},
				{Resource: "Users", Method: "PUT", Status: http.StatusConflict, ScimType: "uniqueness",
					Detail: dup.Detail, Count: 1},
			}},
		{name: "reads are not refusals", method: http.MethodGet, errs: []*Error{rank}},
		{name: "errors that are not agency rules are not refusals", method: http.MethodPost,
			errs: []*Error{{Status: http.StatusBadRequest, ScimType: "invalidSyntax", Detail: "bad JSON",
				Err: errors.New("x")}, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMonitor(prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			m.now = func() time.Time { clock = clock.Add(time.Second); return clock }
			for _, e := range tt.errs {
				m.refused("Users", tt.method, e)
			}
			rep, err := m.Report(t.Context(), "a", nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Refusals) != len(tt.want) {
				t.Fatalf("refusals = %+v, want %d", rep.Refusals, len(tt.want))
			}
			for i, got := range rep.Refusals {
				got.Time = time.Time{}
				if got != tt.want[i] {
					t.Errorf("refusal %d = %+v, want %+v", i, got, tt.want[i])
				}
			}
		})
	}
}

func TestMonitor_KeepsAtMostMaxRefusalsDroppingTheOldest(t *testing.T) {
	m, err := NewMonitor(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	for i := range scimconfig.MaxRefusals + 5 {
		m.refused("Users", http.MethodPost, asError(&directory.Error{Kind: directory.KindInvalidValue,
			Detail: fmt.Sprintf("rank %d does not exist", i)}))
	}
	rep, err := m.Report(t.Context(), "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Refusals) != scimconfig.MaxRefusals || rep.Refusals[0].Detail != "rank 5 does not exist" {
		t.Fatalf("kept %d refusals, first %q", len(rep.Refusals), rep.Refusals[0].Detail)
	}
}
