package scim

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// jsonWriter appends JSON to a buffer without reflection, for the representations every list
// response holds many of. It writes what encoding/json writes for the same values, including
// its escaping of <, > and & and of U+2028 and U+2029; the tests compare the two.
type jsonWriter struct {
	b []byte
	// comma is set after a value, so the next member or element is preceded by one.
	comma bool
}

func (w *jsonWriter) sep() {
	if w.comma {
		w.b = append(w.b, ',')
	}
}

// begin opens an object ('{') or an array ('[').
func (w *jsonWriter) begin(c byte) {
	w.sep()
	w.b = append(w.b, c)
	w.comma = false
}

// end closes what begin opened.
func (w *jsonWriter) end(c byte) {
	w.b = append(w.b, c)
	w.comma = true
}

// key writes a member's name; k must need no escaping.
func (w *jsonWriter) key(k string) {
	w.sep()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	w.comma = false
}

// rawKey writes a member's name that is already a JSON string.
func (w *jsonWriter) rawKey(k []byte) {
	w.sep()
	w.b = append(w.b, k...)
	w.b = append(w.b, ':')
	w.comma = false
}

func (w *jsonWriter) str(v string) {
	w.sep()
	w.b = appendJSONString(w.b, v)
	w.comma = true
}

func (w *jsonWriter) boolean(v bool) {
	w.sep()
	if v {
		w.b = append(w.b, "true"...)
	} else {
		w.b = append(w.b, "false"...)
	}
	w.comma = true
}

// concat writes the string made of parts, without building it first.
func (w *jsonWriter) concat(parts ...string) {
	w.sep()
	w.b = append(w.b, '"')
	for _, p := range parts {
		w.b = appendEscaped(w.b, p)
	}
	w.b = append(w.b, '"')
	w.comma = true
}

// time writes t in UTC as RFC 3339 with as many fractional digits as it needs, as
// t.UTC().Format(time.RFC3339Nano) would; no character of that form needs escaping.
func (w *jsonWriter) time(t time.Time) {
	w.sep()
	w.b = append(w.b, '"')
	w.b = t.UTC().AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
	w.comma = true
}

// etag writes the weak entity tag of version as directory.Meta.ETag does, escaped.
func (w *jsonWriter) etag(version int64) {
	w.sep()
	w.b = append(w.b, `"W/\"`...)
	w.b = strconv.AppendInt(w.b, version, 10)
	w.b = append(w.b, `\""`...)
	w.comma = true
}

// field writes a string member.
func (w *jsonWriter) field(k, v string) {
	w.key(k)
	w.str(v)
}

// optional writes a string member unless v is empty (omitempty).
func (w *jsonWriter) optional(k, v string) {
	if v != "" {
		w.field(k, v)
	}
}

// flag writes a boolean member only when it is true (omitempty).
func (w *jsonWriter) flag(k string, v bool) {
	if v {
		w.key(k)
		w.boolean(true)
	}
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as encoding/json escapes it: quotes,
// backslashes and control characters; <, > and & as \u00XX; invalid UTF-8 as \ufffd; and
// U+2028 and U+2029, which some JavaScript parsers take for line ends.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// appendEscaped appends s escaped as appendJSONString does, without the quotes.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}
