package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
)

// FieldOwner is the server-side apply field manager of everything the operator renders.
const FieldOwner = "scim-operator"

// ReasonStoreResizeRefused is the reason of the Warning Event recorded when the SQLite store's
// volume claim cannot grow to spec.scimServer.storage.sqlite.size: its storage class does not
// allow expansion.
const ReasonStoreResizeRefused = "StoreResizeRefused"

// AnnotationOwner on the sqlite volume claim names the AgencyProvisioning it was made for. The
// claim carries no owner reference: the agency's directory outlives the AgencyProvisioning.
const AnnotationOwner = "scim.provisioning.dev/owner"

// reconcileWorkload applies the SCIM server's ConfigMap, store, Deployment, Services, Ingress and
// PodDisruptionBudget, removes the optional ones the spec no longer asks for, and records the
// observed Deployment and store in the scope. It sets no condition; an error stops the reconcile.
func (r *AgencyProvisioningReconciler) reconcileWorkload(ctx context.Context, s *apScope) error {
	ap := s.ap
	cm, checksum, err := renderConfigMap(ap)
	if err != nil {
		return err
	}
	if err := r.applyOwned(ctx, ap, cm); err != nil {
		return err
	}
	if err := r.reconcileStore(ctx, s); err != nil {
		return err
	}
	if err := r.applyOwned(ctx, ap, renderDeployment(ap, r.ScimServerImage, checksum)); err != nil {
		return err
	}
	if err := r.applyOwned(ctx, ap, renderService(ap)); err != nil {
		return err
	}
	if err := r.applyOwned(ctx, ap, renderReportService(ap)); err != nil {
		return err
	}
	if err := r.applyOrDelete(ctx, ap, optional(renderIngress(ap, r.Ingress)), &networkingv1.Ingress{}); err != nil {
		return err
	}
	pdb := optional(renderPodDisruptionBudget(ap))
	if err := r.applyOrDelete(ctx, ap, pdb, &policyv1.PodDisruptionBudget{}); err != nil {
		return err
	}
	ap.Status.ScimEndpoint = scimEndpoint(ap)
	return r.observeDeployment(ctx, s)
}

// reconcileStore creates the sqlite volume claim (and grows it when the spec asks for more),
// or checks that the postgres Secret holds its key; the outcome goes to s.storeProblem.
func (r *AgencyProvisioningReconciler) reconcileStore(ctx context.Context, s *apScope) error {
	if pvc := renderDataClaim(s.ap); pvc != nil {
		return r.reconcileDataClaim(ctx, pvc, s.ap)
	}
	pg := s.ap.Spec.ScimServer.Storage.Postgres
	if pg == nil {
		s.storeProblem = "spec.scimServer.storage.postgres is not set"
		return nil
	}
	var secret corev1.Secret
	key := client.ObjectKey{Namespace: s.ap.Namespace, Name: pg.ConnectionSecretRef.Name}
	if err := r.Get(ctx, key, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			s.storeProblem = fmt.Sprintf("Secret %q named by spec.scimServer.storage.postgres.connectionSecretRef "+
				"does not exist", key.Name)
			return nil
		}
		return fmt.Errorf("get postgres Secret %q: %w", key.Name, err)
	}
	if len(secret.Data[postgresKey(pg)]) == 0 {
		s.storeProblem = fmt.Sprintf("Secret %q has no key %q "+
			"(spec.scimServer.storage.postgres.connectionSecretRef.key)", key.Name, postgresKey(pg))
	}
	return nil
}

// reconcileDataClaim creates the sqlite volume claim, or grows it. A claim's other fields
// cannot change once it exists, so they are left as they are.
func (r *AgencyProvisioningReconciler) reconcileDataClaim(
	ctx context.Context,
	want *corev1.PersistentVolumeClaim,
	owner *scimv1alpha1.AgencyProvisioning,
) error {
	want.Annotations = map[string]string{AnnotationOwner: owner.Name}
	var cur corev1.PersistentVolumeClaim
	err := r.Get(ctx, client.ObjectKeyFromObject(want), &cur)
	if apierrors.IsNotFound(err) {
		return r.createDataClaim(ctx, want)
	}
	if err != nil {
		return fmt.Errorf("get PersistentVolumeClaim %q: %w", want.Name, err)
	}
	wantSize := want.Spec.Resources.Requests[corev1.ResourceStorage]
	curSize := cur.Spec.Resources.Requests[corev1.ResourceStorage]
	// Only a bound claim can grow; binding is an update event that brings us back.
	if wantSize.Cmp(curSize) <= 0 || cur.Status.Phase != corev1.ClaimBound {
		return nil
	}
	grow := cur.DeepCopy()
	grow.Spec.Resources.Requests[corev1.ResourceStorage] = wantSize
	err = r.Patch(ctx, grow, client.MergeFrom(&cur))
	if apierrors.IsInvalid(err) || apierrors.IsForbidden(err) {
		// The storage class cannot expand volumes: retrying will not help, the admin must act.
		r.event(owner, corev1.EventTypeWarning, ReasonStoreResizeRefused, "ResizeStore",
			"PersistentVolumeClaim %s cannot grow to %s: %v", want.Name, wantSize.String(), err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("grow PersistentVolumeClaim %q to %s: %w", want.Name, wantSize.String(), err)
	}
	return nil
}

// createDataClaim creates the sqlite volume claim the cache does not hold. The cache holds only
// claims with the operator's labels, so a claim that lost them (or one an admin made ahead,
// restoring a backup) exists all the same; its spec is not applied over, since an unbound
// claim's spec cannot change, but its labels and owner annotation are put back, which returns
// it to the cache and to the growing above.
func (r *AgencyProvisioningReconciler) createDataClaim(ctx context.Context, want *corev1.PersistentVolumeClaim) error {
	err := r.Create(ctx, want.DeepCopy(), client.FieldOwner(FieldOwner))
	if !apierrors.IsAlreadyExists(err) {
		if err != nil {
			return fmt.Errorf("create PersistentVolumeClaim %q: %w", want.Name, err)
		}
		return nil
	}
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"labels": want.Labels, "annotations": want.Annotations}})
	if err != nil {
		return fmt.Errorf("encode the labels of PersistentVolumeClaim %q: %w", want.Name, err)
	}
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: want.Namespace, Name: want.Name}}
	err = r.Patch(ctx, claim, client.RawPatch(types.MergePatchType, body), client.FieldOwner(FieldOwner))
	if err != nil {
		return fmt.Errorf("label PersistentVolumeClaim %q: %w", want.Name, err)
	}
	// Also right after the create, before the cache has the claim: the patch then changes nothing.
	logf.FromContext(ctx).V(1).Info("Put the operator's labels on the store's volume claim, which the cache "+
		"did not hold", "claim", want.Name)
	return nil
}

// observeDeployment reads the Deployment back, for ScimServerAvailable.
func (r *AgencyProvisioningReconciler) observeDeployment(ctx context.Context, s *apScope) error {
	var dep appsv1.Deployment
	err := r.Get(ctx, client.ObjectKey{Namespace: s.ap.Namespace, Name: ScimServerName(s.ap)}, &dep)
	if apierrors.IsNotFound(err) {
		// The cache has not seen the Deployment yet; its create event brings us back.
		return nil
	}
	if err != nil {
		return fmt.Errorf("get Deployment %q: %w", ScimServerName(s.ap), err)
	}
	s.deployment = &dep
	if status, _, _ := deploymentAvailability(&dep); status == metav1.ConditionTrue {
		return nil // every pod is ready: nothing to explain
	}
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(s.ap.Namespace),
		client.MatchingLabels(selectorLabels(s.ap))); err != nil {
		return fmt.Errorf("list the SCIM server's pods: %w", err)
	}
	s.podProblem = podProblem(pods.Items, time.Now())
	return nil
}

// applyOwned sets ap as the controller of obj and applies it, unless the same configuration
// was applied last and nobody has written the object since (appliedObjects).
func (r *AgencyProvisioningReconciler) applyOwned(
	ctx context.Context,
	ap *scimv1alpha1.AgencyProvisioning,
	obj client.Object,
) error {
	if err := controllerutil.SetControllerReference(ap, obj, r.Scheme); err != nil {
		return fmt.Errorf("set owner of %T %q: %w", obj, obj.GetName(), err)
	}
	u, err := toApplyObject(obj)
	if err != nil {
		return err
	}
	digest, err := applyDigest(u)
	if err != nil {
		return err
	}
	owner, key := client.ObjectKeyFromObject(ap), appliedKeyOf(u)
	cur, ok := obj.DeepCopyObject().(client.Object)
	if ok && r.Get(ctx, key.name, cur) == nil && r.applied.upToDate(owner, key, digest, cur.GetResourceVersion()) {
		return nil
	}
	if err := r.applyUnstructured(ctx, u); err != nil {
		return err
	}
	r.applied.remember(owner, key, digest, u.GetResourceVersion())
	return nil
}

// applyOrDelete applies want when it is not nil, and otherwise deletes the object of the
// same name that a previous spec asked for (empty is its type).
func (r *AgencyProvisioningReconciler) applyOrDelete(
	ctx context.Context,
	ap *scimv1alpha1.AgencyProvisioning,
	want client.Object,
	empty client.Object,
) error {
	if want != nil {
		return r.applyOwned(ctx, ap, want)
	}
	empty.SetNamespace(ap.Namespace)
	empty.SetName(ScimServerName(ap))
	err := r.Get(ctx, client.ObjectKeyFromObject(empty), empty)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get %T %q: %w", empty, empty.GetName(), err)
	}
	if !metav1IsControlledBy(empty, ap) {
		return nil
	}
	if err := r.Delete(ctx, empty); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete %T %q: %w", empty, empty.GetName(), err)
	}
	logf.FromContext(ctx).Info("Deleted object the spec no longer asks for",
		"kind", fmt.Sprintf("%T", empty), "name", empty.GetName())
	return nil
}

// optional turns a nil object pointer into a nil client.Object, which a typed nil is not.
func optional[T any, P interface {
	*T
	client.Object
}](obj P) client.Object {
	if obj == nil {
		return nil
	}
	return obj
}

func metav1IsControlledBy(obj client.Object, ap *scimv1alpha1.AgencyProvisioning) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller && ref.UID == ap.UID {
			return true
		}
	}
	return false
}

// applyUnstructured server-side applies u with the operator's field manager, taking over fields
// that someone else changed (that is how drift is repaired); u then holds the API server's answer.
func (r *AgencyProvisioningReconciler) applyUnstructured(ctx context.Context, u *unstructured.Unstructured) error {
	err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(FieldOwner), client.ForceOwnership)
	if err != nil {
		return fmt.Errorf("apply %s %q: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}

// toApplyObject converts a rendered object to the unstructured form server-side apply takes,
// without the empty status and creation timestamp that typed objects always carry.
func toApplyObject(obj client.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("convert %T %q: %w", obj, obj.GetName(), err)
	}
	delete(m, "status")
	unstructured.RemoveNestedField(m, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(m, "spec", "template", "metadata", "creationTimestamp")
	return &unstructured.Unstructured{Object: m}, nil
}
