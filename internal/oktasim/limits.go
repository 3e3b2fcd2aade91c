package oktasim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rateLimits counts requests per bucket in fixed windows (one minute, as Okta's per-endpoint
// limits, unless WithRateLimitWindow shortens it), and sends X-Rate-Limit-Limit, -Remaining and
// -Reset on every response.
type rateLimits struct {
	mu        sync.Mutex
	perWindow int
	window    time.Duration
	buckets   map[string]*bucket
	stats     RateLimitStats
}

// RateLimitStats counts what the rate limiter did since the org started.
type RateLimitStats struct {
	// Admitted is the number of requests served within their bucket's budget.
	Admitted int64 `json:"admitted"`
	// Refused is the number of requests answered 429 because their bucket was spent
	// (injected rate_limit faults are not counted).
	Refused int64 `json:"refused"`
	// Exhausted is the number of windows in which a bucket's budget was spent to zero.
	Exhausted int64 `json:"exhausted"`
}

// RateLimitStats returns the rate limiter's counters.
func (s *Sim) RateLimitStats() RateLimitStats {
	s.limits.mu.Lock()
	defer s.limits.mu.Unlock()
	return s.limits.stats
}

type bucket struct {
	used  int
	reset time.Time
}

// bucketOf names the rate-limit bucket of a path: Okta limits by endpoint family.
func bucketOf(p string) string {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		return parts[2]
	case len(parts) >= 1 && parts[0] == "oauth2":
		return "oauth2"
	default:
		return "other"
	}
}

func (l *rateLimits) admit(w http.ResponseWriter, r *http.Request, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	name := bucketOf(r.URL.Path)
	b := l.buckets[name]
	if b == nil || !now.Before(b.reset) {
		b = &bucket{reset: now.Truncate(time.Second).Add(l.window)}
		l.buckets[name] = b
	}
	b.used++
	remaining := max(l.perWindow-b.used, 0)
	setRateHeaders(w, l.perWindow, remaining, b.reset)
	switch {
	case b.used > l.perWindow:
		l.stats.Refused++
		return false
	case b.used == l.perWindow:
		l.stats.Exhausted++
	}
	l.stats.Admitted++
	return true
}

func setRateHeaders(w http.ResponseWriter, limit, remaining int, reset time.Time) {
	w.Header().Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
}

// Fault kinds for the management API and the OAuth endpoints.
const (
	// FaultRateLimit answers 429 E0000047 with X-Rate-Limit-Reset ResetAfter in the future.
	FaultRateLimit = "rate_limit"
	// FaultServerError answers Status (500 when zero) with an Okta error body.
	FaultServerError = "server_error"
	// FaultLatency delays the request by Delay and then serves it.
	FaultLatency = "latency"
	// FaultLostResponse serves the request, so whatever it creates or changes is done, and
	// then answers Status (502 when zero) instead, as a gateway in front of Okta that lost
	// Okta's answer does.
	FaultLostResponse = "lost_response"
)

// Fault is an injected failure for requests whose path starts with PathPrefix (and whose
// method is Method, when set). Count is how many requests it hits; 0 means until cleared.
type Fault struct {
	ID         string        `json:"id,omitempty"`
	Kind       string        `json:"kind"`
	Method     string        `json:"method,omitempty"`
	PathPrefix string        `json:"pathPrefix,omitempty"`
	Count      int           `json:"count,omitempty"`
	Status     int           `json:"status,omitempty"`
	ResetAfter time.Duration `json:"-"`
	Delay      time.Duration `json:"-"`
	// ResetAfterSeconds and DelayMillis are the JSON forms of ResetAfter and Delay.
	ResetAfterSeconds int `json:"resetAfterSeconds,omitempty"`
	DelayMillis       int `json:"delayMillis,omitempty"`
	// Hits counts the requests the fault has answered.
	Hits int `json:"hits"`
}

type faultSet struct {
	mu     sync.Mutex
	faults []*Fault
}

func (f *Fault) normalise() error {
	switch f.Kind {
	case FaultRateLimit, FaultServerError, FaultLatency, FaultLostResponse:
	default:
		return fmt.Errorf("unknown fault kind %q (want %s, %s, %s or %s)",
			f.Kind, FaultRateLimit, FaultServerError, FaultLatency, FaultLostResponse)
	}
	if f.ResetAfter == 0 && f.ResetAfterSeconds > 0 {
		f.ResetAfter = time.Duration(f.ResetAfterSeconds) * time.Second
	}
	if f.ResetAfter == 0 {
		f.ResetAfter = time.Second
	}
	f.ResetAfterSeconds = int(f.ResetAfter / time.Second)
	if f.Delay == 0 && f.DelayMillis > 0 {
		f.Delay = time.Duration(f.DelayMillis) * time.Millisecond
	}
	f.DelayMillis = int(f.Delay / time.Millisecond)
	switch {
	case f.Kind == FaultServerError && f.Status == 0:
		f.Status = http.StatusInternalServerError
	case f.Kind == FaultLostResponse && f.Status == 0:
		f.Status = http.StatusBadGateway
	}
	if (f.Kind == FaultServerError || f.Kind == FaultLostResponse) && (f.Status < 500 || f.Status > 599) {
		return fmt.Errorf("%s status %d is not a 5xx", f.Kind, f.Status)
	}
	if f.ID == "" {
		f.ID = "flt" + randomToken(8)
	}
	return nil
}

// InjectFault adds a fault; it returns the fault's id.
func (s *Sim) InjectFault(f Fault) (string, error) {
	if err := f.normalise(); err != nil {
		return "", err
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = append(s.faults.faults, &f)
	return f.ID, nil
}

// ClearFaults removes every injected fault.
func (s *Sim) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = nil
}

// Faults returns the injected faults with their hit counts.
func (s *Sim) Faults() []Fault {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	out := make([]Fault, 0, len(s.faults.faults))
	for _, f := range s.faults.faults {
		out = append(out, *f)
	}
	return out
}

// take returns the first fault matching the request and counts the hit.
func (fs *faultSet) take(r *http.Request) *Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if !strings.HasPrefix(r.URL.Path, f.PathPrefix) {
			continue
		}
		f.Hits++
		hit := *f
		if f.Count > 0 && f.Hits >= f.Count {
			fs.faults = append(fs.faults[:i:i], fs.faults[i+1:]...)
		}
		return &hit
	}
	return nil
}

// applyFaults answers the request with an injected fault; it reports whether serving
// should continue. A lost response serves the request through next first.
func (s *Sim) applyFaults(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
	f := s.faults.take(r)
	if f == nil {
		return true
	}
	switch f.Kind {
	case FaultLatency:
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return false
		}
		return true
	case FaultRateLimit:
		setRateHeaders(w, s.limits.perWindow, 0, s.now().Add(f.ResetAfter))
		writeError(w, errRateLimited())
	case FaultLostResponse:
		next.ServeHTTP(discardResponse{header: http.Header{}}, r)
		writeError(w, newAPIError(f.Status, CodeServerError, "Bad Gateway",
			"injected fault "+f.ID+" (the request was served)"))
	default:
		writeError(w, newAPIError(f.Status, CodeServerError, "Internal Server Error",
			"injected fault "+f.ID))
	}
	return false
}

// discardResponse is a ResponseWriter whose answer nobody reads.
type discardResponse struct{ header http.Header }

func (d discardResponse) Header() http.Header         { return d.header }
func (d discardResponse) Write(b []byte) (int, error) { return len(b), nil }
func (d discardResponse) WriteHeader(int)             {}
