package scim

import (
	"encoding/json"
	"net/http"
)

// ContentType is the media type of every response body.
const ContentType = "application/scim+json"

// writeJSON is the one place that writes a response body and sets ContentType.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own types reach here; a marshal failure is a programming error.
		status = http.StatusInternalServerError
		body, _ = json.Marshal((&Error{Status: status, Detail: "internal error"}).body())
	}
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError answers with err as a SCIM error body and notes it for the request log.
func writeError(w http.ResponseWriter, err error) {
	e := asError(err)
	if rec, ok := w.(*recorder); ok {
		rec.err = e
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description=`+quoteHeader(e.Detail))
	}
	writeJSON(w, e.Status, e.body())
}

// quoteHeader quotes s for a header parameter, keeping printable ASCII only.
func quoteHeader(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s) && i < 300; i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c >= 0x20 && c < 0x7f:
			b = append(b, c)
		default:
			b = append(b, '?')
		}
	}
	return string(append(b, '"'))
}
