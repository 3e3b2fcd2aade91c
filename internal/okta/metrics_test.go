package okta

import (
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestEndpointOf_ReplacesObjectIDs(t *testing.T) {
	tests := []struct {
		name, path, want string
	}{
		{name: "a list", path: "/api/v1/apps", want: "/api/v1/apps"},
		{name: "one app", path: "/api/v1/apps/0oa1gjh63g214q0Hq0g4", want: "/api/v1/apps/{id}"},
		{name: "a group assignment", path: "/api/v1/apps/0oa1/groups/00g2",
			want: "/api/v1/apps/{id}/groups/{id}"},
		{name: "a lifecycle action", path: "/api/v1/apps/0oa1/lifecycle/deactivate",
			want: "/api/v1/apps/{id}/lifecycle/deactivate"},
		{name: "a policy rule on the default server",
			path: "/api/v1/authorizationServers/default/policies/00p1/rules/0pr2",
			want: "/api/v1/authorizationServers/{id}/policies/{id}/rules/{id}"},
		{name: "an app user schema", path: "/api/v1/meta/schemas/apps/0oa1/default",
			want: "/api/v1/meta/schemas/apps/{id}/default"},
		{name: "a provisioning feature", path: "/api/v1/apps/0oa1/features/USER_PROVISIONING",
			want: "/api/v1/apps/{id}/features/USER_PROVISIONING"},
		{name: "a long id after an unknown segment", path: "/api/v1/meta/types/user/oty1a2b3c4d5e6f7g8h9",
			want: "/api/v1/meta/types/user/{id}"},
		{name: "the token endpoint", path: "/oauth2/v1/token", want: "/oauth2/v1/token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := endpointOf(tt.path); got != tt.want {
				t.Fatalf("endpointOf(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

// TestTransport_MetricsCountEveryAttempt: a read answered 503 then 200 counts both attempts,
// under the endpoint with its id replaced, and the latest rate-limit budget is kept.
func TestTransport_MetricsCountEveryAttempt(t *testing.T) {
	var n atomic.Int64
	org := newFakeOrg(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Rate-Limit-Remaining", "41")
		if n.Add(1) == 1 {
			oktaError(w, http.StatusServiceUnavailable, "E0000009", "Service Unavailable")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": "aus1a2b3", "issuer": "i", "status": "ACTIVE"})
	})
	c := org.client(t, fastOptions())
	if _, err := c.GetAuthorizationServer(t.Context(), "aus1a2b3"); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(org.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	const endpoint = "/api/v1/authorizationServers/{id}"
	for code, want := range map[string]float64{"503": 1, "200": 1} {
		got := testutil.ToFloat64(requestsTotal.WithLabelValues(u.Host, http.MethodGet, endpoint, code))
		if got != want {
			t.Errorf("requests_total{code=%q} = %v, want %v", code, got, want)
		}
	}
	if got := testutil.ToFloat64(rateLimitRemaining.WithLabelValues(u.Host, endpoint)); got != 41 {
		t.Errorf("rate_limit_remaining = %v, want 41", got)
	}

	// An org that does not answer counts as "error".
	org.srv.Close()
	_, _ = c.GetAuthorizationServer(t.Context(), "aus1a2b3")
	if got := testutil.ToFloat64(requestsTotal.WithLabelValues(u.Host, http.MethodGet, endpoint, "error")); got < 1 {
		t.Errorf(`requests_total{code="error"} = %v, want at least 1`, got)
	}
}

func TestRegisterMetrics_ExposesTheOktaSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	if err := RegisterMetrics(reg); err == nil {
		t.Fatal("registering twice succeeded; want the registry's duplicate error")
	}
}
