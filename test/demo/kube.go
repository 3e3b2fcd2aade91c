package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/controller"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// pollInterval is how often the waits below look at the API server.
const pollInterval = 200 * time.Millisecond

func objectMeta(namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name}
}

func (e *Env) installCRDs(_ context.Context) error {
	cfg, err := e.Cluster.RESTConfig()
	if err != nil {
		return err
	}
	crds, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{
		Paths:              []string{filepath.Join(e.opts.Root, "config", "crd", "bases")},
		ErrorIfPathMissing: true,
		MaxTime:            30 * time.Second,
	})
	if err != nil {
		return err
	}
	names := make([]string, 0, len(crds))
	for _, c := range crds {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	e.say("CRDs established: %s", strings.Join(names, ", "))
	return nil
}

// Samples returns the AgencyProvisioning and ScimUserMapping in dir (config/samples), as
// written, in the unstructured form kubectl applies. dir must hold exactly one of each, in
// its *.yaml and *.yml files, and the mapping must reference the AgencyProvisioning.
func Samples(dir string) (ap, sum *unstructured.Unstructured, err error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("samples directory: %w", err)
	}
	if !info.IsDir() {
		return nil, nil, fmt.Errorf("samples: %s is not a directory; give the directory that holds "+
			"the AgencyProvisioning and ScimUserMapping manifests", dir)
	}
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		matches, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, nil, fmt.Errorf("list %s: %w", dir, err)
		}
		files = append(files, matches...)
	}
	found := map[string][]*unstructured.Unstructured{}
	for _, f := range files {
		objs, err := readManifests(f)
		if err != nil {
			return nil, nil, err
		}
		for _, obj := range objs {
			found[obj.GetKind()] = append(found[obj.GetKind()], obj)
		}
	}
	for _, kind := range []string{"AgencyProvisioning", "ScimUserMapping"} {
		if n := len(found[kind]); n != 1 {
			return nil, nil, fmt.Errorf("%s holds %d %s manifest(s) of %s in its *.yaml and *.yml files; "+
				"the demo applies exactly one AgencyProvisioning and one ScimUserMapping",
				dir, n, kind, scimv1alpha1.GroupVersion)
		}
	}
	ap, sum = found["AgencyProvisioning"][0], found["ScimUserMapping"][0]
	ref, _, _ := unstructured.NestedString(sum.Object, "spec", "agencyProvisioningRef", "name")
	if ref != ap.GetName() {
		return nil, nil, fmt.Errorf("%s: ScimUserMapping %q references AgencyProvisioning %q "+
			"(spec.agencyProvisioningRef.name), but the AgencyProvisioning there is %q",
			dir, sum.GetName(), ref, ap.GetName())
	}
	return ap, sum, nil
}

// readManifests decodes the objects of the operator's API group in one YAML file; other
// objects (a kustomization, a Secret) are skipped.
func readManifests(file string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	var objs []*unstructured.Unstructured
	for _, doc := range strings.Split(string(data), "\n---") {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			return nil, fmt.Errorf("decode %s: %w", file, err)
		}
		if obj.GetAPIVersion() == scimv1alpha1.GroupVersion.String() {
			objs = append(objs, obj)
		}
	}
	return objs, nil
}

// applySamples creates the namespace, the Okta credentials Secret the sample names, and the
// samples. Two things change for a local run, and only those: spec.okta.orgURL points at
// oktasim, and the report-url annotation tells the operator where the SCIM server's metrics
// port is (in a cluster, its Service).
func (e *Env) applySamples(ctx context.Context) error {
	ap, sum, err := Samples(e.opts.Samples)
	if err != nil {
		return err
	}
	ns := e.opts.Namespace
	if err := e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil &&
		!apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	ap.SetNamespace(ns)
	sum.SetNamespace(ns)
	if e.scimListen, err = freeAddr(); err != nil {
		return err
	}
	if e.scimMetrics, err = freeAddr(); err != nil {
		return err
	}
	sampleOrg, _, _ := unstructured.NestedString(ap.Object, "spec", "okta", "orgURL")
	if err := unstructured.SetNestedField(ap.Object, e.Sim.URL(), "spec", "okta", "orgURL"); err != nil {
		return fmt.Errorf("set spec.okta.orgURL: %w", err)
	}
	reportURL := "http://" + e.scimMetrics + scimconfig.ReportPath
	annotations := ap.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[controller.AnnotationReportURL] = reportURL
	ap.SetAnnotations(annotations)
	secretName, _, _ := unstructured.NestedString(ap.Object, "spec", "okta", "credentialsSecretRef", "name")
	secret := &corev1.Secret{ObjectMeta: objectMeta(ns, secretName),
		Data: map[string][]byte{scimv1alpha1.CredentialsKeyAPIToken: []byte(e.Sim.APIToken())}}
	if err := e.Client.Create(ctx, secret); err != nil {
		return fmt.Errorf("create the Okta credentials Secret: %w", err)
	}
	if err := e.Client.Create(ctx, ap); err != nil {
		return fmt.Errorf("create AgencyProvisioning %s: %w", ap.GetName(), err)
	}
	if err := e.Client.Create(ctx, sum); err != nil {
		return fmt.Errorf("create ScimUserMapping %s: %w", sum.GetName(), err)
	}
	e.AP = types.NamespacedName{Namespace: ns, Name: ap.GetName()}
	e.Mapping = types.NamespacedName{Namespace: ns, Name: sum.GetName()}
	typed, err := e.GetAP(ctx)
	if err != nil {
		return err
	}
	e.say("Applied %s in namespace %s: AgencyProvisioning %s (agency %s, %s) and ScimUserMapping %s",
		e.opts.Samples, ns, typed.Name, typed.Spec.AgencyID, typed.Spec.SyncMode, sum.GetName())
	e.say("  local-run changes: spec.okta.orgURL %s -> %s; annotation %s=%s",
		sampleOrg, typed.Spec.Okta.OrgURL, controller.AnnotationReportURL, reportURL)
	e.say("  Secret %s/%s holds oktasim's API token (key %s)", ns, secretName, scimv1alpha1.CredentialsKeyAPIToken)
	return nil
}

// GetAP reads the AgencyProvisioning.
func (e *Env) GetAP(ctx context.Context) (*scimv1alpha1.AgencyProvisioning, error) {
	ap := &scimv1alpha1.AgencyProvisioning{}
	if err := e.Client.Get(ctx, e.AP, ap); err != nil {
		return nil, fmt.Errorf("get AgencyProvisioning %s: %w", e.AP, err)
	}
	return ap, nil
}

// GetMapping reads the ScimUserMapping.
func (e *Env) GetMapping(ctx context.Context) (*scimv1alpha1.ScimUserMapping, error) {
	sum := &scimv1alpha1.ScimUserMapping{}
	if err := e.Client.Get(ctx, e.Mapping, sum); err != nil {
		return nil, fmt.Errorf("get ScimUserMapping %s: %w", e.Mapping, err)
	}
	return sum, nil
}

// errNotYet is returned by a wait predicate that should be asked again.
var errNotYet = errors.New("not yet")

// WaitAP polls the AgencyProvisioning until check accepts it. On timeout the error carries
// what check last said and the conditions.
func (e *Env) WaitAP(ctx context.Context, timeout time.Duration, what string,
	check func(*scimv1alpha1.AgencyProvisioning) error,
) (*scimv1alpha1.AgencyProvisioning, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	var ap *scimv1alpha1.AgencyProvisioning
	for {
		var err error
		if ap, err = e.GetAP(ctx); err == nil {
			if last = check(ap); last == nil {
				return ap, nil
			}
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			conds := ""
			if ap != nil {
				conds = FormatConditions(ap.Status.Conditions, "  ")
			}
			return ap, fmt.Errorf("waiting for %s: %w (last: %w)\n%s", what, ctx.Err(), last, conds)
		case <-time.After(pollInterval):
		}
	}
}

// conditionIs checks one condition's status and, when reason is not empty, its reason.
func conditionIs(conds []metav1.Condition, typ string, status metav1.ConditionStatus, reason string) error {
	c := meta.FindStatusCondition(conds, typ)
	switch {
	case c == nil:
		return fmt.Errorf("%w: no %s condition", errNotYet, typ)
	case c.Status != status || (reason != "" && c.Reason != reason):
		return fmt.Errorf("%w: %s is %s (%s)", errNotYet, typ, c.Status, c.Reason)
	}
	return nil
}

// FormatConditions renders conditions one per line, as kubectl describe lists them.
func FormatConditions(conds []metav1.Condition, indent string) string {
	var b strings.Builder
	for _, c := range conds {
		fmt.Fprintf(&b, "%s%-22s %-7s %-24s %s\n", indent, c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

// Events lists the Events about an object, oldest first.
func (e *Env) Events(ctx context.Context, obj client.Object) ([]corev1.Event, error) {
	var list corev1.EventList
	if err := e.Client.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	var out []corev1.Event
	for _, ev := range list.Items {
		if ev.InvolvedObject.UID == obj.GetUID() || (ev.InvolvedObject.Name == obj.GetName() &&
			ev.InvolvedObject.Kind == obj.GetObjectKind().GroupVersionKind().Kind) {
			out = append(out, ev)
		}
	}
	slices.SortFunc(out, func(a, b corev1.Event) int { return a.CreationTimestamp.Compare(b.CreationTimestamp.Time) })
	return out, nil
}
