package okta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// orgGate is shared by every client of one org: it holds requests back until a rate-limit
// reset Okta announced, and bounds how many requests are in flight at once.
type orgGate struct {
	mu           sync.Mutex
	blockedUntil time.Time
	limit        string
	slots        chan struct{}
}

func newOrgGate(concurrency int) *orgGate {
	return &orgGate{slots: make(chan struct{}, max(concurrency, 1))}
}

// block records that the org refuses requests until reset.
func (g *orgGate) block(until time.Time, limit string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.blockedUntil) {
		g.blockedUntil = until
		g.limit = limit
	}
}

func (g *orgGate) blocked() (time.Time, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.blockedUntil, g.limit
}

func (g *orgGate) acquire(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *orgGate) release() { <-g.slots }

// transport is the http.RoundTripper under the SDK. It gives each attempt a timeout, waits out
// 429s up to a bound (then answers *RateLimitError), retries 5xx with exponential backoff, and
// turns network failures into *UnreachableError. The SDK's own 429 retry is switched off.
// A POST is never retried after it reached Okta: see retriableMethod.
type transport struct {
	next        http.RoundTripper
	gate        *orgGate
	callTimeout time.Duration
	maxWait     time.Duration
	maxRetries  int
	backoff     time.Duration
	now         func() time.Time
	sleep       func(ctx context.Context, d time.Duration) error
	// rejected is set once Okta answered 401: the credentials, or the service app's access
	// token the SDK caches, are no longer accepted.
	rejected atomic.Bool
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	deadline := t.now().Add(t.maxWait)
	for attempt := 0; ; attempt++ {
		if err := t.waitForReset(ctx, deadline); err != nil {
			return nil, err
		}
		resp, err := t.attempt(ctx, req, body)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if attempt < t.maxRetries && retriableMethod(req.Method) {
				if err := t.sleep(ctx, t.backoffFor(attempt)); err != nil {
					return nil, err
				}
				continue
			}
			return nil, &UnreachableError{Host: req.URL.Host, Cause: describeNetErr(err, t.callTimeout)}
		}
		t.observeLimits(resp)
		if resp.StatusCode == http.StatusUnauthorized {
			t.rejected.Store(true)
		}
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			drain(resp)
			continue // waitForReset decides whether the reset is within reach
		case resp.StatusCode >= http.StatusInternalServerError && attempt < t.maxRetries &&
			retriableMethod(req.Method):
			drain(resp)
			if err := t.sleep(ctx, t.backoffFor(attempt)); err != nil {
				return nil, err
			}
			continue
		}
		return resp, nil
	}
}

// waitForReset sleeps until the org's announced reset, or fails with *RateLimitError when the
// reset lies beyond the call's wait bound.
func (t *transport) waitForReset(ctx context.Context, deadline time.Time) error {
	until, limit := t.gate.blocked()
	now := t.now()
	if !until.After(now) {
		return nil
	}
	if until.After(deadline) {
		return &RateLimitError{Reset: until, Limit: limit}
	}
	return t.sleep(ctx, until.Sub(now))
}

func (t *transport) attempt(ctx context.Context, req *http.Request, body []byte) (*http.Response, error) {
	if err := t.gate.acquire(ctx); err != nil {
		return nil, err
	}
	defer t.gate.release()
	actx, cancel := context.WithTimeout(ctx, t.callTimeout)
	out := req.Clone(actx)
	if body != nil {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(out)
	observe(req, resp, time.Since(start))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// observeLimits blocks the org when a 429 arrives or the remaining budget hits zero.
func (t *transport) observeLimits(resp *http.Response) {
	reset := resp.Header.Get("X-Rate-Limit-Reset")
	remaining := resp.Header.Get("X-Rate-Limit-Remaining")
	if resp.StatusCode != http.StatusTooManyRequests && remaining != "0" {
		return
	}
	wait := time.Second
	if epoch, err := strconv.ParseInt(reset, 10, 64); err == nil {
		serverNow := t.now()
		if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			serverNow = d
		}
		// Okta counts in whole seconds; one more second keeps us past the reset.
		wait = time.Unix(epoch, 0).Sub(serverNow) + time.Second
	}
	t.gate.block(t.now().Add(max(wait, 0)), resp.Header.Get("X-Rate-Limit-Limit"))
}

func (t *transport) backoffFor(attempt int) time.Duration {
	return t.backoff << attempt
}

// retriableMethod: a request that failed on the network or with a 5xx is retried unless it
// may have created something (POST): a gateway's 502 or 504, even a 503, can hide a create
// Okta completed, and a second create would make a second object. The operator's next
// reconcile finds what a lost answer created (apps and policies by their owner mark, rules by
// name, push mappings by group) before creating anything.
func retriableMethod(method string) bool {
	return method != http.MethodPost
}

func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer func() { _ = req.Body.Close() }()
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	return b, nil
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

func describeNetErr(err error, timeout time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s", timeout)
	}
	return err.Error()
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
