package install

import (
	"path/filepath"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestHelmInstall_NamespacedManagerRunsWithOnlyItsRoles installs the chart limited to one
// agency namespace (watchNamespaces: a Role there instead of a ClusterRole) with the SCIM
// Ingress defaults set, and runs the manager built from this tree with the release's flags and
// rights: its cache must stay inside the namespace it may read, or it never syncs.
func TestHelmInstall_NamespacedManagerRunsWithOnlyItsRoles(t *testing.T) {
	helm := tool(t, "helm")
	c := startCluster(t)
	k := newKube(t, c)
	const namespace, release, agencies = "scim-operator-ns", "scim-operator-ns", "agency-namespaced-test"
	kubeconfig := "--kubeconfig=" + c.Kubeconfig()
	k.createRestrictedNamespace(t, namespace)
	k.createRestrictedNamespace(t, agencies)

	run(t, nil, helm, "install", release, filepath.Join("charts", "scim-operator"), kubeconfig,
		"--namespace", namespace, "--wait", "--timeout", "3m",
		"--set", "watchNamespaces={"+agencies+"}",
		"--set", "scimServer.ingress.className=nginx",
		"--set", "scimServer.ingress.certManager.issuer=agency-ca")
	k.expectDeploymentAvailable(t, namespace, release)
	dep, err := k.cs.AppsV1().Deployments(namespace).Get(t.Context(), release, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	args := dep.Spec.Template.Spec.Containers[0].Args
	for _, want := range []string{"--watch-namespaces=" + agencies, "--scim-ingress-class=nginx",
		"--scim-ingress-issuer=agency-ca"} {
		if !slices.Contains(args, want) {
			t.Errorf("the Deployment does not pass %s: %v", want, args)
		}
	}
	expectManagerRunsWithItsRBAC(t, c, k, dep, agencies)

	run(t, nil, helm, "uninstall", release, kubeconfig, "--namespace", namespace, "--wait", "--timeout", "2m")
}
