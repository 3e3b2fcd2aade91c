package install

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestKustomizeInstall_ManagerBecomesAvailableAndDeleteRemovesEverything applies
// `kustomize build config/default` with kubectl, checks the same things as the Helm test,
// and deletes the build again.
func TestKustomizeInstall_ManagerBecomesAvailableAndDeleteRemovesEverything(t *testing.T) {
	kustomize, kubectl := tool(t, "kustomize"), tool(t, "kubectl")
	c := startCluster(t)
	k := newKube(t, c)
	const namespace, deployment = "scim-operator-system", "scim-operator-controller-manager"
	kubeconfig := "--kubeconfig=" + c.Kubeconfig()

	build := run(t, nil, kustomize, "build", "config/default")
	objs := decodeObjects(t, build)
	expectManagerImageFollowsContainer(t, objs)

	// --force-conflicts: the Helm test leaves its CRDs behind (helm uninstall keeps them), and
	// kubectl takes them over, as an admin switching install methods would.
	run(t, build, kubectl, kubeconfig, "apply", "--server-side", "--force-conflicts",
		"--field-manager=install-test", "-f", "-")
	run(t, nil, kubectl, kubeconfig, "wait", "--for=condition=Established", "--timeout=2m",
		"crd/"+crdNames[0], "crd/"+crdNames[1])
	run(t, nil, kubectl, kubeconfig, "--namespace", namespace, "rollout", "status",
		"deployment/"+deployment, "--timeout=2m")

	k.expectCRDsEstablished(t)
	k.expectExist(t, objs, namespace)
	k.expectDeploymentAvailable(t, namespace, deployment)
	k.expectAccess(t, namespace, deployment, managerAccess(namespace))

	run(t, build, kubectl, kubeconfig, "delete", "--wait=true", "--timeout=2m", "-f", "-")
	k.expectGone(t, objs, namespace)
}

// expectManagerImageFollowsContainer checks that the kustomize replacement gives the manager's
// --scim-server-image flag the manager's own image.
func expectManagerImageFollowsContainer(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, obj := range objs {
		if obj.GetKind() != "Deployment" {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
		for _, c := range containers {
			m, _ := c.(map[string]any)
			if m["name"] != "manager" {
				continue
			}
			args, _ := m["args"].([]any)
			want := "--scim-server-image=" + m["image"].(string)
			for _, a := range args {
				if a == want {
					return
				}
			}
			t.Fatalf("manager args %v lack %q", args, want)
		}
	}
	t.Fatalf("the kustomize build has no Deployment with a manager container (%d objects)", len(objs))
}
