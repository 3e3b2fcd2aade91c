package scim

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/provisioning-dev/scim-operator/internal/auth"
)

// recorder remembers what a handler answered, for metrics, logs and the report.
type recorder struct {
	http.ResponseWriter
	status  int
	written bool
	claims  *auth.Claims
	err     *Error
}

func (r *recorder) WriteHeader(status int) {
	if r.written {
		return
	}
	r.status, r.written = status, true
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.written {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter {
	return r.ResponseWriter
}

// finish returns the function that closes a request: it turns a panic into a 500, counts
// the request, logs it without personal data and notes an authenticated client.
func (s *Server) finish(rec *recorder, r *http.Request, rt route) func() {
	start := time.Now()
	return func() {
		if p := recover(); p != nil {
			if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(p)
			}
			s.logger.LogAttrs(r.Context(), slog.LevelError, "Handler panicked", slog.String("resource", rt.resource),
				slog.String("method", r.Method), slog.Any("panic", p))
			if !rec.written {
				writeError(rec, &Error{Status: http.StatusInternalServerError, Detail: "internal error"})
			}
		}
		elapsed := time.Since(start)
		if s.monitor != nil {
			s.monitor.observe(rt.resource, r.Method, rec.status, elapsed)
			s.monitor.refused(rt.resource, r.Method, rec.err)
			if rec.claims != nil {
				s.monitor.authenticated(rec.claims, r.Method, s.logPath(rt), rec.status)
			}
		}
		level := slog.LevelDebug
		if rec.status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
		if !s.logger.Enabled(r.Context(), level) {
			return
		}
		attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", s.logPath(rt)),
			slog.Int("status", rec.status), slog.Duration("duration", elapsed)}
		if rec.claims != nil {
			attrs = append(attrs, slog.String("client", rec.claims.ClientID))
		}
		if rec.err != nil {
			attrs = append(attrs, slog.String("scimType", rec.err.ScimType))
			if rec.err.Status >= http.StatusInternalServerError && rec.err.Err != nil {
				attrs = append(attrs, slog.String("error", rec.err.Err.Error()))
			}
		}
		s.logger.LogAttrs(r.Context(), level, "SCIM request", attrs...)
	}
}

// logPath is the request path without the query (filters hold user names): resource and id.
func (s *Server) logPath(rt route) string {
	switch {
	case rt.resource == "unknown":
		return "unknown"
	case rt.search:
		return "/" + rt.resource + "/.search"
	case rt.id != "":
		return "/" + rt.resource + "/" + rt.id
	default:
		return "/" + rt.resource
	}
}
