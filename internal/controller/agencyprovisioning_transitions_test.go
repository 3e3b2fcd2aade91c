package controller

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
)

func TestRecordTransitions_AStaleCopyDoesNotAnnounceATransitionAgain(t *testing.T) {
	authed := metav1.Condition{Type: scimv1alpha1.ConditionOktaAuthenticated, Status: metav1.ConditionTrue,
		Reason: scimv1alpha1.ReasonSucceeded, Message: "Okta accepted the API token"}
	revoked := metav1.Condition{Type: scimv1alpha1.ConditionOktaAuthenticated, Status: metav1.ConditionFalse,
		Reason: scimv1alpha1.ReasonInvalidCredentials, Message: "Okta rejected the API token"}
	tests := []struct {
		name string
		// steps are reconciles: the conditions read from the cache, and the ones computed.
		steps [][2][]metav1.Condition
		want  int
	}{
		{name: "a transition is announced once", want: 1,
			steps: [][2][]metav1.Condition{{nil, {authed}}}},
		{name: "a reconcile that read the copy from before the last patch announces nothing", want: 1,
			steps: [][2][]metav1.Condition{{nil, {authed}}, {nil, {authed}}}},
		{name: "a change back and forth is announced each time", want: 3,
			steps: [][2][]metav1.Condition{{nil, {authed}}, {{authed}, {revoked}}, {{revoked}, {authed}}}},
		{name: "a stale copy after a change back is still quiet", want: 2,
			steps: [][2][]metav1.Condition{{nil, {authed}}, {{authed}, {revoked}}, {{authed}, {revoked}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got notes
			r := &AgencyProvisioningReconciler{Recorder: &got}
			for _, st := range tt.steps {
				ap := newAgency("ns", "transitions")
				ap.UID = types.UID("uid-1")
				ap.Status.Conditions = st[1]
				r.recordTransitions(t.Context(), st[0], ap)
			}
			if len(got) != tt.want {
				t.Fatalf("recorded %d Events %q, want %d", len(got), got, tt.want)
			}
		})
	}
}

func TestFinishStatus_AStaleCopyDoesNotOverwriteNewerStatus(t *testing.T) {
	ctx := t.Context()
	ap := createAgency(t, newAgency(newNamespace(t), "stale-status"))
	stale := ap.DeepCopy()

	// The first reconcile's patch: the objects it created in Okta.
	fresh := ap.DeepCopy()
	fresh.Status.Okta.CreatedObjects = []scimv1alpha1.OktaObjectRef{
		{Kind: OktaKindSAMLApp, ID: "0oasaml"}, {Kind: OktaKindGroupAssignment, ID: "00gpatrol"}}
	if err := k8sClient.Status().Patch(ctx, fresh, client.MergeFrom(ap)); err != nil {
		t.Fatal(err)
	}

	// A second reconcile read the copy from before that patch and computed a shorter list.
	r := &AgencyProvisioningReconciler{Client: k8sClient}
	computed := stale.DeepCopy()
	computed.Status.Okta.CreatedObjects = []scimv1alpha1.OktaObjectRef{{Kind: OktaKindSAMLApp, ID: "0oasaml"}}
	err := r.finishStatus(ctx, stale, computed, nil)
	if !apierrors.IsConflict(err) {
		t.Fatalf("finishStatus of a stale copy = %v, want a conflict (and a retry with a fresh copy)", err)
	}
	var got scimv1alpha1.AgencyProvisioning
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(ap), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Status.Okta.CreatedObjects) != 2 {
		t.Fatalf("createdObjects = %+v: the stale reconcile overwrote them", got.Status.Okta.CreatedObjects)
	}
}

// staleReads answers Gets of AgencyProvisionings with a copy from before later writes, as a
// lagging cache does.
type staleReads struct {
	client.Client
	stale *scimv1alpha1.AgencyProvisioning
}

func (s staleReads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if ap, ok := obj.(*scimv1alpha1.AgencyProvisioning); ok && key == client.ObjectKeyFromObject(s.stale) {
		s.stale.DeepCopyInto(ap)
		return nil
	}
	return s.Client.Get(ctx, key, obj, opts...)
}

func TestReconcile_AStaleCopyRunsAgainQuietly(t *testing.T) {
	ctx := t.Context()
	ap := createAgency(t, newAgency(newNamespace(t), "stale-reconcile"))
	fresh := ap.DeepCopy()
	fresh.Status.Okta.CreatedObjects = []scimv1alpha1.OktaObjectRef{{Kind: OktaKindSAMLApp, ID: "0oasaml"}}
	if err := k8sClient.Status().Patch(ctx, fresh, client.MergeFrom(ap)); err != nil {
		t.Fatal(err)
	}

	r := &AgencyProvisioningReconciler{Client: staleReads{Client: k8sClient, stale: ap}, Scheme: testScheme,
		ScimServerImage: testImage}
	res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ap)})
	if err != nil || res.RequeueAfter != conflictRequeue {
		t.Fatalf("Reconcile of a stale copy = %+v, %v; want a quiet rerun after %s", res, err, conflictRequeue)
	}
}
