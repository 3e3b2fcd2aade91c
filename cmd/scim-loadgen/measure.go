package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// stats summarises one phase.
type stats struct {
	Requests int
	Errors   int
	Elapsed  time.Duration
	P50, P99 time.Duration
	lat      []time.Duration // sorted, for merging slices
}

// merge combines slices of one measurement taken at different times: requests and elapsed
// time add up, percentiles are over all the latencies.
func merge(parts ...stats) stats {
	var lat []time.Duration
	var errs int
	var elapsed time.Duration
	for _, p := range parts {
		lat = append(lat, p.lat...)
		errs += p.Errors
		elapsed += p.Elapsed
	}
	return summarise(lat, errs, elapsed)
}

func (s stats) rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Requests) / s.Elapsed.Seconds()
}

func (s stats) String() string {
	return fmt.Sprintf("%d req in %.1fs = %.0f req/s, p50 %s, p99 %s, errors %d", s.Requests, s.Elapsed.Seconds(),
		s.rate(), ms(s.P50), ms(s.P99), s.Errors)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func summarise(lat []time.Duration, errors int, elapsed time.Duration) stats {
	slices.Sort(lat)
	s := stats{Requests: len(lat), Errors: errors, Elapsed: elapsed, lat: lat}
	if len(lat) > 0 {
		s.P50 = lat[len(lat)*50/100]
		s.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return s
}

// openLoopInFlight bounds the open loop's requests in flight.
const openLoopInFlight = 256

// request builds one request of a workload; i is a per-worker sequence number.
type request func(worker, i int) (*http.Request, int)

// client sends requests with keep-alive connections, one per worker.
type client struct {
	http  *http.Client
	token string
}

func newClient(concurrency int, token string) *client {
	// Room for the open loop's bursts: a connection closed for want of an idle slot would make
	// the next request pay a new handshake, which is the load generator's cost, not the server's.
	idle := max(concurrency*2, openLoopInFlight)
	tr := &http.Transport{MaxIdleConns: idle, MaxIdleConnsPerHost: idle, IdleConnTimeout: time.Minute}
	return &client{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, token: token}
}

func (c *client) do(req *http.Request, want int) (time.Duration, bool) {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return time.Since(start), false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return time.Since(start), resp.StatusCode == want
}

// closedLoop runs workers that each send the next request as soon as the last one answered,
// for d or until n requests were sent (n > 0).
func (c *client) closedLoop(ctx context.Context, workers int, d time.Duration, n int, next request) stats {
	var (
		mu     sync.Mutex
		all    []time.Duration
		errs   int
		issued atomic.Int64
		wg     sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			e := 0
			for i := 0; ctx.Err() == nil; i++ {
				if n > 0 {
					if issued.Add(1) > int64(n) {
						break
					}
				} else if time.Now().After(deadline) {
					break
				}
				req, want := next(w, i)
				l, ok := c.do(req, want)
				lat = append(lat, l)
				if !ok {
					e++
				}
			}
			mu.Lock()
			all = append(all, lat...)
			errs += e
			mu.Unlock()
		}()
	}
	wg.Wait()
	return summarise(all, errs, time.Since(start))
}

// openLoop sends requests at a fixed rate for d, whatever the answers' pace, and measures
// each latency from the moment the request was due, so a stall counts for every request it
// delays (no coordinated omission).
func (c *client) openLoop(ctx context.Context, rate float64, d time.Duration, next request) stats {
	interval := time.Duration(float64(time.Second) / rate)
	var (
		mu   sync.Mutex
		all  []time.Duration
		errs int
		wg   sync.WaitGroup
	)
	start := time.Now()
	total := int(rate * d.Seconds())
	sem := make(chan struct{}, openLoopInFlight)
	for i := 0; i < total && ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			req, want := next(0, i)
			_, ok := c.do(req, want)
			l := time.Since(due)
			mu.Lock()
			all = append(all, l)
			if !ok {
				errs++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return summarise(all, errs, time.Since(start))
}

func mustRequest(method, url, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		panic(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	return req
}
