package localcluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// start starts a cluster or skips the test when the binaries are missing (fails under CI=true).
func start(t *testing.T, opts Options) *Cluster {
	t.Helper()
	began := time.Now()
	c, err := Start(t.Context(), opts)
	if errors.Is(err, ErrBinariesMissing) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true, so this fails instead of skipping)", err)
		}
		t.Skipf("%v; skipping (make cluster-binaries builds them)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started in %s", time.Since(began).Round(100*time.Millisecond))
	return c
}

func TestStart_DeploymentRollsOutOnTheSimulatedNodeAndStopLeavesNothing(t *testing.T) {
	c := start(t, Options{})
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = c.Stop()
		}
	})

	cfg, err := c.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "probe"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "probe", Image: "probe.invalid/probe:1"}},
				},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("default").Create(t.Context(), dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The controller manager makes the ReplicaSet and pods, the scheduler binds them, kwok runs them.
	err = wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true,
		func(ctx context.Context) (bool, error) {
			got, err := cs.AppsV1().Deployments("default").Get(ctx, "probe", metav1.GetOptions{})
			return err == nil && got.Status.AvailableReplicas == 2, nil
		})
	if err != nil {
		t.Fatalf("the Deployment did not become available: %v (logs in %s)", err, filepath.Join(c.Dir(), "logs"))
	}

	// Deleting it lets the garbage collector remove the pods, which kwok lets go at once.
	if err := cs.AppsV1().Deployments("default").Delete(t.Context(), "probe", metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationForeground),
	}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true,
		func(ctx context.Context) (bool, error) {
			pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=probe"})
			return err == nil && len(pods.Items) == 0, nil
		})
	if err != nil {
		t.Fatalf("the pods were not removed: %v", err)
	}

	dir, procs := c.Dir(), c.Processes
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	for _, p := range procs {
		if !p.exited() {
			t.Errorf("%s (pid %d) still runs after Stop", p.Name, p.PID)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stop left the temporary directory %s (stat: %v)", dir, err)
	}
}

func TestAttach_StopsADetachedClusterFromItsDirectoryAndKeepsTheLogs(t *testing.T) {
	dir := t.TempDir()
	c := start(t, Options{Dir: dir, Detach: true})
	t.Cleanup(func() { _ = c.Stop() })

	if _, err := Start(t.Context(), Options{Dir: dir}); err == nil {
		t.Fatal("a second Start in the same directory succeeded")
	}

	attached, err := Attach(dir)
	if err != nil {
		t.Fatal(err)
	}
	if attached.Kubeconfig() != c.Kubeconfig() || len(attached.Processes) != 5 {
		t.Fatalf("attached to %s with %d processes; want %s with 5", attached.Kubeconfig(),
			len(attached.Processes), c.Kubeconfig())
	}
	if err := attached.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Processes {
		if !p.exited() {
			t.Errorf("%s (pid %d) still runs after the attached Stop", p.Name, p.PID)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "logs", "kube-apiserver.log")); err != nil {
		t.Errorf("the logs are gone: %v", err)
	}
	if _, err := Attach(dir); err == nil {
		t.Error("Attach found a cluster in the directory after Stop")
	}
}

func TestResolveBinaries_NamesEveryMissingBinary(t *testing.T) {
	_, err := resolveBinaries(t.TempDir())
	if !errors.Is(err, ErrBinariesMissing) {
		t.Fatalf("got %v, want ErrBinariesMissing", err)
	}
	for _, name := range []string{etcd, kubeAPIServer, kubeControllerManager, kubeScheduler, kwok} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}
