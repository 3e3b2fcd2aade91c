package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/provisioning-dev/scim-operator/internal/auth"
	"github.com/provisioning-dev/scim-operator/internal/directory"
	"github.com/provisioning-dev/scim-operator/internal/scim"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// Timeouts of the servers and of shutting down.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 25 * time.Second
	storeRetry        = 2 * time.Second
	probeTimeout      = 2 * time.Second
)

func loadConfig(path string) (*scimconfig.Config, error) {
	cfg, err := scimconfig.Load(path)
	if err != nil {
		// One line: the key and what is wrong with it.
		return nil, errors.New(strings.ReplaceAll(err.Error(), "\n", " "))
	}
	// Lookup names the directory would refuse from a client stop the program here, instead
	// of failing every attempt to open the store.
	if err := directory.RulesFromConfig(cfg).Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	if err := scim.CheckExtensionSchema(cfg.ExtensionSchema); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	return cfg, nil
}

// serve runs the metrics listener at once (so /healthz answers and /readyz says why it is not
// ready), opens the store, retrying until it answers, then serves the SCIM API until ctx ends.
func serve(ctx context.Context, cfg *scimconfig.Config, logger *slog.Logger, profiles bool) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	monitor, err := scim.NewMonitor(reg)
	if err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	state := newStoreState(cfg.Database)
	mux := metricsMux(cfg, reg, monitor, state)
	if profiles {
		// Off by default: profiles show internals, and the metrics port is cluster-internal.
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	}
	metricsSrv := newServer(cfg.MetricsAddress, mux)
	metricsLn, err := net.Listen("tcp", cfg.MetricsAddress)
	if err != nil {
		return fmt.Errorf("listen on metricsAddress %s: %w", cfg.MetricsAddress, err)
	}
	errc := make(chan error, 2)
	go func() { errc <- ignoreClosed(metricsSrv.Serve(metricsLn)) }()
	logger.Info("Metrics listening", "address", metricsLn.Addr().String())
	defer shutdown(metricsSrv, logger, "metrics")

	store, err := openStore(ctx, cfg, logger, state)
	if err != nil {
		return err
	}
	state.set(store)
	defer func() {
		if err := store.Close(); err != nil {
			logger.Error("Closing the directory failed", "error", err)
		}
	}()

	verifier, err := auth.NewVerifier(
		cfg.OktaOrgURL,
		auth.WithAudience(cfg.Audience),
		auth.WithClientIDs(cfg.ClientIDs...),
	)
	if err != nil {
		return err
	}
	api, err := scim.New(cfg, store, verifier, scim.WithLogger(logger), scim.WithMonitor(monitor))
	if err != nil {
		return err
	}
	apiSrv := newServer(cfg.ListenAddress, api.Handler())
	apiLn, err := net.Listen("tcp", cfg.ListenAddress)
	if err != nil {
		return fmt.Errorf("listen on listenAddress %s: %w", cfg.ListenAddress, err)
	}
	if cfg.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
		if err != nil {
			_ = apiLn.Close()
			return fmt.Errorf("tls: %w", err)
		}
		apiLn = tls.NewListener(apiLn, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	go func() { errc <- ignoreClosed(apiSrv.Serve(apiLn)) }()
	logger.Info("SCIM API listening", "address", apiLn.Addr().String(), "basePath", scim.BasePath(cfg.AgencyID),
		"syncMode", cfg.SyncMode, "tls", cfg.TLS.CertFile != "")

	select {
	case <-ctx.Done():
		logger.Info("Shutting down, finishing in-flight requests")
	case err := <-errc:
		return err
	}
	// In-flight requests finish before the store closes (deferred above, so it runs after).
	shutdown(apiSrv, logger, "SCIM API")
	return nil
}

func newServer(addr string, h http.Handler) *http.Server {
	return &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: 64 << 10}
}

func shutdown(srv *http.Server, logger *slog.Logger, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Error("Shutdown did not finish", "server", name, "error", err)
	}
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// openStore opens the directory, retrying while the database does not answer; each failure is
// recorded in state for the report.
func openStore(ctx context.Context, cfg *scimconfig.Config, logger *slog.Logger,
	state *storeState) (directory.Store, error) {
	for {
		store, err := directory.Open(ctx, cfg.Database, directory.RulesFromConfig(cfg), directory.WithLogger(logger))
		if err == nil {
			state.answered()
			return store, nil
		}
		state.failed(err)
		logger.Error("Opening the directory failed; retrying", "error", err, "retryIn", storeRetry.String())
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(storeRetry):
		}
	}
}

// storeState holds the store once it is open, for the probes and the report, and why it last
// failed to open or to answer.
type storeState struct {
	v atomic.Value // directory.Store

	// password is the database URL's password, never shown in a problem's message.
	password string
	mu       sync.Mutex
	problem  *scimconfig.StoreProblem
}

// maxProblemMessage bounds a store error in the report (the operator puts it in a condition).
const maxProblemMessage = 1024

func newStoreState(databaseURL string) *storeState {
	s := &storeState{}
	if u, err := url.Parse(databaseURL); err == nil && u.User != nil {
		s.password, _ = u.User.Password()
	}
	return s
}

// failed records a store error: MigrationFailed for a schema migration the database refused,
// else StoreUnreachable. A problem keeps the time it began while its reason stays the same.
func (s *storeState) failed(err error) {
	reason := scimconfig.StoreUnreachable
	var migration *directory.MigrationError
	if errors.As(err, &migration) {
		reason = scimconfig.MigrationFailed
	}
	msg := err.Error()
	if s.password != "" {
		msg = strings.ReplaceAll(msg, s.password, "xxxxx")
	}
	if len(msg) > maxProblemMessage {
		msg = strings.ToValidUTF8(msg[:maxProblemMessage], "") + "..."
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.problem == nil || s.problem.Reason != reason {
		s.problem = &scimconfig.StoreProblem{Reason: reason, Since: time.Now().UTC()}
	}
	s.problem.Message = msg
}

// answered records that the store opened or answered: the problem is over.
func (s *storeState) answered() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problem = nil
}

// current returns a copy of the store's problem, nil when there is none.
func (s *storeState) current() *scimconfig.StoreProblem {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.problem == nil {
		return nil
	}
	p := *s.problem
	return &p
}

func (s *storeState) set(st directory.Store) { s.v.Store(st) }

// get returns the store, or nil before it is open.
func (s *storeState) get() directory.Store {
	st, _ := s.v.Load().(directory.Store)
	return st
}

// probeError says that the store did not answer a probe in time, rather than only "context
// deadline exceeded", for the report's store message.
func probeError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the directory did not answer within %s: %w", probeTimeout, err)
	}
	return err
}

func metricsMux(
	cfg *scimconfig.Config,
	reg *prometheus.Registry,
	monitor *scim.Monitor,
	state *storeState,
) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		st := state.get()
		if st == nil {
			http.Error(w, "directory not open yet", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), probeTimeout)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			if r.Context().Err() == nil {
				state.failed(probeError(err))
			}
			http.Error(w, "directory unreachable", http.StatusServiceUnavailable)
			return
		}
		state.answered()
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET "+scimconfig.ReportPath, func(w http.ResponseWriter, r *http.Request) {
		var counter scim.Counter
		if st := state.get(); st != nil {
			counter = st
		}
		// The operator reads the report with a short timeout: a database that stops answering
		// must not hold the report, which is how the operator learns of it.
		ctx, cancel := context.WithTimeout(r.Context(), probeTimeout)
		defer cancel()
		report, err := monitor.Report(ctx, cfg.AgencyID, counter)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case err != nil && r.Context().Err() == nil:
			state.failed(probeError(err))
		case err == nil && counter != nil:
			state.answered()
		}
		if err != nil || counter == nil {
			// The report is still useful without counts; say they are missing.
			report.CountsUnavailable = true
			w.Header().Set("X-Report-Partial", "counts unavailable")
		}
		report.Store = state.current()
		_ = json.NewEncoder(w).Encode(report)
	})
	return mux
}
