package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/okta"
)

// ScimUserMappingReconciler writes a ScimUserMapping's custom attributes into the agency's SAML
// app user profile and its mappings into the Okta user -> app profile mapping.
type ScimUserMappingReconciler struct {
	client.Client
	Scheme *runtime.Scheme
	// NewOrg builds the Okta client from the agency's credentials.
	NewOrg okta.NewOrgFunc
	// ResyncPeriod, when set, overrides the agency's spec.okta.resyncPeriod.
	ResyncPeriod time.Duration
	// RetryInterval is how long to wait for the agency's SAML app or for fixed credentials
	// before looking again (default 1m).
	RetryInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Recorder records Events on condition transitions; nil records none.
	Recorder EventRecorder
	// Workers is how many ScimUserMappings are reconciled at once; 0 leaves the manager's
	// setting (1 unless configured).
	Workers int

	schemaLocks sync.Map // SAML app id -> *sync.Mutex
	// announced is what the Events last said about each condition.
	announced conditionEvents
}

// +kubebuilder:rbac:groups=scim.provisioning.dev,resources=scimusermappings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=scim.provisioning.dev,resources=scimusermappings/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=scim.provisioning.dev,resources=scimusermappings/finalizers,verbs=update
// +kubebuilder:rbac:groups=scim.provisioning.dev,resources=agencyprovisionings,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch

// mappingScope carries one reconcile's state.
type mappingScope struct {
	sum     *scimv1alpha1.ScimUserMapping
	ap      *scimv1alpha1.AgencyProvisioning
	org     okta.Org
	appID   string
	written bool
}

// Reconcile syncs one ScimUserMapping: it checks the badgeId rule, then the schema, then the
// mapping, and patches the status once at the end.
func (r *ScimUserMappingReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	var sum scimv1alpha1.ScimUserMapping
	if err := r.Get(ctx, req.NamespacedName, &sum); err != nil {
		if apierrors.IsNotFound(err) {
			r.announced.forget(req.NamespacedName)
			forgetConditions(kindScimUserMapping, req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !sum.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	orig := sum.DeepCopy()
	defer func() {
		setMappingReady(&sum)
		if retErr == nil {
			sum.Status.ObservedGeneration = sum.Generation
		}
		r.announced.record(ctx, r.Recorder, &sum, orig.Status.Conditions, sum.Status.Conditions)
		exportConditions(kindScimUserMapping, &sum, sum.Status.Conditions)
		if err := r.Status().Patch(ctx, &sum, client.MergeFrom(orig)); err != nil && !apierrors.IsNotFound(err) {
			retErr = errors.Join(retErr, fmt.Errorf("patch ScimUserMapping status: %w", err))
		}
	}()

	// The agency and its SAML app.
	ap, wait := r.agency(ctx, &sum)
	if ap == nil {
		return ctrl.Result{RequeueAfter: wait}, nil
	}

	// One mapping per agency: two would rewrite each other's entries at every resync.
	if first, err := r.earlierMapping(ctx, &sum); err != nil || first != "" {
		if err != nil {
			return ctrl.Result{}, err
		}
		r.setBoth(&sum, metav1.ConditionFalse, scimv1alpha1.ReasonDuplicateMapping,
			fmt.Sprintf("ScimUserMapping %q, created earlier, already maps AgencyProvisioning %q; one mapping per "+
				"agency: move this one's attributes and mappings into %q and delete this one", first, ap.Name, first))
		return ctrl.Result{RequeueAfter: r.retry()}, nil
	}

	// The badgeId rule: refuse, without touching Okta, a spec that drops it.
	if msg := badgeIDProblem(&sum.Spec, extensionSchemaOf(ap)); msg != "" {
		r.setBoth(&sum, metav1.ConditionFalse, scimv1alpha1.ReasonBadgeIDRequired, msg)
		return ctrl.Result{}, nil
	}

	if !r.syncDue(&sum, ap) {
		return ctrl.Result{RequeueAfter: r.untilResync(&sum, ap)}, nil
	}

	sc := r.newScope(ctx, &sum, ap)
	if sc == nil {
		return ctrl.Result{RequeueAfter: r.retry()}, nil
	}

	// Schema, then mapping: Okta accepts a mapping only to an attribute the schema has.
	if err := r.reconcileSchema(ctx, sc); err != nil {
		// Whatever MappingsSynced said last is not what stops the sync now.
		setMappingCondition(&sum, scimv1alpha1.ConditionMappingsSynced, metav1.ConditionUnknown,
			scimv1alpha1.ReasonReconciling, "waiting for SchemaSynced: the mappings are written once the "+
				"custom attributes are")
		return r.oktaFailure(&sum, scimv1alpha1.ConditionSchemaSynced, err, false)
	}
	if err := r.reconcileMapping(ctx, sc); err != nil {
		return r.oktaFailure(&sum, scimv1alpha1.ConditionMappingsSynced, err, sc.written)
	}

	sum.Status.SAMLAppID = sc.appID
	sum.Status.SyncRequest = ap.Annotations[AnnotationSyncRequest]
	sum.Status.LastSyncTime = &metav1.Time{Time: r.now()}
	return ctrl.Result{RequeueAfter: r.resync(ap)}, nil
}

func (r *ScimUserMappingReconciler) retry() time.Duration {
	if r.RetryInterval > 0 {
		return r.RetryInterval
	}
	return time.Minute
}

func (r *ScimUserMappingReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *ScimUserMappingReconciler) resync(ap *scimv1alpha1.AgencyProvisioning) time.Duration {
	if r.ResyncPeriod > 0 {
		return r.ResyncPeriod
	}
	if d := ap.Spec.Okta.ResyncPeriod.Duration; d > 0 {
		return d
	}
	return DefaultOktaResyncPeriod
}

// syncDue: Okta is read when the spec changed, the SAML app changed, the resync period passed,
// or the last sync did not end with both conditions True.
func (r *ScimUserMappingReconciler) syncDue(sum *scimv1alpha1.ScimUserMapping,
	ap *scimv1alpha1.AgencyProvisioning) bool {
	st := sum.Status
	return st.LastSyncTime == nil || st.ObservedGeneration != sum.Generation ||
		st.SAMLAppID != ap.Status.Okta.SAMLAppID || r.now().Sub(st.LastSyncTime.Time) >= r.resync(ap) ||
		st.SyncRequest != ap.Annotations[AnnotationSyncRequest] ||
		!meta.IsStatusConditionTrue(st.Conditions, scimv1alpha1.ConditionSchemaSynced) ||
		!meta.IsStatusConditionTrue(st.Conditions, scimv1alpha1.ConditionMappingsSynced)
}

func (r *ScimUserMappingReconciler) untilResync(sum *scimv1alpha1.ScimUserMapping,
	ap *scimv1alpha1.AgencyProvisioning) time.Duration {
	return max(r.resync(ap)-r.now().Sub(sum.Status.LastSyncTime.Time), time.Second)
}

// agency returns the referenced AgencyProvisioning once it has a SAML app; otherwise it sets
// the conditions and says when to look again.
func (r *ScimUserMappingReconciler) agency(ctx context.Context,
	sum *scimv1alpha1.ScimUserMapping) (*scimv1alpha1.AgencyProvisioning, time.Duration) {
	name := sum.Spec.AgencyProvisioningRef.Name
	var ap scimv1alpha1.AgencyProvisioning
	err := r.Get(ctx, types.NamespacedName{Namespace: sum.Namespace, Name: name}, &ap)
	switch {
	case apierrors.IsNotFound(err):
		r.setBoth(sum, metav1.ConditionFalse, scimv1alpha1.ReasonWaitingForAgency,
			fmt.Sprintf("AgencyProvisioning %q (spec.agencyProvisioningRef) does not exist in namespace %q", name,
				sum.Namespace))
		return nil, r.retry()
	case err != nil:
		r.setBoth(sum, metav1.ConditionUnknown, scimv1alpha1.ReasonReconciling,
			fmt.Sprintf("read AgencyProvisioning %q: %v", name, err))
		return nil, r.retry()
	case ap.Status.Okta.SAMLAppID == "":
		r.setBoth(sum, metav1.ConditionFalse, scimv1alpha1.ReasonWaitingForAgency,
			fmt.Sprintf("AgencyProvisioning %q has no Okta SAML app yet; see its Ready condition", name))
		return nil, r.retry()
	}
	return &ap, 0
}

// earlierMapping names another ScimUserMapping of the same AgencyProvisioning that was created
// before sum (by name when created in the same second), or "" when sum is the first.
func (r *ScimUserMappingReconciler) earlierMapping(ctx context.Context, sum *scimv1alpha1.ScimUserMapping) (string,
	error) {
	var list scimv1alpha1.ScimUserMappingList
	if err := r.List(ctx, &list, client.InNamespace(sum.Namespace)); err != nil {
		return "", fmt.Errorf("list ScimUserMappings: %w", err)
	}
	var first *scimv1alpha1.ScimUserMapping
	for i := range list.Items {
		o := &list.Items[i]
		if o.Name == sum.Name || o.Spec.AgencyProvisioningRef.Name != sum.Spec.AgencyProvisioningRef.Name ||
			!o.DeletionTimestamp.IsZero() || !createdBefore(o, sum) {
			continue
		}
		if first == nil || createdBefore(o, first) {
			first = o
		}
	}
	if first == nil {
		return "", nil
	}
	return first.Name, nil
}

func createdBefore(a, b *scimv1alpha1.ScimUserMapping) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

func (r *ScimUserMappingReconciler) newScope(ctx context.Context, sum *scimv1alpha1.ScimUserMapping,
	ap *scimv1alpha1.AgencyProvisioning) *mappingScope {
	creds, reason, msg := oktaCredentials(ctx, r.Client, ap)
	if reason != "" {
		r.setBoth(sum, metav1.ConditionFalse, reason, msg)
		return nil
	}
	org, err := r.NewOrg(ctx, creds)
	if err != nil {
		r.setBoth(sum, metav1.ConditionFalse, scimv1alpha1.ReasonInvalidCredentials,
			fmt.Sprintf("the agency's Okta credentials cannot be used: %v", err))
		return nil
	}
	return &mappingScope{sum: sum, ap: ap, org: org, appID: ap.Status.Okta.SAMLAppID}
}

func extensionSchemaOf(ap *scimv1alpha1.AgencyProvisioning) string {
	if s := ap.Spec.ScimServer.ExtensionSchema; s != "" {
		return s
	}
	return scimv1alpha1.DefaultExtensionSchema
}

// badgeIDProblem says what is wrong when the spec would drop or weaken badgeId: it must be
// declared, required, in the agency's extension schema, and mapped with PUSH.
func badgeIDProblem(spec *scimv1alpha1.ScimUserMappingSpec, extension string) string {
	var attr *scimv1alpha1.CustomAttribute
	for i := range spec.Attributes {
		if spec.Attributes[i].VariableName == scimv1alpha1.AttributeBadgeID {
			attr = &spec.Attributes[i]
		}
	}
	if attr == nil {
		return "spec.attributes must declare badgeId: the SCIM server needs a badge id for every user"
	}
	if !attr.Required {
		return "spec.attributes[badgeId].required must be true: the SCIM server needs a badge id for every user"
	}
	if ns := namespaceOf(*attr); ns != extension {
		return fmt.Sprintf("spec.attributes[badgeId].externalNamespace is %q but the agency's extension schema is "+
			"%q: "+
			"Okta would send the badge id where the SCIM server does not read it", ns, extension)
	}
	for _, m := range spec.EffectiveMappings() {
		if m.Target != scimv1alpha1.AttributeBadgeID {
			continue
		}
		if strings.TrimSpace(m.Expression) == "" || m.PushStatus == scimv1alpha1.PushStatusDontPush {
			return "spec.mappings[badgeId] must give an expression with pushStatus PUSH (default user.employeeNumber)"
		}
		return ""
	}
	return "spec.mappings has no badgeId mapping"
}

func namespaceOf(a scimv1alpha1.CustomAttribute) string {
	if a.ExternalNamespace != "" {
		return a.ExternalNamespace
	}
	return scimv1alpha1.DefaultExtensionSchema
}

func wantAttribute(a scimv1alpha1.CustomAttribute) okta.SchemaAttribute {
	t := string(a.Type)
	if t == "" {
		t = string(scimv1alpha1.AttributeTypeString)
	}
	return okta.SchemaAttribute{
		Name: a.VariableName, Title: a.DisplayName, Type: t, Required: a.Required,
		ExternalName: a.VariableName, ExternalNamespace: namespaceOf(a), Description: a.Description,
	}
}

// lockApp serialises schema writes for one Okta app across all ScimUserMappings.
func (r *ScimUserMappingReconciler) lockApp(appID string) func() {
	mu, _ := r.schemaLocks.LoadOrStore(appID, &sync.Mutex{})
	m := mu.(*sync.Mutex)
	m.Lock()
	return m.Unlock
}

// reconcileSchema makes the app user profile carry every declared attribute and removes the
// attributes this mapping synced before and no longer declares. Sets SchemaSynced.
func (r *ScimUserMappingReconciler) reconcileSchema(ctx context.Context, sc *mappingScope) error {
	unlock := r.lockApp(sc.appID)
	defer unlock()
	have, err := sc.org.GetAppUserAttributes(ctx, sc.appID)
	if err != nil {
		return err
	}
	provisioningOn := provisioningConnected(sc.ap)
	set, remove, waiting := schemaChanges(sc.sum, have, provisioningOn)
	var dropped []string
	if len(set) > 0 || len(remove) > 0 {
		kept, err := sc.org.UpdateAppUserAttributes(ctx, sc.appID, set, remove)
		if err != nil {
			return err
		}
		sc.written = true
		logf.FromContext(ctx).Info("Updated the Okta app user schema", "app", sc.appID, "set", len(set), "removed",
			len(remove))
		var lost []string
		if lost, dropped = schemaNotKept(set, remove, kept, provisioningOn); len(lost) > 0 {
			return &schemaNotKeptError{appID: sc.appID, lost: lost}
		}
	}
	names := make([]string, 0, len(sc.sum.Spec.Attributes))
	for _, a := range sc.sum.Spec.Attributes {
		names = append(names, a.VariableName)
	}
	slices.Sort(names)
	sc.sum.Status.SyncedAttributes = names
	if len(dropped) > 0 {
		setMappingCondition(sc.sum, scimv1alpha1.ConditionSchemaSynced, metav1.ConditionFalse,
			scimv1alpha1.ReasonWaitingForProvisioning, fmt.Sprintf("app %s has the custom attributes %s, but Okta "+
				"did not keep the external name and namespace of %s although the agency's ProvisioningConnected "+
				"is True: check in Okta that SCIM provisioning is still on for the app; they are written again at "+
				"the next sync", sc.appID, strings.Join(names, ", "), strings.Join(dropped, ", ")))
		return nil
	}
	if len(waiting) > 0 {
		setMappingCondition(sc.sum, scimv1alpha1.ConditionSchemaSynced, metav1.ConditionFalse,
			scimv1alpha1.ReasonWaitingForProvisioning, fmt.Sprintf("app %s has the custom attributes %s, but Okta "+
				"keeps "+
				"the external name and namespace of %s only once SCIM provisioning is on (see the "+
				"AgencyProvisioning's "+
				"ProvisioningConnected condition); they are written again then", sc.appID, strings.Join(names, ", "),
				strings.Join(waiting, ", ")))
		return nil
	}
	setMappingCondition(sc.sum, scimv1alpha1.ConditionSchemaSynced, metav1.ConditionTrue,
		scimv1alpha1.ReasonSucceeded,
		fmt.Sprintf("app %s has the custom attributes %s", sc.appID, strings.Join(names, ", ")))
	return nil
}

// schemaChanges compares the declared attributes with Okta's: the attributes to write, the
// ones this mapping synced before and no longer declares, and the ones whose external names
// wait for provisioning. Okta keeps external names only once provisioning is on; before that,
// comparing them would rewrite the schema on every sync.
func schemaChanges(
	sum *scimv1alpha1.ScimUserMapping,
	have map[string]okta.SchemaAttribute,
	provisioningOn bool,
) (set []okta.SchemaAttribute, remove, waiting []string) {
	declared := map[string]bool{}
	for _, a := range sum.Spec.Attributes {
		want := wantAttribute(a)
		declared[want.Name] = true
		cur, ok := have[want.Name]
		externalOK := cur.ExternalName == want.ExternalName && cur.ExternalNamespace == want.ExternalNamespace
		sameBase := cur.Title == want.Title && cur.Type == want.Type && cur.Required == want.Required &&
			cur.Description == want.Description
		if !ok || !sameBase || (provisioningOn && !externalOK) {
			set = append(set, want)
		}
		if !provisioningOn && !externalOK {
			waiting = append(waiting, want.Name)
		}
	}
	for _, n := range sum.Status.SyncedAttributes {
		if _, ok := have[n]; ok && !declared[n] {
			remove = append(remove, n)
		}
	}
	return set, remove, waiting
}

// schemaNotKept compares Okta's answer to a schema write with what was written. lost names the
// attributes it did not keep as written (missing, a different title, type, description or
// required flag, or still there after a removal), each with what differs; dropped, the ones
// that lost only their external name or namespace although provisioning is on. While
// provisioning is off, Okta drops external names by design and schemaChanges waits for them.
func schemaNotKept(
	set []okta.SchemaAttribute,
	remove []string,
	kept map[string]okta.SchemaAttribute,
	provisioningOn bool,
) (lost, dropped []string) {
	for _, want := range set {
		got, ok := kept[want.Name]
		if !ok {
			lost = append(lost, want.Name+" (missing)")
			continue
		}
		var diffs []string
		for _, f := range []struct{ field, got, want string }{
			{"title", got.Title, want.Title},
			{"type", got.Type, want.Type},
			{"description", got.Description, want.Description},
			{"required", strconv.FormatBool(got.Required), strconv.FormatBool(want.Required)},
		} {
			if f.got != f.want {
				diffs = append(diffs, fmt.Sprintf("%s %q, not %q", f.field, f.got, f.want))
			}
		}
		switch {
		case len(diffs) > 0:
			lost = append(lost, want.Name+" ("+strings.Join(diffs, ", ")+")")
		case provisioningOn && (got.ExternalName != want.ExternalName ||
			got.ExternalNamespace != want.ExternalNamespace):
			dropped = append(dropped, want.Name)
		}
	}
	for _, n := range remove {
		if _, ok := kept[n]; ok {
			lost = append(lost, n+" (still there after its removal)")
		}
	}
	return lost, dropped
}

// schemaNotKeptError is a schema write Okta accepted without keeping all of it.
type schemaNotKeptError struct {
	appID string
	lost  []string
}

func (e *schemaNotKeptError) Error() string {
	return fmt.Sprintf("Okta accepted the schema write of app %s but did not keep %s", e.appID,
		strings.Join(e.lost, "; "))
}

// reconcileMapping makes the Okta user -> app profile mapping carry every effective mapping and
// drops the targets this mapping synced before and no longer lists. Sets MappingsSynced.
func (r *ScimUserMappingReconciler) reconcileMapping(ctx context.Context, sc *mappingScope) error {
	userType, err := sc.org.DefaultUserTypeID(ctx)
	if err != nil {
		return err
	}
	cur, err := sc.org.FindProfileMapping(ctx, userType, sc.appID)
	if err != nil {
		return err
	}
	effective := sc.sum.Spec.EffectiveMappings()
	change := map[string]okta.MappingProperty{}
	wanted := map[string]bool{}
	for _, m := range effective {
		wanted[m.Target] = true
		want := okta.MappingProperty{Expression: m.Expression, PushStatus: string(m.PushStatus)}
		if got, ok := cur.Properties[m.Target]; !ok || got.Expression != want.Expression ||
			(got.PushStatus != "" && got.PushStatus != want.PushStatus) {
			change[m.Target] = want
		}
	}
	for _, m := range sc.sum.Status.SyncedMappings {
		if _, ok := cur.Properties[m.Target]; ok && !wanted[m.Target] {
			change[m.Target] = okta.MappingProperty{}
		}
	}
	if len(change) > 0 {
		if _, err := sc.org.UpdateProfileMapping(ctx, cur.ID, change); err != nil {
			return err
		}
		sc.written = true
		logf.FromContext(ctx).Info("Updated the Okta profile mapping", "mapping", cur.ID, "changed", len(change))
	}
	sc.sum.Status.SyncedMappings = effective
	setMappingCondition(sc.sum, scimv1alpha1.ConditionMappingsSynced, metav1.ConditionTrue,
		scimv1alpha1.ReasonSucceeded,
		fmt.Sprintf("profile mapping %s (user type %s -> app %s) has %d mapping(s)", cur.ID, userType, sc.appID,
			len(effective)))
	return nil
}

// oktaFailure records an Okta error on the condition of the step that failed.
func (r *ScimUserMappingReconciler) oktaFailure(sum *scimv1alpha1.ScimUserMapping, condType string,
	err error, schemaJustWritten bool) (ctrl.Result, error) {
	var rl *okta.RateLimitError
	var notKept *schemaNotKeptError
	switch {
	case errors.As(err, &notKept):
		setMappingCondition(sum, condType, metav1.ConditionFalse, scimv1alpha1.ReasonSchemaNotKept,
			fmt.Sprintf("%v; written again in %s: if it persists, an Okta admin or another tool may be changing "+
				"the app's profile", err, r.retry()))
		return ctrl.Result{RequeueAfter: r.retry()}, nil
	case errors.As(err, &rl):
		setMappingCondition(sum, condType, metav1.ConditionFalse, scimv1alpha1.ReasonRateLimited,
			fmt.Sprintf("Okta rate limit reached; retrying after %s", rl.Reset.UTC().Format(time.RFC3339)))
		return ctrl.Result{RequeueAfter: rl.RetryAfter(r.now()) + time.Second}, nil
	case errors.Is(err, okta.ErrInvalidCredentials):
		setMappingCondition(sum, condType, metav1.ConditionFalse, scimv1alpha1.ReasonInvalidCredentials,
			fmt.Sprintf("Okta rejected the agency's credentials: %v; see the AgencyProvisioning's "+
				"OktaAuthenticated condition", err))
		return ctrl.Result{RequeueAfter: r.retry()}, nil
	case errors.Is(err, okta.ErrInvalidRequest):
		// Right after a schema write Okta may not yet know the new attribute: look again soon.
		// Otherwise the request itself is wrong (an expression Okta refuses), and only a spec
		// change or a person in Okta can fix it.
		setMappingCondition(sum, condType, metav1.ConditionFalse, scimv1alpha1.ReasonOktaError, err.Error())
		if schemaJustWritten {
			return ctrl.Result{RequeueAfter: 5 * time.Second}, nil
		}
		return ctrl.Result{RequeueAfter: r.retry()}, nil
	}
	setMappingCondition(sum, condType, metav1.ConditionFalse, scimv1alpha1.ReasonOktaError, err.Error())
	return ctrl.Result{}, err
}

func setMappingCondition(sum *scimv1alpha1.ScimUserMapping, t string, status metav1.ConditionStatus, reason,
	msg string) {
	meta.SetStatusCondition(&sum.Status.Conditions, metav1.Condition{
		Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: sum.Generation,
	})
}

func (r *ScimUserMappingReconciler) setBoth(sum *scimv1alpha1.ScimUserMapping, status metav1.ConditionStatus, reason,
	msg string) {
	setMappingCondition(sum, scimv1alpha1.ConditionSchemaSynced, status, reason, msg)
	setMappingCondition(sum, scimv1alpha1.ConditionMappingsSynced, status, reason, msg)
}

// setMappingReady: Ready is True when SchemaSynced and MappingsSynced are; otherwise it carries
// the reason and message of the first that is False, else of the first that is Unknown or not
// set yet, as an AgencyProvisioning's Ready does.
func setMappingReady(sum *scimv1alpha1.ScimUserMapping) {
	order := []string{scimv1alpha1.ConditionSchemaSynced, scimv1alpha1.ConditionMappingsSynced}
	for _, want := range []metav1.ConditionStatus{metav1.ConditionFalse, metav1.ConditionUnknown} {
		for _, t := range order {
			c := meta.FindStatusCondition(sum.Status.Conditions, t)
			switch {
			case c == nil && want == metav1.ConditionUnknown:
				setMappingCondition(sum, scimv1alpha1.ConditionReady, metav1.ConditionUnknown,
					scimv1alpha1.ReasonReconciling, t+" not observed yet")
				return
			case c != nil && c.Status == want:
				setMappingCondition(sum, scimv1alpha1.ConditionReady, c.Status, c.Reason, t+": "+c.Message)
				return
			}
		}
	}
	setMappingCondition(sum, scimv1alpha1.ConditionReady, metav1.ConditionTrue, scimv1alpha1.ReasonSucceeded,
		"the custom attributes and mappings are in Okta as declared")
}

// SetupWithManager watches ScimUserMappings (spec changes) and wakes them when their
// AgencyProvisioning's SAML app id, ProvisioningConnected, OktaAuthenticated or sync request
// changes.
func (r *ScimUserMappingReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&scimv1alpha1.ScimUserMapping{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&scimv1alpha1.AgencyProvisioning{},
			handler.EnqueueRequestsFromMapFunc(r.mappingsOf),
			builder.WithPredicates(agencyChangedForMappings())).
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: r.Workers}).
		Named("scimusermapping").
		Complete(r)
}

// oktaAuthenticated says whether the agency's Okta credentials worked at its last sync; a
// mapping that failed on them syncs again as soon as they do.
func oktaAuthenticated(ap *scimv1alpha1.AgencyProvisioning) bool {
	return meta.IsStatusConditionTrue(ap.Status.Conditions, scimv1alpha1.ConditionOktaAuthenticated)
}

// agencyChangedForMappings passes the AgencyProvisioning updates a mapping acts on.
func agencyChangedForMappings() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*scimv1alpha1.AgencyProvisioning)
			n, ok2 := e.ObjectNew.(*scimv1alpha1.AgencyProvisioning)
			return ok1 && ok2 && (o.Status.Okta.SAMLAppID != n.Status.Okta.SAMLAppID ||
				provisioningConnected(o) != provisioningConnected(n) ||
				oktaAuthenticated(o) != oktaAuthenticated(n) ||
				o.Annotations[AnnotationSyncRequest] != n.Annotations[AnnotationSyncRequest])
		},
	}
}

func (r *ScimUserMappingReconciler) mappingsOf(ctx context.Context, obj client.Object) []reconcile.Request {
	var list scimv1alpha1.ScimUserMappingList
	if err := r.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
		logf.FromContext(ctx).Error(err, "List ScimUserMappings")
		return nil
	}
	var out []reconcile.Request
	for _, s := range list.Items {
		if s.Spec.AgencyProvisioningRef.Name == obj.GetName() {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: s.Namespace,
				Name: s.Name}})
		}
	}
	return out
}
