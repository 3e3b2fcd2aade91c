package controller

import (
	"fmt"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/runtime"
)

// maxEventNote is the longest note the API server accepts on an events.k8s.io Event, in bytes.
// A longer one is refused outright, so the Event would be lost.
const maxEventNote = 1024

// BoundedNotes returns a recorder that shortens every note to what the API server accepts,
// ending a shortened one with "…". Condition messages can be longer than an Event note (the
// manual step lists every value to enter); the whole message stays in the condition.
func BoundedNotes(r EventRecorder) EventRecorder {
	return boundedNotes{r}
}

type boundedNotes struct {
	EventRecorder
}

// Eventf implements EventRecorder.
func (b boundedNotes) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	b.EventRecorder.Eventf(regarding, related, eventtype, reason, action, "%s", boundNote(fmt.Sprintf(note, args...)))
}

// boundNote cuts s to at most maxEventNote bytes, at a character boundary.
func boundNote(s string) string {
	return boundTo(s, maxEventNote)
}

// boundTo cuts s to at most n bytes, at a character boundary, ending a cut one with "…".
func boundTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const more = "…"
	cut := n - len(more)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + more
}
