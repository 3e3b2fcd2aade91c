package controller

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/okta"
)

// OktaFinalizer is set on AgencyProvisionings with deletionPolicy Delete, so the operator can
// remove the Okta objects it created before the resource goes away.
const OktaFinalizer = "scim.provisioning.dev/okta-cleanup"

// AnnotationSyncRequest is the annotation whose change of value asks for a full Okta sync now,
// instead of at the next resync period.
const AnnotationSyncRequest = "scim.provisioning.dev/okta-sync-request"

// DefaultOktaResyncPeriod is how often the Okta side is re-read when the spec does not say.
const DefaultOktaResyncPeriod = 10 * time.Minute

// DefaultReportPollInterval is how often the SCIM server's report is read between full Okta
// syncs, so that ProvisioningConnected and ScimAuthenticated follow it within about this long.
// A poll costs no Okta call.
const DefaultReportPollInterval = 30 * time.Second

// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get

// OktaSync runs the Okta steps of an AgencyProvisioning reconcile: credentials, issuer, apps,
// access policy, assignments, group push and the provisioning connection. The AgencyProvisioning
// reconciler calls Reconcile and Finalize; OktaSync changes only ap.Status and the objects it
// owns (the OIDC client Secret), and the caller patches the status once.
type OktaSync struct {
	Client client.Client
	// APIReader reads what the manager's cache does not hold: an AgencyProvisioning's namespace,
	// when its deletion is stuck (default Client).
	APIReader client.Reader
	// NewOrg builds the Okta client from credentials (okta.Factory.NewOrg in the manager).
	NewOrg okta.NewOrgFunc
	// Reports reads the SCIM server's /report.
	Reports ReportReader
	// ResyncPeriod, when set, overrides spec.okta.resyncPeriod (tests, demos).
	ResyncPeriod time.Duration
	// ReportPollInterval is how often the SCIM server's report is read between full syncs, both
	// while waiting for the admin's manual step and once provisioning is connected (default
	// DefaultReportPollInterval). A poll makes no Okta call.
	ReportPollInterval time.Duration
	// RetryInterval is how long to wait after a problem only a person can fix (bad credentials,
	// missing Secret, a foreign object in the way) before looking again (default 1m).
	RetryInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// SecretMetadata reads Secrets' metadata from the manager's cache (the metadata watch of
	// SetupWithManager), to notice a credentials Secret changed since the last sync without
	// reading it; nil notices only at the next full sync.
	SecretMetadata client.Reader
}

// oktaScope carries one reconcile's state through the steps.
type oktaScope struct {
	ap       *scimv1alpha1.AgencyProvisioning
	org      okta.Org
	orgURL   *url.URL
	serverID string
	// serverMissing: the org has no authorization server serverID (IssuerVerified says so).
	serverMissing bool
	owner         string
	// newSecret is the client secret Okta returned when it created the OIDC app.
	newSecret string
	// groups caches spec.okta.assignGroups resolved to Okta group ids (id -> name).
	groups map[string]string
}

func (s *OktaSync) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *OktaSync) retry() time.Duration {
	if s.RetryInterval > 0 {
		return s.RetryInterval
	}
	return time.Minute
}

func (s *OktaSync) resync(ap *scimv1alpha1.AgencyProvisioning) time.Duration {
	if s.ResyncPeriod > 0 {
		return s.ResyncPeriod
	}
	if d := ap.Spec.Okta.ResyncPeriod.Duration; d > 0 {
		return d
	}
	return DefaultOktaResyncPeriod
}

// Reconcile runs the Okta steps. A transient Okta failure is returned as an error (backoff);
// a rate limit or an expected wait comes back as RequeueAfter. Conditions are always set.
func (s *OktaSync) Reconcile(ctx context.Context, ap *scimv1alpha1.AgencyProvisioning,
	report ReportRead) (ctrl.Result, error) {
	if !ap.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	if err := s.ensureFinalizer(ctx, ap); err != nil {
		return ctrl.Result{}, err
	}

	// Between resyncs, with nothing changed, only the SCIM server's report is read: no Okta call.
	credentials, known := s.credentialsVersion(ctx, ap)
	if !s.fullSyncDue(ap) && !credentialsChanged(ap, credentials, known) {
		return s.reconcileReport(ap, report), nil
	}
	// When an Okta step fails, what the report says still counts (step 7 is not reached).
	synced := false
	defer func() {
		if !synced {
			reportDespiteOkta(ap, report)
		}
	}()

	sc, res := s.newScope(ctx, ap)
	if sc == nil {
		return res, nil
	}

	// Step 1: OktaAuthenticated.
	if err := sc.org.CheckCredentials(ctx); err != nil {
		if errors.Is(err, okta.ErrForbidden) {
			// Accepted, but not allowed the first read: still a credentials problem.
			setCondition(ap, scimv1alpha1.ConditionOktaAuthenticated, metav1.ConditionFalse,
				scimv1alpha1.ReasonInvalidCredentials, fmt.Sprintf("Okta org %s accepted the %s from Secret %q but "+
					"refused the first request (%v): %s", ap.Spec.Okta.OrgURL, sc.mode(ap),
					ap.Spec.Okta.CredentialsSecretRef.Name, err, forbiddenHint(ap.Spec.Okta.CredentialsSecretRef)))
			return ctrl.Result{RequeueAfter: s.retry()}, nil
		}
		return s.oktaFailure(ap, err)
	}
	setCondition(ap, scimv1alpha1.ConditionOktaAuthenticated, metav1.ConditionTrue,
		scimv1alpha1.ReasonSucceeded, fmt.Sprintf("Okta accepted the %s for %s", sc.mode(ap), sc.orgURL.Host))

	// Step 2: IssuerVerified.
	if err := s.reconcileIssuer(ctx, sc); err != nil {
		return s.oktaFailure(ap, err)
	}

	// Steps 3-6: apps, client secret, access policy and rule, assignments, group push.
	if err := s.reconcileApps(ctx, sc); err != nil {
		return s.oktaFailure(ap, err)
	}

	ap.Status.Okta.LastSyncTime = &metav1.Time{Time: s.now()}
	ap.Status.Okta.SyncedGeneration = ap.Generation
	ap.Status.Okta.SyncRequest = ap.Annotations[AnnotationSyncRequest]
	if known {
		ap.Status.Okta.CredentialsVersion = credentials
	}

	// Step 7: ProvisioningConnected and ScimAuthenticated from the SCIM server's report.
	synced = true
	return s.reconcileReport(ap, report), nil
}

// fullSyncDue says whether this reconcile must read Okta: the spec changed, a sync was
// requested, the resync period passed, or the last sync did not end with every Okta condition
// True.
func (s *OktaSync) fullSyncDue(ap *scimv1alpha1.AgencyProvisioning) bool {
	st := ap.Status.Okta
	switch {
	case st.LastSyncTime == nil,
		st.SyncedGeneration != ap.Generation,
		st.SyncRequest != ap.Annotations[AnnotationSyncRequest],
		s.now().Sub(st.LastSyncTime.Time) >= s.resync(ap),
		st.GroupPushWaiting && provisioningConnected(ap):
		return true
	}
	for _, t := range []string{
		scimv1alpha1.ConditionOktaAuthenticated,
		scimv1alpha1.ConditionIssuerVerified,
		scimv1alpha1.ConditionOktaAppsConfigured,
	} {
		if !meta.IsStatusConditionTrue(ap.Status.Conditions, t) {
			return true
		}
	}
	return false
}

// credentialsVersion is the resourceVersion of the agency's credentials Secret in the
// manager's cache, "" when there is no such Secret; known is false when it cannot be told.
func (s *OktaSync) credentialsVersion(ctx context.Context, ap *scimv1alpha1.AgencyProvisioning) (string, bool) {
	if s.SecretMetadata == nil {
		return "", false
	}
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	key := types.NamespacedName{Namespace: ap.Namespace, Name: ap.Spec.Okta.CredentialsSecretRef.Name}
	switch err := s.SecretMetadata.Get(ctx, key, m); {
	case err == nil:
		return m.ResourceVersion, true
	case apierrors.IsNotFound(err):
		return "", true
	default:
		logf.FromContext(ctx).V(1).Info("Reading the credentials Secret's metadata failed", "error", err.Error())
		return "", false
	}
}

// credentialsChanged says whether the credentials Secret is known to have changed since the
// last full sync. A status without a version has nothing to compare with: it was synced before
// status kept the version, or an older CRD (Helm does not upgrade CRDs) drops the field at every
// status patch, which would otherwise make every report poll a full Okta sync.
func credentialsChanged(ap *scimv1alpha1.AgencyProvisioning, version string, known bool) bool {
	last := ap.Status.Okta.CredentialsVersion
	return known && last != "" && version != last
}

// newScope reads the credentials Secret and builds the Okta client. A nil scope means stop:
// the condition is set and the result says when to look again.
func (s *OktaSync) newScope(ctx context.Context, ap *scimv1alpha1.AgencyProvisioning) (*oktaScope, ctrl.Result) {
	u, err := okta.ParseOrgURL(ap.Spec.Okta.OrgURL)
	if err != nil {
		setCondition(ap, scimv1alpha1.ConditionOktaAuthenticated, metav1.ConditionFalse,
			scimv1alpha1.ReasonInvalidSpec, fmt.Sprintf("spec.okta.orgURL: %v", err))
		return nil, ctrl.Result{}
	}
	creds, reason, msg := oktaCredentials(ctx, s.Client, ap)
	if reason != "" {
		setCondition(ap, scimv1alpha1.ConditionOktaAuthenticated, metav1.ConditionFalse, reason, msg)
		return nil, ctrl.Result{RequeueAfter: s.retry()}
	}
	org, err := s.NewOrg(ctx, creds)
	if err != nil {
		setCondition(ap, scimv1alpha1.ConditionOktaAuthenticated, metav1.ConditionFalse,
			scimv1alpha1.ReasonInvalidCredentials, fmt.Sprintf("Secret %q cannot be used: %v",
				ap.Spec.Okta.CredentialsSecretRef.Name, err))
		return nil, ctrl.Result{RequeueAfter: s.retry()}
	}
	serverID := ap.Spec.Okta.AuthorizationServerID
	if serverID == "" {
		serverID = "default"
	}
	return &oktaScope{
		ap: ap, org: org, orgURL: u, serverID: serverID,
		owner: fmt.Sprintf("%s/%s/%s", ap.Namespace, ap.Name, ap.UID),
	}, ctrl.Result{}
}

func (sc *oktaScope) mode(ap *scimv1alpha1.AgencyProvisioning) string {
	if ap.Spec.Okta.CredentialsSecretRef.AuthMode == scimv1alpha1.OktaAuthModePrivateKey {
		return "OAuth service app key"
	}
	return "API token"
}

// credentials reads the Secret; on failure it returns a condition reason and message that name
// the Secret and the missing key, never a value.
func oktaCredentials(ctx context.Context, c client.Reader, ap *scimv1alpha1.AgencyProvisioning) (okta.Credentials,
	string, string) {
	ref := ap.Spec.Okta.CredentialsSecretRef
	var sec corev1.Secret
	err := c.Get(ctx, types.NamespacedName{Namespace: ap.Namespace, Name: ref.Name}, &sec)
	if apierrors.IsNotFound(err) {
		return okta.Credentials{}, scimv1alpha1.ReasonCredentialsSecretMissing,
			fmt.Sprintf("Secret %q (spec.okta.credentialsSecretRef) does not exist in namespace %q", ref.Name,
				ap.Namespace)
	}
	if err != nil {
		return okta.Credentials{}, scimv1alpha1.ReasonCredentialsSecretMissing,
			fmt.Sprintf("Secret %q cannot be read: %v", ref.Name, err)
	}
	creds := okta.Credentials{OrgURL: ap.Spec.Okta.OrgURL}
	// Values made with `kubectl create secret --from-file` often end in a newline, which no
	// HTTP header may carry: surrounding whitespace is never part of a token or an id.
	value := func(k string) string { return strings.TrimSpace(string(sec.Data[k])) }
	need := []string{scimv1alpha1.CredentialsKeyAPIToken}
	if ref.AuthMode == scimv1alpha1.OktaAuthModePrivateKey {
		need = []string{scimv1alpha1.CredentialsKeyClientID, scimv1alpha1.CredentialsKeyPrivateKey}
		creds.ClientID = value(scimv1alpha1.CredentialsKeyClientID)
		creds.PrivateKey = value(scimv1alpha1.CredentialsKeyPrivateKey)
		creds.KeyID = value(scimv1alpha1.CredentialsKeyKeyID)
		creds.Scopes = okta.DefaultScopes
		if scopes := strings.Fields(string(sec.Data[okta.SecretKeyScopes])); len(scopes) > 0 {
			creds.Scopes = scopes
		}
	} else {
		creds.APIToken = value(scimv1alpha1.CredentialsKeyAPIToken)
	}
	for _, k := range need {
		if value(k) == "" {
			return okta.Credentials{}, scimv1alpha1.ReasonCredentialsSecretMissing,
				fmt.Sprintf("Secret %q has no key %q, needed for authMode %s", ref.Name, k, authModeOf(ref))
		}
	}
	for _, k := range []string{scimv1alpha1.CredentialsKeyAPIToken, scimv1alpha1.CredentialsKeyClientID,
		scimv1alpha1.CredentialsKeyKeyID} {
		if i := strings.IndexFunc(value(k), func(r rune) bool { return r <= ' ' || r >= 0x7f }); i >= 0 {
			return okta.Credentials{}, scimv1alpha1.ReasonInvalidCredentials,
				fmt.Sprintf("Secret %q key %q holds a space, a line break or another character that is not "+
					"printable ASCII (at byte %d); a token or id is one word: write the value again", ref.Name, k, i)
		}
	}
	return creds, "", ""
}

// forbiddenHint says what to fix when Okta accepted the credentials but refused a request.
func forbiddenHint(ref scimv1alpha1.OktaCredentialsRef) string {
	if authModeOf(ref) == scimv1alpha1.OktaAuthModePrivateKey {
		return "grant the service app every scope the operator asks for (its Okta API Scopes tab; Okta's " +
			"answer names those missing, docs/okta.md lists them all), or set the scopes key of the Secret"
	}
	return "give the API token's admin a role that can read and manage apps (okta.apps.read is the first " +
		"permission needed; docs/okta.md lists them all)"
}

// rejectedHint says what to fix when Okta rejected the credentials.
func rejectedHint(ref scimv1alpha1.OktaCredentialsRef) string {
	if authModeOf(ref) == scimv1alpha1.OktaAuthModePrivateKey {
		return "check the Secret's clientID against the service app's client ID in Okta, and its privateKey " +
			"(and keyID) against the app's public keys"
	}
	return "replace it in the Secret"
}

func authModeOf(ref scimv1alpha1.OktaCredentialsRef) scimv1alpha1.OktaAuthMode {
	if ref.AuthMode == "" {
		return scimv1alpha1.OktaAuthModeAPIToken
	}
	return ref.AuthMode
}

// oktaFailure turns an Okta error into conditions and a result: credentials, reachability
// and rate limits go to OktaAuthenticated; anything else to OktaAppsConfigured.
func (s *OktaSync) oktaFailure(ap *scimv1alpha1.AgencyProvisioning, err error) (ctrl.Result, error) {
	host := ap.Spec.Okta.OrgURL
	var rl *okta.RateLimitError
	switch {
	case errors.As(err, &rl):
		wait := rl.RetryAfter(s.now())
		setCondition(ap, scimv1alpha1.ConditionOktaAuthenticated, metav1.ConditionFalse,
			scimv1alpha1.ReasonRateLimited,
			fmt.Sprintf("Okta org %s answered 429 Too Many Requests (limit %s); the operator waits until %s "+
				"and retries", host, rl.Limit, rl.Reset.UTC().Format(time.RFC3339)))
		return ctrl.Result{RequeueAfter: wait + time.Second}, nil
	case errors.Is(err, okta.ErrInvalidCredentials):
		setCondition(ap, scimv1alpha1.ConditionOktaAuthenticated, metav1.ConditionFalse,
			scimv1alpha1.ReasonInvalidCredentials,
			fmt.Sprintf("Okta org %s rejected the %s from Secret %q (%v); %s",
				host, authModeOf(ap.Spec.Okta.CredentialsSecretRef), ap.Spec.Okta.CredentialsSecretRef.Name, err,
				rejectedHint(ap.Spec.Okta.CredentialsSecretRef)))
		return ctrl.Result{RequeueAfter: s.retry()}, nil
	case errors.Is(err, okta.ErrUnreachable):
		setCondition(ap, scimv1alpha1.ConditionOktaAuthenticated, metav1.ConditionFalse,
			scimv1alpha1.ReasonOrgUnreachable,
			fmt.Sprintf("Okta org %s is unreachable: %v; check spec.okta.orgURL and the network", host, err))
		return ctrl.Result{}, err
	case errors.Is(err, okta.ErrForbidden):
		setCondition(ap, scimv1alpha1.ConditionOktaAppsConfigured, metav1.ConditionFalse,
			scimv1alpha1.ReasonReconcileFailed,
			fmt.Sprintf("Okta denied a request (%v); the API token's admin role or the service app's scopes lack a "+
				"permission (see docs/okta.md)", err))
		return ctrl.Result{RequeueAfter: s.retry()}, nil
	}
	setCondition(ap, scimv1alpha1.ConditionOktaAppsConfigured, metav1.ConditionFalse,
		scimv1alpha1.ReasonReconcileFailed, err.Error())
	return ctrl.Result{}, err
}

func (s *OktaSync) ensureFinalizer(ctx context.Context, ap *scimv1alpha1.AgencyProvisioning) error {
	want := ap.Spec.DeletionPolicy == scimv1alpha1.DeletionPolicyDelete
	has := controllerutil.ContainsFinalizer(ap, OktaFinalizer)
	if want == has {
		return nil
	}
	return s.patchFinalizer(ctx, ap, want)
}

// patchFinalizer adds or removes the finalizer on a copy, so the answer does not overwrite the
// status this reconcile is building, then copies the metadata back.
func (s *OktaSync) patchFinalizer(ctx context.Context, ap *scimv1alpha1.AgencyProvisioning, add bool) error {
	obj := ap.DeepCopy()
	patch := client.MergeFrom(ap.DeepCopy())
	if add {
		controllerutil.AddFinalizer(obj, OktaFinalizer)
	} else {
		controllerutil.RemoveFinalizer(obj, OktaFinalizer)
	}
	if err := s.Client.Patch(ctx, obj, patch); err != nil {
		return fmt.Errorf("update finalizer %s: %w", OktaFinalizer, err)
	}
	ap.Finalizers = obj.Finalizers
	ap.ResourceVersion = obj.ResourceVersion
	return nil
}

// Finalize removes, for deletionPolicy Delete, the Okta objects the operator created, then the
// finalizer. With Retain nothing in Okta is touched. It reports whether the finalizer is gone.
func (s *OktaSync) Finalize(ctx context.Context, ap *scimv1alpha1.AgencyProvisioning) (bool, error) {
	if !controllerutil.ContainsFinalizer(ap, OktaFinalizer) {
		return true, nil
	}
	if ap.Spec.DeletionPolicy == scimv1alpha1.DeletionPolicyDelete && len(ap.Status.Okta.CreatedObjects) > 0 {
		if err := s.deleteOktaObjects(ctx, ap); err != nil {
			return false, err
		}
	}
	if err := s.patchFinalizer(ctx, ap, false); err != nil {
		return false, fmt.Errorf("cannot remove the finalizer: %w", err)
	}
	return true, nil
}

// deleteOktaObjects deletes the Okta objects the operator created. Without usable credentials
// it waits for them, unless the namespace is being deleted: then the credentials Secret is gone
// for good (nothing can be created in that namespace), so it leaves the objects, logs which,
// and lets the deletion finish.
func (s *OktaSync) deleteOktaObjects(ctx context.Context, ap *scimv1alpha1.AgencyProvisioning) error {
	sc, _ := s.newScope(ctx, ap)
	if sc == nil {
		why := conditionMessage(ap, scimv1alpha1.ConditionOktaAuthenticated)
		if !s.namespaceDeleting(ctx, ap.Namespace) {
			return fmt.Errorf("cannot delete the Okta objects: %s; set spec.deletionPolicy to Retain to leave "+
				"them in Okta", why)
		}
		logf.FromContext(ctx).Info("Leaving the Okta objects the operator created: the namespace is being "+
			"deleted and the Okta credentials cannot be used; remove them in Okta", "why", why,
			"objects", createdObjectList(ap))
		return nil
	}
	if err := s.deleteCreated(ctx, sc); err != nil {
		_, _ = s.oktaFailure(ap, err)
		return fmt.Errorf("cannot delete the Okta objects: %w", err)
	}
	logf.FromContext(ctx).Info("Deleted the Okta objects the operator created")
	return nil
}

// namespaceDeleting says whether the namespace is being deleted or gone; a failed read says no.
func (s *OktaSync) namespaceDeleting(ctx context.Context, name string) bool {
	r := s.APIReader
	if r == nil {
		r = s.Client
	}
	var ns corev1.Namespace
	if err := r.Get(ctx, client.ObjectKey{Name: name}, &ns); err != nil {
		return apierrors.IsNotFound(err)
	}
	return !ns.DeletionTimestamp.IsZero()
}

// createdObjectList names the Okta objects in status.okta.createdObjects, as "Kind id".
func createdObjectList(ap *scimv1alpha1.AgencyProvisioning) []string {
	out := make([]string, 0, len(ap.Status.Okta.CreatedObjects))
	for _, r := range ap.Status.Okta.CreatedObjects {
		out = append(out, r.Kind+" "+r.ID)
	}
	return out
}

func setCondition(ap *scimv1alpha1.AgencyProvisioning, t string, status metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&ap.Status.Conditions, metav1.Condition{
		Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: ap.Generation,
	})
}

func conditionMessage(ap *scimv1alpha1.AgencyProvisioning, t string) string {
	if c := meta.FindStatusCondition(ap.Status.Conditions, t); c != nil {
		return c.Message
	}
	return ""
}
