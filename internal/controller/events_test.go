package controller

import (
	"strings"
	"testing"
	"unicode/utf8"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestBoundedNotes_KeepsNotesTheAPIServerAccepts(t *testing.T) {
	tests := []struct {
		name   string
		format string
		args   []any
		want   string
	}{
		{name: "short note is formatted and kept", format: "%s is %s", args: []any{"Ready", "True"},
			want: "Ready is True"},
		{name: "note of exactly the limit is kept", format: "%s", args: []any{strings.Repeat("a", 1024)},
			want: strings.Repeat("a", 1024)},
		{name: "longer note is cut and marked", format: "%s", args: []any{strings.Repeat("a", 3000)},
			want: strings.Repeat("a", 1021) + "…"},
		{name: "cut never splits a character", format: "x%s", args: []any{strings.Repeat("é", 600)},
			want: "x" + strings.Repeat("é", 510) + "…"},
		{name: "percent signs in arguments stay literal", format: "%s", args: []any{"100%s done"},
			want: "100%s done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got notes
			BoundedNotes(&got).Eventf(nil, nil, "Normal", "Reason", "Action", tt.format, tt.args...)
			note, ok := strings.CutPrefix(strings.Join(got, "\n"), "Normal Reason ")
			if len(got) != 1 || !ok || note != tt.want {
				t.Fatalf("recorded %q, want the note %q", got, tt.want)
			}
			if len(note) > maxEventNote || !utf8.ValidString(note) {
				t.Fatalf("note of %d bytes (valid UTF-8: %t) would be refused", len(note), utf8.ValidString(note))
			}
		})
	}
}

func TestBoundedNotes_TheAPIServerAcceptsALongConditionMessage(t *testing.T) {
	g := NewWithT(t)
	ap := createAgency(t, newAgency(newNamespace(t), "long-note"))
	long := "ManualStepRequired: " + strings.Repeat("enter this value; ", 200)
	suiteRecorder.Eventf(ap, nil, corev1.EventTypeWarning, "LongNoteTest", "Reconcile", "%s", long)
	g.Eventually(func() string {
		var list eventsv1.EventList
		if err := k8sClient.List(t.Context(), &list, client.InNamespace(ap.Namespace)); err != nil {
			return err.Error()
		}
		for _, e := range list.Items {
			if e.Reason == "LongNoteTest" {
				return e.Note
			}
		}
		return ""
	}, eventually, poll).Should(Equal(long[:maxEventNote-len("…")] + "…"))
}
