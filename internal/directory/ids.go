package directory

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// newID returns a random (version 4) UUID in its usual text form.
func newID() string {
	var b [16]byte
	// crypto/rand.Read never fails on supported platforms (it panics rather than return).
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// badID reports whether id cannot name anything: it holds U+0000 or is not UTF-8 (a path such
// as /Users/%FF). PostgreSQL refuses such text, so it is answered before reaching the database.
func badID(id string) bool {
	return strings.ContainsRune(id, 0) || !utf8.ValidString(id)
}
