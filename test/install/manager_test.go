package install

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/test/localcluster"
)

// agencyNamespace is where the manager test applies its AgencyProvisioning.
const agencyNamespace = "agency-install-test"

var (
	managerOnce sync.Once
	managerBin  string
)

// buildManager compiles ./cmd once for the package's tests; TestMain removes it.
func buildManager(t *testing.T) string {
	t.Helper()
	managerOnce.Do(func() {
		dir, err := os.MkdirTemp("", "install-test-manager-")
		if err != nil {
			t.Fatal(err)
		}
		scratchDirs = append(scratchDirs, dir)
		if _, err := runErr(t, nil, "go", "build", "-o", filepath.Join(dir, "manager"), "./cmd"); err != nil {
			t.Fatalf("go build ./cmd: %v", err)
		}
		managerBin = filepath.Join(dir, "manager")
	})
	if managerBin == "" {
		t.Fatal("the manager did not build (see the first test that needed it)")
	}
	return managerBin
}

// expectManagerRunsWithItsRBAC runs the manager built from this tree as a local process,
// with the flags the installed Deployment gives it and with the installed ServiceAccount's
// rights (impersonated), and checks that it turns an AgencyProvisioning into a SCIM server
// Deployment that becomes Available in a namespace enforcing the restricted Pod Security
// Standard. It proves that the flags exist, that the generated RBAC is enough for the workload
// controller, and that the SCIM server pods are hardened. It applies the AgencyProvisioning in
// agencyNS, which it creates (restricted) unless it exists, and deletes at the end.
func expectManagerRunsWithItsRBAC(
	t *testing.T,
	c *localcluster.Cluster,
	k *kube,
	dep *appsv1.Deployment,
	agencyNS string,
) {
	t.Helper()
	manager := buildManager(t)
	kubeconfig := impersonatingKubeconfig(t, c, dep.Namespace, dep.Spec.Template.Spec.ServiceAccountName)
	args := localManagerArgs(t, dep)

	ctx, cancel := context.WithCancel(t.Context())
	logPath := filepath.Join(t.TempDir(), "manager.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, manager, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("manager %s", strings.Join(args, " "))
	defer func() {
		cancel()
		_ = cmd.Wait()
		_ = logFile.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("manager log:\n%s", lastLines(string(data), 40))
		}
	}()

	if _, err := k.cs.CoreV1().Namespaces().Get(t.Context(), agencyNS, metav1.GetOptions{}); err != nil {
		k.createRestrictedNamespace(t, agencyNS)
	}
	createVolume(t, k, agencyNS)
	agencies := k.dyn.Resource(schema.GroupVersionResource{
		Group: "scim.provisioning.dev", Version: "v1alpha1", Resource: "agencyprovisionings",
	}).Namespace(agencyNS)
	ap := testAgency()
	if _, err := agencies.Create(t.Context(), ap, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create AgencyProvisioning: %v", err)
	}

	var scim *appsv1.Deployment
	err = wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, pollTimeout, true,
		func(ctx context.Context) (bool, error) {
			if cmd.ProcessState != nil {
				return false, fmt.Errorf("the manager exited: %s", cmd.ProcessState)
			}
			deps, err := k.cs.AppsV1().Deployments(agencyNS).List(ctx, metav1.ListOptions{})
			if err != nil || len(deps.Items) == 0 {
				return false, nil
			}
			scim = &deps.Items[0]
			return deploymentAvailable(scim), nil
		})
	if err != nil {
		t.Fatalf("no Available SCIM server Deployment in %s: %v; last seen: %+v",
			agencyNS, err, deploymentStatus(scim))
	}
	if owner := metav1.GetControllerOf(scim); owner == nil || owner.Kind != "AgencyProvisioning" {
		t.Errorf("SCIM server Deployment %s is not controlled by the AgencyProvisioning: %v", scim.Name, owner)
	}

	expectOktaStepRan(t, agencies, ap.GetName())

	if err := agencies.Delete(t.Context(), ap.GetName(), metav1.DeleteOptions{}); err != nil {
		t.Errorf("delete AgencyProvisioning: %v", err)
	}
	if err := k.cs.CoreV1().Namespaces().Delete(t.Context(), agencyNS, metav1.DeleteOptions{}); err != nil {
		t.Errorf("delete namespace %s: %v", agencyNS, err)
	}
}

// expectOktaStepRan checks that the manager runs the Okta side too: the test agency names a
// credentials Secret that does not exist, which only the Okta step reports.
func expectOktaStepRan(t *testing.T, agencies dynamic.ResourceInterface, name string) {
	t.Helper()
	var conditions []any
	err := wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, pollTimeout, true,
		func(ctx context.Context) (bool, error) {
			ap, err := agencies.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			conditions, _, _ = unstructured.NestedSlice(ap.Object, "status", "conditions")
			for _, c := range conditions {
				c, _ := c.(map[string]any)
				if c["type"] == scimv1alpha1.ConditionOktaAuthenticated &&
					c["status"] == string(metav1.ConditionFalse) &&
					c["reason"] == scimv1alpha1.ReasonCredentialsSecretMissing {
					return true, nil
				}
			}
			return false, nil
		})
	if err != nil {
		t.Errorf("the manager did not report the missing Okta credentials Secret (OktaAuthenticated=False, "+
			"CredentialsSecretMissing): %v; conditions: %v", err, conditions)
	}
}

// localManagerArgs are the installed Deployment's manager arguments, with the listeners moved
// to free ports on 127.0.0.1 and leader election off (outside a pod the manager cannot tell
// its namespace).
func localManagerArgs(t *testing.T, dep *appsv1.Deployment) []string {
	t.Helper()
	var container *corev1.Container
	for i := range dep.Spec.Template.Spec.Containers {
		if dep.Spec.Template.Spec.Containers[i].Name == "manager" {
			container = &dep.Spec.Template.Spec.Containers[i]
		}
	}
	if container == nil {
		t.Fatalf("Deployment %s has no manager container", dep.Name)
	}
	probe := freePort(t)
	var args []string
	for _, a := range container.Args {
		switch name, _, _ := strings.Cut(a, "="); name {
		case "--leader-elect":
		case "--health-probe-bind-address":
			args = append(args, "--health-probe-bind-address=127.0.0.1:"+strconv.Itoa(probe))
		case "--metrics-bind-address":
			args = append(args, "--metrics-bind-address=0")
		default:
			args = append(args, a)
		}
	}
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--scim-server-image=") }) {
		t.Errorf("the Deployment does not pass --scim-server-image: %v", container.Args)
	}
	return args
}

// impersonatingKubeconfig writes a kubeconfig that acts as the ServiceAccount: the admin
// certificate authenticates, and the API server authorizes every request as the account.
func impersonatingKubeconfig(t *testing.T, c *localcluster.Cluster, namespace, serviceAccount string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(c.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, auth := range cfg.AuthInfos {
		auth.Impersonate = fmt.Sprintf("system:serviceaccount:%s:%s", namespace, serviceAccount)
		auth.ImpersonateGroups = []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace,
			"system:authenticated"}
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// createVolume offers the SCIM server's SQLite claim a volume to bind, as a cluster's
// provisioner would.
func createVolume(t *testing.T, k *kube, agencyNS string) {
	t.Helper()
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: agencyNS + "-scim-store"},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/install-test"},
			},
		},
	}
	if _, err := k.cs.CoreV1().PersistentVolumes().Create(t.Context(), pv, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create PersistentVolume: %v", err)
	}
	t.Cleanup(func() {
		_ = k.cs.CoreV1().PersistentVolumes().Delete(context.Background(), pv.Name, metav1.DeleteOptions{})
	})
}

// testAgency is an AgencyProvisioning whose Okta org is a closed port on 127.0.0.1, so nothing
// outside this machine is ever contacted.
func testAgency() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "scim.provisioning.dev/v1alpha1",
		"kind":       "AgencyProvisioning",
		"metadata":   map[string]any{"name": "install-test"},
		"spec": map[string]any{
			"agencyId": "install-test",
			"okta": map[string]any{
				"orgURL":               "https://127.0.0.1:1",
				"credentialsSecretRef": map[string]any{"name": "absent"},
			},
			"scimServer": map[string]any{
				"storage": map[string]any{"type": "sqlite", "sqlite": map[string]any{"size": "1Gi"}},
			},
		},
	}}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
