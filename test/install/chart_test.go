package install

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const chartDir = "charts/scim-operator"

// TestChart_CRDsAndRBACMatchTheGeneratedOnes fails when the chart's copies of the CRDs or
// of the manager's RBAC rules differ from what controller-gen wrote into config/.
func TestChart_CRDsAndRBACMatchTheGeneratedOnes(t *testing.T) {
	root := repoRoot(t)
	generated, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(generated) == 0 {
		t.Fatalf("no CRDs in config/crd/bases (%v)", err)
	}
	copies, err := filepath.Glob(filepath.Join(root, chartDir, "crds", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pairs := map[string]string{
		filepath.Join(root, "config", "rbac", "role.yaml"): filepath.Join(root, chartDir, "files", "manager-role.yaml"),
	}
	for _, src := range generated {
		pairs[src] = filepath.Join(root, chartDir, "crds", filepath.Base(src))
	}
	if len(copies) != len(generated) {
		t.Errorf("the chart has %d CRD files, config/crd/bases has %d; run make chart-sync",
			len(copies), len(generated))
	}
	for src, dst := range pairs {
		want, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(dst)
		if err != nil {
			t.Errorf("%v; run make chart-sync", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s; run make chart-sync", rel(root, dst), rel(root, src))
		}
	}
}

func rel(root, path string) string {
	r, err := filepath.Rel(root, path)
	if err != nil {
		return path
	}
	return r
}

// TestChart_SchemaRejectsBadValuesNamingThem renders the chart with one bad value at a time
// and checks that helm refuses it with a message that names the value.
func TestChart_SchemaRejectsBadValuesNamingThem(t *testing.T) {
	helm := tool(t, "helm")
	tests := []struct {
		name    string
		set     string
		message string
	}{
		{name: "digest without algorithm", set: "image.digest=0123abcd", message: "/image/digest"},
		{name: "unknown pull policy", set: "image.pullPolicy=Sometimes", message: "/image/pullPolicy"},
		{name: "replica count as text", set: "replicaCount=two", message: "/replicaCount"},
		{name: "namespace with capitals", set: "watchNamespaces[0]=Agency_A", message: "/watchNamespaces/0"},
		{name: "misspelt top-level key", set: "watchNamespace[0]=agency-a", message: "'watchNamespace' not allowed"},
		{name: "unknown log level", set: "logLevel=verbose", message: "/logLevel"},
		{name: "metrics on a privileged port", set: "metrics.port=443", message: "/metrics/port"},
		{name: "extra argument without dashes", set: "extraArgs[0]=leader-elect", message: "/extraArgs/0"},
		{name: "Okta timeout without a unit", set: "okta.callTimeout=fast", message: "/okta/callTimeout"},
		{name: "no Okta requests at all", set: "okta.maxConcurrent=0", message: "/okta/maxConcurrent"},
		{name: "Okta timeout of zero", set: "okta.callTimeout=0s", message: "okta.callTimeout must be above zero"},
		{name: "Okta rate-limit wait of zero", set: "okta.maxRateLimitWait=0m0s",
			message: "okta.maxRateLimitWait must be above zero"},
		{name: "name override with capitals", set: "nameOverride=Ops", message: "/nameOverride"},
		{name: "memory limit not a quantity", set: "resources.limits.memory=lots", message: "/resources/limits/memory"},
		{
			name:    "pod label replacing a selector label",
			set:     `podLabels.app\.kubernetes\.io/name=other`,
			message: "/podLabels/app.kubernetes.io~1name",
		},
		{
			name:    "both cert-manager issuers",
			set:     "scimServer.ingress.certManager.issuer=a,scimServer.ingress.certManager.clusterIssuer=b",
			message: "set clusterIssuer or issuer, not both",
		},
		{
			name:    "several replicas without leader election",
			set:     "replicaCount=2,leaderElection.enabled=false",
			message: "needs leaderElection.enabled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runErr(t, nil, helm, "template", "x", chartDir, "--set", tt.set)
			if err == nil {
				t.Fatalf("helm template --set %s succeeded:\n%.300s", tt.set, out)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("helm template --set %s: error does not mention %q:\n%v", tt.set, tt.message, err)
			}
		})
	}
}

// TestChart_ExamplesRender renders every example values file.
func TestChart_ExamplesRender(t *testing.T) {
	helm := tool(t, "helm")
	examples, err := filepath.Glob(filepath.Join(repoRoot(t), chartDir, "examples", "*.yaml"))
	if err != nil || len(examples) == 0 {
		t.Fatalf("no example values files (%v)", err)
	}
	for _, file := range examples {
		t.Run(filepath.Base(file), func(t *testing.T) {
			objs := decodeObjects(t, run(t, nil, helm, "template", "x", chartDir, "-f", file))
			if findObject(objs, "Deployment", "") == nil {
				t.Errorf("no Deployment rendered from %s", filepath.Base(file))
			}
		})
	}
}

// TestChart_WatchNamespacesGetRolesInsteadOfAClusterRole checks that an operator limited to
// some namespaces gets the generated rules in a Role in each, and no cluster-wide grant of them.
func TestChart_WatchNamespacesGetRolesInsteadOfAClusterRole(t *testing.T) {
	helm := tool(t, "helm")
	objs := decodeObjects(t, run(t, nil, helm, "template", "ops", chartDir, "--namespace", "platform",
		"--set", "watchNamespaces={agency-a,agency-b}"))

	for _, ns := range []string{"agency-a", "agency-b"} {
		role := findObject(objs, "Role", ns)
		if role == nil {
			t.Errorf("no Role in %s", ns)
			continue
		}
		rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
		if len(rules) == 0 {
			t.Errorf("Role in %s has no rules", ns)
		}
		if findObject(objs, "RoleBinding", ns) == nil {
			t.Errorf("no RoleBinding in %s", ns)
		}
	}
	for _, obj := range objs {
		if obj.GetKind() == "ClusterRole" && strings.HasSuffix(obj.GetName(), "-manager") {
			t.Errorf("ClusterRole %s rendered although watchNamespaces is set", obj.GetName())
		}
	}
	dep := findObject(objs, "Deployment", "platform")
	if dep == nil {
		t.Fatal("no Deployment")
	}
	if args := managerArgs(dep); !slices.Contains(args, "--watch-namespaces=agency-a,agency-b") {
		t.Errorf("manager args %v lack --watch-namespaces=agency-a,agency-b", args)
	}
}

// TestChart_ManagerIsHardenedAndGetsTheSCIMServerSettings checks the manager's pod security
// and the flags that carry the chart's SCIM server settings.
func TestChart_ManagerIsHardenedAndGetsTheSCIMServerSettings(t *testing.T) {
	helm := tool(t, "helm")
	objs := decodeObjects(t, run(t, nil, helm, "template", "scim-operator", chartDir,
		"--set", "image.repository=registry.example.org/scim-operator,image.tag=1.2.3",
		"--set", "scimServer.ingress.className=nginx,scimServer.ingress.certManager.clusterIssuer=le-prod"))
	dep := findObject(objs, "Deployment", "")
	if dep == nil {
		t.Fatal("no Deployment")
	}
	checks := []struct {
		path []string
		want any
	}{
		{[]string{"spec", "template", "spec", "securityContext", "runAsNonRoot"}, true},
		{[]string{"spec", "template", "spec", "securityContext", "seccompProfile", "type"}, "RuntimeDefault"},
	}
	for _, c := range checks {
		got, _, _ := unstructured.NestedFieldNoCopy(dep.Object, c.path...)
		if got != c.want {
			t.Errorf("%s = %v, want %v", strings.Join(c.path, "."), got, c.want)
		}
	}
	container := managerContainer(dep)
	sc, _ := container["securityContext"].(map[string]any)
	if sc["readOnlyRootFilesystem"] != true || sc["allowPrivilegeEscalation"] != false {
		t.Errorf("manager securityContext %v: want a read-only root filesystem and no privilege escalation", sc)
	}
	if drop, _, _ := unstructured.NestedStringSlice(sc, "capabilities", "drop"); !slices.Equal(drop, []string{"ALL"}) {
		t.Errorf("capabilities.drop = %v, want [ALL]", drop)
	}
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		if container[probe] == nil {
			t.Errorf("manager has no %s", probe)
		}
	}
	args := managerArgs(dep)
	for _, want := range []string{
		"--leader-elect",
		"--scim-server-image=registry.example.org/scim-operator:1.2.3",
		"--scim-ingress-class=nginx",
		"--scim-ingress-cluster-issuer=le-prod",
	} {
		if !slices.Contains(args, want) {
			t.Errorf("manager args %v lack %s", args, want)
		}
	}
	if container["image"] != "registry.example.org/scim-operator:1.2.3" {
		t.Errorf("image = %v", container["image"])
	}
}

func findObject(objs []*unstructured.Unstructured, kind, namespace string) *unstructured.Unstructured {
	for _, obj := range objs {
		if obj.GetKind() == kind && (namespace == "" || obj.GetNamespace() == namespace) {
			return obj
		}
	}
	return nil
}

func managerContainer(dep *unstructured.Unstructured) map[string]any {
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		if m, _ := c.(map[string]any); m["name"] == "manager" {
			return m
		}
	}
	return nil
}

func managerArgs(dep *unstructured.Unstructured) []string {
	var args []string
	raw, _ := managerContainer(dep)["args"].([]any)
	for _, a := range raw {
		if s, ok := a.(string); ok {
			args = append(args, s)
		}
	}
	return args
}

// TestChart_OptionalObjectsFollowTheirSwitches checks that the ServiceMonitor, the SCIM
// servers' PodMonitor, the PrometheusRule and the NetworkPolicy appear only when enabled, and that the manager's
// ClusterRole carries exactly the rules controller-gen generated.
func TestChart_OptionalObjectsFollowTheirSwitches(t *testing.T) {
	helm := tool(t, "helm")
	plain := decodeObjects(t, run(t, nil, helm, "template", "x", chartDir))
	for _, kind := range []string{"ServiceMonitor", "PodMonitor", "PrometheusRule", "NetworkPolicy"} {
		if findObject(plain, kind, "") != nil {
			t.Errorf("%s rendered with the default values", kind)
		}
	}
	var role *unstructured.Unstructured
	for _, obj := range plain {
		if obj.GetKind() == "ClusterRole" && obj.GetName() == "x-scim-operator-manager" {
			role = obj
		}
	}
	generated := decodeObjects(t, mustRead(t, filepath.Join(repoRoot(t), "config", "rbac", "role.yaml")))
	if role == nil || len(generated) != 1 {
		t.Fatalf("manager ClusterRole rendered: %v; generated role documents: %d", role != nil, len(generated))
	}
	if got, want := role.Object["rules"], generated[0].Object["rules"]; !reflect.DeepEqual(got, want) {
		t.Errorf("the chart's manager rules differ from config/rbac/role.yaml:\n got %v\nwant %v", got, want)
	}

	enabled := decodeObjects(t, run(t, nil, helm, "template", "x", chartDir,
		"--set", "metrics.serviceMonitor.enabled=true,networkPolicy.enabled=true,metrics.port=9443",
		"--set", "metrics.prometheusRule.enabled=true,metrics.prometheusRule.for=5m",
		"--set", "metrics.scimServerPodMonitor.enabled=true"))
	if findObject(enabled, "ServiceMonitor", "") == nil {
		t.Error("no ServiceMonitor with metrics.serviceMonitor.enabled=true")
	}
	checkPrometheusRule(t, findObject(enabled, "PrometheusRule", ""))
	pm := findObject(enabled, "PodMonitor", "")
	if pm == nil {
		t.Fatal("no PodMonitor with metrics.scimServerPodMonitor.enabled=true")
	}
	if any, _, _ := unstructured.NestedBool(pm.Object, "spec", "namespaceSelector", "any"); !any {
		t.Errorf("PodMonitor namespaceSelector %v: want any namespace when watchNamespaces is empty",
			pm.Object["spec"])
	}
	np := findObject(enabled, "NetworkPolicy", "")
	if np == nil {
		t.Fatal("no NetworkPolicy with networkPolicy.enabled=true")
	}
	ingress, _, _ := unstructured.NestedSlice(np.Object, "spec", "ingress")
	if len(ingress) != 1 || !strings.Contains(fmt.Sprint(ingress[0]), "port:9443") {
		t.Errorf("NetworkPolicy ingress %v: want one rule for the metrics port 9443", ingress)
	}
}

// checkPrometheusRule: the chart's alerts, each on a metric the manager exports, for the
// configured time, with Prometheus's own {{ $labels }} left for Prometheus to fill in.
func checkPrometheusRule(t *testing.T, rule *unstructured.Unstructured) {
	t.Helper()
	if rule == nil {
		t.Fatal("no PrometheusRule with metrics.prometheusRule.enabled=true")
	}
	groups, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
	if len(groups) != 1 {
		t.Fatalf("PrometheusRule groups = %v", groups)
	}
	rules, _, _ := unstructured.NestedSlice(groups[0].(map[string]any), "rules")
	want := map[string]string{
		"ScimAgencyNotReady":      `scim_operator_condition{kind="AgencyProvisioning",type="Ready",status="True"}`,
		"ScimUserMappingNotReady": `scim_operator_condition{kind="ScimUserMapping",type="Ready",status="True"}`,
		"ScimOktaRateLimited":     `scim_operator_okta_requests_total{code="429"}`,
	}
	for _, r := range rules {
		m := r.(map[string]any)
		alert, _ := m["alert"].(string)
		expr, _ := m["expr"].(string)
		summary, _, _ := unstructured.NestedString(m, "annotations", "summary")
		if w, ok := want[alert]; !ok || !strings.Contains(expr, w) || m["for"] != "5m" ||
			!strings.Contains(summary, "{{ $labels.") {
			t.Errorf("alert %q: expr %q, for %v, summary %q", alert, expr, m["for"], summary)
		}
		delete(want, alert)
	}
	if len(want) > 0 {
		t.Errorf("alerts missing: %v", want)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
