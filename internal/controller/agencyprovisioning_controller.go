/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
)

// EventRecorder records Kubernetes Events (events.k8s.io); the manager's
// GetEventRecorder gives one.
type EventRecorder interface {
	Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any)
}

// OktaStep runs the Okta side of an AgencyProvisioning reconcile. It changes only ap.Status
// (and objects it owns); the reconciler patches the status once, after it.
type OktaStep interface {
	// ReadReport reads the SCIM server's report, once per reconcile, before the workload's
	// condition is set: a store problem the report names explains ScimServerAvailable.
	ReadReport(ctx context.Context, ap *scimv1alpha1.AgencyProvisioning) ReportRead
	// Reconcile brings the Okta objects to the wanted state and sets the Okta conditions, with
	// the report ReadReport gave.
	Reconcile(ctx context.Context, ap *scimv1alpha1.AgencyProvisioning, report ReportRead) (ctrl.Result, error)
	// Finalize cleans up a deleted AgencyProvisioning's Okta objects; done says the
	// finalizer was removed.
	Finalize(ctx context.Context, ap *scimv1alpha1.AgencyProvisioning) (done bool, err error)
}

// AgencyProvisioningReconciler runs an agency's SCIM server and, through Okta, keeps the Okta
// side in sync with an AgencyProvisioning.
type AgencyProvisioningReconciler struct {
	client.Client
	Scheme *runtime.Scheme
	// Recorder records Events on condition transitions; nil records none.
	Recorder EventRecorder
	// ScimServerImage is the SCIM server image used when the spec names none.
	ScimServerImage string
	// Ingress fills what an agency's spec.scimServer.ingress leaves out (class, cert-manager issuer).
	Ingress IngressDefaults
	// Okta runs the Okta steps; nil skips them (the workload alone is reconciled).
	Okta OktaStep
	// Workers is how many AgencyProvisionings are reconciled at once; 0 leaves the manager's
	// setting (1 unless configured). An Okta org that does not answer holds one worker until its
	// calls time out.
	Workers int

	// announced is what the Events last said about each condition.
	announced conditionEvents
	// applied is what was last applied to each agency's objects.
	applied appliedObjects
}

// apScope carries one reconcile's state through the steps.
type apScope struct {
	ap *scimv1alpha1.AgencyProvisioning
	// deployment is the SCIM server's Deployment as last read, nil before the cache has it.
	deployment *appsv1.Deployment
	// storeProblem says what is wrong with the store's configuration, for the condition.
	storeProblem string
	// podProblem says why a SCIM server pod is not ready, while the Deployment is not available.
	podProblem string
}

// +kubebuilder:rbac:groups=scim.provisioning.dev,resources=agencyprovisionings,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=scim.provisioning.dev,resources=agencyprovisionings/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=scim.provisioning.dev,resources=agencyprovisionings/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=configmaps;services;persistentvolumeclaims,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// conflictRequeue is how soon a reconcile whose status patch met a newer object runs again.
const conflictRequeue = time.Second

// Reconcile applies the SCIM server's objects, runs the Okta steps, and patches the status
// once at the end, with Ready summarising the conditions set by the steps.
func (r *AgencyProvisioningReconciler) Reconcile(
	ctx context.Context,
	req ctrl.Request,
) (result ctrl.Result, retErr error) {
	ap := &scimv1alpha1.AgencyProvisioning{}
	if err := r.Get(ctx, req.NamespacedName, ap); err != nil {
		if apierrors.IsNotFound(err) {
			r.announced.forget(req.NamespacedName)
			r.applied.forget(req.NamespacedName)
			forgetConditions(kindAgencyProvisioning, req.NamespacedName)
			refusalsRecorded.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ctx = logf.IntoContext(ctx, logf.FromContext(ctx).WithValues("agencyId", ap.Spec.AgencyID))
	before := ap.DeepCopy()
	defer func() {
		err := r.finishStatus(ctx, before, ap, retErr)
		if apierrors.IsConflict(err) && retErr == nil {
			// The cache had an older copy: run again once it has caught up, without an error.
			logf.FromContext(ctx).V(1).Info("Status changed since this reconcile read it; reconciling again")
			result, err = ctrl.Result{RequeueAfter: conflictRequeue}, nil
		}
		retErr = err
	}()

	if !ap.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, ap)
	}

	s := &apScope{ap: ap}
	// The SCIM server's ConfigMap, store, Deployment, Service, Ingress, PDB: ScimServerAvailable.
	if err := r.reconcileWorkload(ctx, s); err != nil {
		meta.SetStatusCondition(&ap.Status.Conditions, workloadFailedCondition(err, ap.Generation))
		return ctrl.Result{}, err
	}
	var report ReportRead
	if r.Okta != nil {
		report = r.Okta.ReadReport(ctx, ap)
	}
	available := scimServerAvailableCondition(s.deployment, s.storeProblem, s.podProblem, report.storeProblem(),
		ap.Generation)
	meta.SetStatusCondition(&ap.Status.Conditions, available)

	// The Okta side: OktaAuthenticated, IssuerVerified, OktaAppsConfigured, ProvisioningConnected,
	// ScimAuthenticated.
	if r.Okta == nil {
		return ctrl.Result{}, nil
	}
	return r.Okta.Reconcile(ctx, ap, report)
}

// reconcileDelete lets the Okta step remove what it created; the SCIM server's objects go
// with their owner, and the store's volume claim stays.
func (r *AgencyProvisioningReconciler) reconcileDelete(ctx context.Context, ap *scimv1alpha1.AgencyProvisioning) error {
	if r.Okta == nil {
		return nil
	}
	// Finalize's errors say what they are about: Ready shows them (DeletionBlocked).
	_, err := r.Okta.Finalize(ctx, ap)
	return err
}

// finishStatus computes Ready, records Events for the conditions that changed, and patches the
// status if it changed, failing with a conflict if the object changed since it was read.
// observedGeneration advances only when the reconcile succeeded.
func (r *AgencyProvisioningReconciler) finishStatus(
	ctx context.Context,
	before, ap *scimv1alpha1.AgencyProvisioning,
	reconcileErr error,
) error {
	if reconcileErr == nil {
		ap.Status.ObservedGeneration = ap.Generation
	}
	ready := readyCondition(ap.Status.Conditions, ap.Generation)
	if !ap.DeletionTimestamp.IsZero() && reconcileErr != nil {
		// Only the operator's log would say why the object stays.
		ready.Status, ready.Reason = metav1.ConditionFalse, scimv1alpha1.ReasonDeletionBlocked
		ready.Message = "being deleted, but " + reconcileErr.Error()
	}
	meta.SetStatusCondition(&ap.Status.Conditions, ready)
	r.recordTransitions(ctx, before.Status.Conditions, ap)
	exportConditions(kindAgencyProvisioning, ap, ap.Status.Conditions)
	if equality.Semantic.DeepEqual(before.Status, ap.Status) {
		return reconcileErr
	}
	// Locked to the version this reconcile read (or its own finalizer patch made): a reconcile
	// that read an older copy from the cache gets a conflict and runs again, instead of
	// replacing newer lists (createdObjects, conditions) with its own.
	before.ResourceVersion = ap.ResourceVersion
	patch := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
	if err := r.Status().Patch(ctx, ap, patch); client.IgnoreNotFound(err) != nil {
		return errors.Join(reconcileErr, fmt.Errorf("patch status: %w", err))
	}
	return reconcileErr
}

// recordTransitions emits one Event per condition whose status or reason changed since before
// (see conditionEvents).
func (r *AgencyProvisioningReconciler) recordTransitions(
	ctx context.Context,
	before []metav1.Condition,
	ap *scimv1alpha1.AgencyProvisioning,
) {
	r.announced.record(ctx, r.Recorder, ap, before, ap.Status.Conditions)
}

// event records an Event about ap, if there is a recorder. action says what the operator was
// doing; Events that differ only in their note should differ in action too (see
// recordTransitions).
func (r *AgencyProvisioningReconciler) event(
	ap *scimv1alpha1.AgencyProvisioning,
	eventType, reason, action, format string,
	args ...any,
) {
	if r.Recorder != nil {
		r.Recorder.Eventf(ap, nil, eventType, reason, action, format, args...)
	}
}

// SetupWithManager registers the controller: it watches AgencyProvisionings (spec and
// annotation changes), the objects they own, the store's volume claims, the SCIM server's pods
// (to say why they are not ready), and the Secrets they name (metadata only, see
// ClientOptions), so a credentials or postgres Secret created or fixed is acted on at once.
func (r *AgencyProvisioningReconciler) SetupWithManager(mgr ctrl.Manager) error {
	err := mgr.GetFieldIndexer().IndexField(context.Background(), &scimv1alpha1.AgencyProvisioning{},
		secretNameIndex, secretNames)
	if err != nil {
		return fmt.Errorf("index AgencyProvisionings by Secret: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&scimv1alpha1.AgencyProvisioning{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&corev1.ConfigMap{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&networkingv1.Ingress{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Watches(&corev1.PersistentVolumeClaim{}, handler.EnqueueRequestsFromMapFunc(claimOwner)).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.secretUsers)).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podOwner)).
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: r.Workers}).
		Named("agencyprovisioning").
		Complete(r)
}

// secretNameIndex indexes AgencyProvisionings by the Secrets their spec names.
const secretNameIndex = "spec.secretNames"

// secretNames lists the Secrets an AgencyProvisioning's spec names: the Okta credentials and
// the postgres connection.
func secretNames(obj client.Object) []string {
	ap, ok := obj.(*scimv1alpha1.AgencyProvisioning)
	if !ok {
		return nil
	}
	names := []string{ap.Spec.Okta.CredentialsSecretRef.Name}
	if pg := ap.Spec.ScimServer.Storage.Postgres; pg != nil {
		names = append(names, pg.ConnectionSecretRef.Name)
	}
	return names
}

// secretUsers maps a Secret to the AgencyProvisionings in its namespace that name it.
func (r *AgencyProvisioningReconciler) secretUsers(ctx context.Context, obj client.Object) []reconcile.Request {
	var list scimv1alpha1.AgencyProvisioningList
	if err := r.List(ctx, &list, client.InNamespace(obj.GetNamespace()),
		client.MatchingFields{secretNameIndex: obj.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "Listing the AgencyProvisionings that name a Secret failed",
			"secret", obj.GetName())
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, ap := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&ap)})
	}
	return reqs
}

// podOwner maps a SCIM server pod to its AgencyProvisioning, by the labels the Deployment's
// pod template carries (pods belong to a ReplicaSet, not to the AgencyProvisioning).
func podOwner(_ context.Context, obj client.Object) []reconcile.Request {
	l := obj.GetLabels()
	if l[LabelManagedBy] != managerName || l[LabelName] != containerName || l[LabelInstance] == "" {
		return nil
	}
	key := client.ObjectKey{Namespace: obj.GetNamespace(), Name: l[LabelInstance]}
	return []reconcile.Request{{NamespacedName: key}}
}

// claimOwner maps a store volume claim to the AgencyProvisioning it was made for.
func claimOwner(_ context.Context, obj client.Object) []reconcile.Request {
	owner := obj.GetAnnotations()[AnnotationOwner]
	if owner == "" || obj.GetLabels()[LabelManagedBy] != managerName {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: obj.GetNamespace(), Name: owner}}}
}
