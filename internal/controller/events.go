package controller

import (
	"context"
	"fmt"
	"sync"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
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

// conditionEvents records an Event for each condition transition of an object (status or
// reason changed), once: a reconcile that read a copy from before the last status patch (the
// cache lags) computes the same transitions again, and is quiet. It remembers, per object, the
// status and reason the last Event gave for each condition; after an operator restart the
// next change of each condition is announced.
type conditionEvents struct {
	mu    sync.Mutex
	byKey map[types.NamespacedName]announced
}

type announced struct {
	uid   types.UID
	state map[string]string // condition type -> status/reason
}

// record emits the Events for the transitions from before to after on obj. The condition type
// is each Event's action: the events.k8s.io recorder folds Events with the same type, reason
// and action into one series that shows only the first note, and Ready shares its reason with
// the condition it summarises.
func (e *conditionEvents) record(ctx context.Context, rec EventRecorder, obj client.Object,
	before, after []metav1.Condition) {
	for _, c := range conditionTransitions(before, after) {
		if !e.change(obj, c) {
			continue
		}
		logf.FromContext(ctx).Info("Condition changed", "type", c.Type, "status", c.Status, "reason", c.Reason)
		if rec == nil {
			continue
		}
		eventType := corev1.EventTypeNormal
		if c.Status != metav1.ConditionTrue {
			eventType = corev1.EventTypeWarning
		}
		rec.Eventf(obj, nil, eventType, c.Reason, c.Type, "%s is %s: %s", c.Type, c.Status, c.Message)
	}
}

// change records c and says whether it differs from what was last announced about obj.
func (e *conditionEvents) change(obj client.Object, c metav1.Condition) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	key := client.ObjectKeyFromObject(obj)
	cur, ok := e.byKey[key]
	if !ok || cur.uid != obj.GetUID() {
		cur = announced{uid: obj.GetUID(), state: map[string]string{}}
		if e.byKey == nil {
			e.byKey = map[types.NamespacedName]announced{}
		}
		e.byKey[key] = cur
	}
	state := string(c.Status) + "/" + c.Reason
	if cur.state[c.Type] == state {
		return false
	}
	cur.state[c.Type] = state
	return true
}

// forget drops what was announced about an object that is gone.
func (e *conditionEvents) forget(key types.NamespacedName) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.byKey, key)
}
