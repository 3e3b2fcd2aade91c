package install

import (
	"path/filepath"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestHelmInstall_ManagerBecomesAvailableUpgradesAndUninstallLeavesOnlyCRDs installs the chart with
// `helm install --wait` into a namespace that enforces the restricted Pod Security Standard,
// checks what a platform team would check, upgrades it and uninstalls it.
func TestHelmInstall_ManagerBecomesAvailableUpgradesAndUninstallLeavesOnlyCRDs(t *testing.T) {
	helm := tool(t, "helm")
	c := startCluster(t)
	k := newKube(t, c)
	const namespace, release = "scim-operator-helm", "scim-operator"
	kubeconfig := "--kubeconfig=" + c.Kubeconfig()
	k.createRestrictedNamespace(t, namespace)

	run(t, nil, helm, "install", release, filepath.Join("charts", "scim-operator"), kubeconfig,
		"--namespace", namespace, "--wait", "--timeout", "3m")
	objs := decodeObjects(t, run(t, nil, helm, "get", "manifest", release, kubeconfig, "--namespace", namespace))
	if len(objs) < 8 {
		t.Fatalf("helm get manifest lists %d objects; want the Deployment, Service, ServiceAccount and RBAC", len(objs))
	}

	k.expectCRDsEstablished(t)
	k.expectExist(t, objs, namespace)
	k.expectDeploymentAvailable(t, namespace, release)
	k.expectAccess(t, namespace, release, managerAccess(namespace))
	dep, err := k.cs.AppsV1().Deployments(namespace).Get(t.Context(), release, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	expectManagerRunsWithItsRBAC(t, c, k, dep, agencyNamespace)

	// An upgrade that changes a value rolls the manager out again.
	run(t, nil, helm, "upgrade", release, filepath.Join("charts", "scim-operator"), kubeconfig,
		"--namespace", namespace, "--reuse-values", "--set", "logLevel=debug", "--wait", "--timeout", "3m")
	k.expectDeploymentAvailable(t, namespace, release)
	upgraded, err := k.cs.AppsV1().Deployments(namespace).Get(t.Context(), release, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if upgraded.Generation <= dep.Generation ||
		!slices.Contains(upgraded.Spec.Template.Spec.Containers[0].Args, "--zap-log-level=debug") {
		t.Errorf("helm upgrade did not roll out the new log level: generation %d -> %d, args %v",
			dep.Generation, upgraded.Generation, upgraded.Spec.Template.Spec.Containers[0].Args)
	}

	run(t, nil, helm, "uninstall", release, kubeconfig, "--namespace", namespace, "--wait", "--timeout", "2m")
	k.expectGone(t, objs, namespace)
	k.expectNoPods(t, namespace, "app.kubernetes.io/instance="+release)
	// Helm never deletes what it installed from crds/: the agencies' objects survive.
	k.expectCRDsEstablished(t)
}

// managerAccess is what the manager's ServiceAccount must, and must not, be allowed to do.
func managerAccess(namespace string) []access {
	const group = "scim.provisioning.dev"
	return []access{
		{verb: "watch", group: group, resource: "agencyprovisionings", namespace: "agency-a", allowed: true},
		{verb: "list", group: group, resource: "scimusermappings", namespace: "", allowed: true},
		{verb: "update", group: group, resource: "agencyprovisionings", subresource: "status",
			namespace: "agency-a", allowed: true},
		{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: namespace, allowed: true},
		{verb: "create", group: "authentication.k8s.io", resource: "tokenreviews", allowed: true},
		{verb: "delete", resource: "namespaces", allowed: false},
		{verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings", allowed: false},
		{verb: "delete", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", allowed: false},
	}
}
