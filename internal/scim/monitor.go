package scim

import (
	"context"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provisioning-dev/scim-operator/internal/auth"
	"github.com/provisioning-dev/scim-operator/internal/directory"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// Monitor counts requests, token rejections and store errors in Prometheus metrics, and keeps
// what the operator reads from /report: the latest rejection of each reason and the last
// accepted client. It holds no token and no personal data. It is safe for concurrent use.
type Monitor struct {
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	rejections  *prometheus.CounterVec
	storeErrors *prometheus.CounterVec
	// observers caches the request counter and latency histogram of each label combination,
	// so a request skips the label hashing of WithLabelValues.
	observers sync.Map // observerKey -> *observers

	now        func() time.Time
	mu         sync.Mutex
	latest     map[string]scimconfig.Rejection
	lastAuthed *scimconfig.AuthenticatedRequest
	// refusals holds the latest refused write per cause (see refusals.go).
	refusals map[string]scimconfig.Refusal
}

// NewMonitor registers the server's metrics with reg and returns the Monitor that feeds them.
func NewMonitor(reg prometheus.Registerer) (*Monitor, error) {
	m := &Monitor{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scim_requests_total", Help: "SCIM requests by resource, method and status code.",
		}, []string{"resource", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "scim_request_duration_seconds", Help: "SCIM request latency by resource and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"resource", "method"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scim_auth_rejections_total", Help: "Bearer tokens rejected, by reason.",
		}, []string{"reason"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scim_store_errors_total", Help: "Directory store failures, by resource.",
		}, []string{"resource"}),
		now:    time.Now,
		latest: map[string]scimconfig.Rejection{},
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.rejections, m.storeErrors} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observerKey is one combination of request labels. resource comes from a fixed set and
// status from the codes the server writes, so the cache stays small.
type observerKey struct {
	resource, method string
	status           int
}

// observers are the metrics one label combination feeds.
type observers struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

func (m *Monitor) observe(resource, method string, status int, d time.Duration) {
	key := observerKey{resource: resource, method: methodLabel(method), status: status}
	o, ok := m.observers.Load(key)
	if !ok {
		o, _ = m.observers.LoadOrStore(key, &observers{
			requests: m.requests.WithLabelValues(key.resource, key.method, strconv.Itoa(status)),
			latency:  m.latency.WithLabelValues(key.resource, key.method),
		})
	}
	obs := o.(*observers)
	obs.requests.Inc()
	obs.latency.Observe(d.Seconds())
	if status >= http.StatusInternalServerError {
		m.storeErrors.WithLabelValues(resource).Inc()
	}
}

func (m *Monitor) rejected(e *auth.Error) {
	m.rejections.WithLabelValues(e.Reason).Inc()
	m.mu.Lock()
	defer m.mu.Unlock()
	prev := m.latest[e.Reason]
	m.latest[e.Reason] = scimconfig.Rejection{
		Reason: e.Reason, Message: e.Message, Expected: e.Expected, Seen: e.Seen,
		Count: prev.Count + 1, Time: m.now().UTC(),
	}
}

func (m *Monitor) authenticated(c *auth.Claims, method, path string, status int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastAuthed = &scimconfig.AuthenticatedRequest{
		ClientID: c.ClientID, Issuer: c.Issuer, Method: method, Path: path, Status: status, Time: m.now().UTC(),
	}
}

// Counter counts the directory's resources for the report; directory.Store is one.
type Counter interface {
	Counts(ctx context.Context) (directory.Counts, error)
}

// Report returns what the server tells the operator about itself.
func (m *Monitor) Report(ctx context.Context, agencyID string, counter Counter) (scimconfig.Report, error) {
	r := scimconfig.Report{AgencyID: agencyID}
	var err error
	if counter != nil {
		var c directory.Counts
		if c, err = counter.Counts(ctx); err == nil {
			r.Users, r.ActiveUsers, r.Groups = c.Users, c.ActiveUsers, c.Groups
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lastAuthed != nil {
		last := *m.lastAuthed
		r.LastAuthenticated = &last
	}
	if len(m.latest) > 0 {
		r.Rejections = maps.Clone(m.latest)
	}
	r.Refusals = m.refusalList()
	return r, err
}

// methodLabel bounds the method label to the methods the API knows, so a client cannot grow
// the metrics with made-up methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead:
		return m
	}
	return "other"
}
