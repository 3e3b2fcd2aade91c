package controller

import (
	"strings"
	"testing"
	"unicode/utf8"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
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

// TestRecordTransitions_EachConditionKeepsItsOwnNote: Ready takes the reason of the condition
// it summarises, so two transitions in one reconcile share type and reason. The events.k8s.io
// recorder folds Events with the same type, reason and action into one series that shows the
// first note only; with the condition as the action, both notes reach kubectl describe.
func TestRecordTransitions_EachConditionKeepsItsOwnNote(t *testing.T) {
	g := NewWithT(t)
	ap := createAgency(t, newAgency(newNamespace(t), "two-notes"))
	missing := scimv1alpha1.ReasonCredentialsSecretMissing
	ap.Status.Conditions = []metav1.Condition{
		{Type: scimv1alpha1.ConditionOktaAuthenticated, Status: metav1.ConditionFalse, Reason: missing,
			Message: `Secret "okta" does not exist`},
		{Type: scimv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: missing,
			Message: `OktaAuthenticated: Secret "okta" does not exist`},
	}
	r := &AgencyProvisioningReconciler{Recorder: suiteRecorder}
	r.recordTransitions(t.Context(), nil, ap)
	g.Eventually(func() []string {
		var list eventsv1.EventList
		if err := k8sClient.List(t.Context(), &list, client.InNamespace(ap.Namespace)); err != nil {
			return []string{err.Error()}
		}
		var notes []string
		for _, e := range list.Items {
			if e.Reason == missing && e.Regarding.Name == ap.Name {
				notes = append(notes, e.Action+": "+e.Note)
			}
		}
		return notes
	}, eventually, poll).Should(ConsistOf(
		`OktaAuthenticated: OktaAuthenticated is False: Secret "okta" does not exist`,
		`Ready: Ready is False: OktaAuthenticated: Secret "okta" does not exist`,
	))
}

// TestScimUserMapping_TransitionsAreEvents: a mapping whose agency does not exist yet says so
// in Events, as an AgencyProvisioning does, once per transition.
func TestScimUserMapping_TransitionsAreEvents(t *testing.T) {
	ns := newNamespace(t)
	sum := &scimv1alpha1.ScimUserMapping{
		ObjectMeta: metav1.ObjectMeta{Name: "early-map", Namespace: ns},
		Spec: scimv1alpha1.ScimUserMappingSpec{
			AgencyProvisioningRef: scimv1alpha1.LocalObjectRef{Name: "not-yet"},
			Attributes:            []scimv1alpha1.CustomAttribute{{DisplayName: "Badge ID", VariableName: "badgeId"}},
		},
	}
	if err := k8sClient.Create(t.Context(), sum); err != nil {
		t.Fatal(err)
	}
	var got notes
	r := &ScimUserMappingReconciler{Client: k8sClient, Scheme: testScheme, Recorder: &got}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(sum)}
	for range 2 {
		if _, err := r.Reconcile(t.Context(), req); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		`Warning WaitingForAgency SchemaSynced is False: AgencyProvisioning "not-yet" (spec.agencyProvisioningRef) ` +
			`does not exist in namespace "` + ns + `"`,
		`Warning WaitingForAgency MappingsSynced is False: AgencyProvisioning "not-yet" ` +
			`(spec.agencyProvisioningRef) does not exist in namespace "` + ns + `"`,
		`Warning WaitingForAgency Ready is False: SchemaSynced: AgencyProvisioning "not-yet" ` +
			`(spec.agencyProvisioningRef) does not exist in namespace "` + ns + `"`,
	}
	NewWithT(t).Expect(got).To(ConsistOf(want), "two reconciles, one Event per condition")
}
