package okta

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The operator's calls to Okta, for the manager's /metrics (RegisterMetrics). Every attempt
// counts, retries included, so a rate-limit budget can be compared with what was sent.
var (
	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "scim_operator", Subsystem: "okta", Name: "requests_total",
		Help: "Okta management API requests sent, retries included, by org host, method, endpoint (ids " +
			"replaced by {id}) and answer: the HTTP status code, or \"error\" when none came.",
	}, []string{"org", "method", "endpoint", "code"})
	requestSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "scim_operator", Subsystem: "okta", Name: "request_duration_seconds",
		Help:    "Time until Okta's answer headers arrived, by org host and method.",
		Buckets: []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"org", "method"})
	rateLimitRemaining = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "scim_operator", Subsystem: "okta", Name: "rate_limit_remaining",
		Help: "X-Rate-Limit-Remaining of Okta's latest answer for the endpoint, by org host and endpoint: " +
			"requests left in the current rate-limit window.",
	}, []string{"org", "endpoint"})
)

// RegisterMetrics registers the Okta client's metrics with reg, once per process.
func RegisterMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{requestsTotal, requestSeconds, rateLimitRemaining} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// observe records one attempt: resp is nil when no answer came.
func observe(req *http.Request, resp *http.Response, took time.Duration) {
	org, endpoint := req.URL.Host, endpointOf(req.URL.Path)
	code := "error"
	if resp != nil {
		code = strconv.Itoa(resp.StatusCode)
		if n, err := strconv.ParseFloat(resp.Header.Get("X-Rate-Limit-Remaining"), 64); err == nil {
			rateLimitRemaining.WithLabelValues(org, endpoint).Set(n)
		}
	}
	requestsTotal.WithLabelValues(org, req.Method, endpoint, code).Inc()
	requestSeconds.WithLabelValues(org, req.Method).Observe(took.Seconds())
}

// idCollections are the path segments of the Okta API that an object's id follows.
var idCollections = map[string]bool{
	"apps": true, "groups": true, "users": true, "authorizationServers": true, "policies": true,
	"rules": true, "mappings": true, "secrets": true, "keys": true, "grants": true, "clients": true,
	"scopes": true, "claims": true, "tokens": true,
}

// endpointOf is an Okta API path with its object ids replaced by {id}, so that a metric has
// one series per kind of call, not per object: /api/v1/apps/0oa1/groups/00g2 becomes
// /api/v1/apps/{id}/groups/{id}. A long segment with a digit elsewhere counts as an id too.
func endpointOf(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if s == "" || s == "v1" {
			continue
		}
		afterCollection := i > 0 && idCollections[segs[i-1]] && !idCollections[s]
		if afterCollection || (len(s) >= 16 && strings.ContainsAny(s, "0123456789")) {
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}
