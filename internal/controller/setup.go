package controller

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/provisioning-dev/scim-operator/internal/okta"
)

// EventSource is the name the operator records its Events under.
const EventSource = "scim-operator"

// CacheByObject narrows the manager's cache for kinds the controllers watch that exist far
// beyond the operator's objects: of all pods, ConfigMaps, Services, Deployments, Ingresses,
// PodDisruptionBudgets and volume claims in the cluster, only those the operator made (its
// labels) are cached. Reads of the operator's own objects go through this cache, so an object
// of the same name without those labels is never taken for one of them.
func CacheByObject() map[client.Object]cache.ByObject {
	ours := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{LabelManagedBy: managerName,
		LabelName: containerName})}
	return map[client.Object]cache.ByObject{
		&corev1.Pod{}: ours, &corev1.ConfigMap{}: ours, &corev1.Service{}: ours,
		&corev1.PersistentVolumeClaim{}: ours, &appsv1.Deployment{}: ours, &networkingv1.Ingress{}: ours,
		&policyv1.PodDisruptionBudget{}: ours,
	}
}

// ClientOptions keeps Secrets out of the manager's cache: the operator reads the few Secrets an
// agency names straight from the API server, and watches Secrets' metadata only, so the
// cluster's Secret data is never held in its memory.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}}
}

// Options configure the operator's controllers. cmd/main.go fills them from its flags; the
// demo sets short intervals.
type Options struct {
	// ScimServerImage is the SCIM server image used when an agency's spec names none.
	ScimServerImage string
	// Ingress fills what an agency's spec.scimServer.ingress leaves out.
	Ingress IngressDefaults
	// NewOrg builds the Okta client from an agency's credentials (required); share one
	// okta.Factory's NewOrg so that an org's rate limit is respected across agencies.
	NewOrg okta.NewOrgFunc
	// ReportHTTP reads the SCIM servers' reports (default: a client with a 5s timeout).
	ReportHTTP *http.Client
	// AllowReportAnnotation lets the scim.provisioning.dev/report-url annotation say where a
	// SCIM server's report is, for SCIM servers running outside the cluster.
	AllowReportAnnotation bool
	// ResyncPeriod, when set, overrides every agency's spec.okta.resyncPeriod.
	ResyncPeriod time.Duration
	// ReportPollInterval and RetryInterval tune the Okta steps (see OktaSync); zero keeps
	// their defaults.
	ReportPollInterval time.Duration
	RetryInterval      time.Duration
	// Workers is how many objects of each kind are reconciled at once; 0 means DefaultWorkers.
	Workers int
}

// DefaultWorkers is how many AgencyProvisionings, and how many ScimUserMappings, are reconciled
// at once unless Options say otherwise: an Okta org that does not answer holds a worker for
// about a minute per call, and should not hold up every other agency meanwhile.
const DefaultWorkers = 4

// Setup registers the operator's controllers with mgr: the AgencyProvisioning controller with
// its Okta steps (refused SCIM writes recorded as Events) and the ScimUserMapping controller.
func Setup(mgr ctrl.Manager, o Options) error {
	ap, sum, err := newReconcilers(mgr, o)
	if err != nil {
		return err
	}
	if err := ap.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up the AgencyProvisioning controller: %w", err)
	}
	if err := sum.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up the ScimUserMapping controller: %w", err)
	}
	return nil
}

// newReconcilers builds the reconcilers Setup registers.
func newReconcilers(
	mgr ctrl.Manager,
	o Options,
) (*AgencyProvisioningReconciler, *ScimUserMappingReconciler, error) {
	if o.NewOrg == nil {
		return nil, nil, errors.New("no Okta client constructor (Options.NewOrg)")
	}
	if err := o.Ingress.Validate(); err != nil {
		return nil, nil, fmt.Errorf("SCIM Ingress defaults: %w", err)
	}
	recorder := BoundedNotes(mgr.GetEventRecorder(EventSource))
	workers := o.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	ap := &AgencyProvisioningReconciler{
		Workers:         workers,
		Client:          mgr.GetClient(),
		Scheme:          mgr.GetScheme(),
		Recorder:        recorder,
		ScimServerImage: o.ScimServerImage,
		Ingress:         o.Ingress,
		Okta: &OktaSync{
			Client:    mgr.GetClient(),
			APIReader: mgr.GetAPIReader(),
			// The metadata watch of Secrets (SetupWithManager) fills the cache this reads.
			SecretMetadata: mgr.GetCache(),
			NewOrg:         o.NewOrg,
			Reports: &RefusalEventReader{
				Reader:   &HTTPReportReader{HTTP: o.ReportHTTP, AllowAnnotation: o.AllowReportAnnotation},
				Recorder: recorder,
			},
			ResyncPeriod:       o.ResyncPeriod,
			ReportPollInterval: o.ReportPollInterval,
			RetryInterval:      o.RetryInterval,
		},
	}
	sum := &ScimUserMappingReconciler{
		Workers:       workers,
		Client:        mgr.GetClient(),
		Scheme:        mgr.GetScheme(),
		NewOrg:        o.NewOrg,
		ResyncPeriod:  o.ResyncPeriod,
		RetryInterval: o.RetryInterval,
		Recorder:      recorder,
	}
	return ap, sum, nil
}
