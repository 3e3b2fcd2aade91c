package scim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
)

// ContentType is the media type of every response body.
const ContentType = "application/scim+json"

// writeJSON encodes v and writes it with writeRaw.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own types reach here; a marshal failure is a programming error.
		status = http.StatusInternalServerError
		body, _ = json.Marshal((&Error{Status: status, Detail: "internal error"}).body())
	}
	writeRaw(w, status, body)
}

// writeRaw is the one place that writes a response body and sets ContentType. body is JSON
// the server rendered itself.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// listBuffers keeps the buffers of list responses for the next ones; a buffer is free again
// once its response is written.
var listBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledList bounds the buffers listBuffers keeps, so one large page does not pin its
// memory.
const maxPooledList = 64 << 10

// appendFunc appends the i-th resource of a list to b.
type appendFunc func(b []byte, i int) ([]byte, error)

// writeList writes a ListResponse of n resources, which add appends in turn to the one buffer
// the response is written from.
func writeList(w http.ResponseWriter, total, startIndex, n int, add appendFunc) {
	buf := listBuffers.Get().(*[]byte)
	b := append((*buf)[:0], `{"schemas":["`+schemaListResp+`"],"totalResults":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"startIndex":`...)
	b = strconv.AppendInt(b, int64(startIndex), 10)
	b = append(b, `,"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `,"Resources":[`...)
	var err error
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = add(b, i); err != nil {
			writeError(w, err)
			return
		}
	}
	b = append(b, "]}"...)
	writeRaw(w, http.StatusOK, b)
	if cap(b) <= maxPooledList {
		*buf = b
		listBuffers.Put(buf)
	}
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
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterSeconds)
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
