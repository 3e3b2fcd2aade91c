package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/provisioning-dev/scim-operator/internal/directory"
)

func TestWriteError_MapsCausesToStatusAndHeaders(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		scimType   string
		detail     string
		retryAfter string
	}{
		{
			name:       "a store past the request deadline is 503 with Retry-After",
			err:        fmt.Errorf("list users: %w", context.DeadlineExceeded),
			status:     http.StatusServiceUnavailable,
			detail:     "the directory did not answer in time; retry later",
			retryAfter: retryAfterSeconds,
		},
		{
			name:       "a write the database rolled back for a concurrent one is 503 with Retry-After",
			err:        fmt.Errorf("patch group: %w: deadlock detected", directory.ErrConcurrentWrite),
			status:     http.StatusServiceUnavailable,
			detail:     "a concurrent write conflicted with this one and nothing was written; send it again",
			retryAfter: retryAfterSeconds,
		},
		{
			name:   "a store failure is 500 and reveals nothing",
			err:    errors.New("disk I/O error at /var/lib/scim/scim.db"),
			status: http.StatusInternalServerError,
			detail: "internal error",
		},
		{
			name:   "a cancelled request is not the store being slow",
			err:    fmt.Errorf("list users: %w", context.Canceled),
			status: http.StatusInternalServerError,
			detail: "internal error",
		},
		{
			name:     "a uniqueness conflict names its field",
			err:      &directory.Error{Kind: directory.KindUniqueness, Field: "userName", Detail: "already taken"},
			status:   http.StatusConflict,
			scimType: scimTypeUniqueness,
			detail:   "userName: already taken",
		},
		{
			name:   "an Error passes through unchanged",
			err:    fmt.Errorf("wrapped: %w", newError(http.StatusForbidden, "", "not served")),
			status: http.StatusForbidden,
			detail: "not served",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			writeError(w, tt.err)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
			if got := w.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
			if got := w.Header().Get("Content-Type"); got != ContentType {
				t.Errorf("Content-Type %q, want %q", got, ContentType)
			}
			var body errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			want := errorBody{Schemas: []string{errorSchema}, Status: fmt.Sprint(tt.status), ScimType: tt.scimType,
				Detail: tt.detail}
			if fmt.Sprint(body) != fmt.Sprint(want) {
				t.Errorf("body %+v, want %+v", body, want)
			}
		})
	}
}
