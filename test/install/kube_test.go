package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"github.com/provisioning-dev/scim-operator/test/localcluster"
)

// The operator's CRDs.
var crdNames = []string{
	"agencyprovisionings.scim.provisioning.dev",
	"scimusermappings.scim.provisioning.dev",
}

// pollTimeout bounds every wait on the cluster.
const pollTimeout = 2 * time.Minute

// kube wraps the clients the install tests check the cluster with.
type kube struct {
	cs     kubernetes.Interface
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func newKube(t *testing.T, c *localcluster.Cluster) *kube {
	t.Helper()
	cfg, err := c.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery()))
	return &kube{cs: cs, dyn: dyn, mapper: mapper}
}

// decodeObjects splits a multi-document YAML stream into objects, skipping empty documents.
func decodeObjects(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		err := dec.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("decode manifests: %v", err)
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
}

func describe(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return fmt.Sprintf("%s %s/%s", obj.GetKind(), ns, obj.GetName())
	}
	return obj.GetKind() + " " + obj.GetName()
}

// resource returns the client for obj's kind, in obj's namespace when it is namespaced.
func (k *kube) resource(
	t *testing.T,
	obj *unstructured.Unstructured,
	defaultNamespace string,
) dynamic.ResourceInterface {
	t.Helper()
	gvk := obj.GroupVersionKind()
	mapping, err := k.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		k.mapper.Reset()
		mapping, err = k.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		t.Fatalf("map %s: %v", gvk, err)
	}
	if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		return k.dyn.Resource(mapping.Resource)
	}
	ns := obj.GetNamespace()
	if ns == "" {
		ns = defaultNamespace
	}
	return k.dyn.Resource(mapping.Resource).Namespace(ns)
}

// expectExist checks that every object is in the cluster.
func (k *kube) expectExist(t *testing.T, objs []*unstructured.Unstructured, namespace string) {
	t.Helper()
	for _, obj := range objs {
		if _, err := k.resource(t, obj, namespace).Get(t.Context(), obj.GetName(), metav1.GetOptions{}); err != nil {
			t.Errorf("%s: %v", describe(obj), err)
		}
	}
}

// expectGone waits until none of the objects is left.
func (k *kube) expectGone(t *testing.T, objs []*unstructured.Unstructured, namespace string) {
	t.Helper()
	for _, obj := range objs {
		res := k.resource(t, obj, namespace)
		err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, pollTimeout, true,
			func(ctx context.Context) (bool, error) {
				_, err := res.Get(ctx, obj.GetName(), metav1.GetOptions{})
				if apierrors.IsNotFound(err) {
					return true, nil
				}
				return false, nil
			})
		if err != nil {
			t.Errorf("%s is still there after %s", describe(obj), pollTimeout)
		}
	}
}

// expectCRDsEstablished waits until the API server serves both CRDs.
func (k *kube) expectCRDsEstablished(t *testing.T) {
	t.Helper()
	crdGVR := schema.GroupVersionResource{
		Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions",
	}
	for _, name := range crdNames {
		var last string
		err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, pollTimeout, true,
			func(ctx context.Context) (bool, error) {
				crd, err := k.dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					last = err.Error()
					return false, nil
				}
				conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
				established, accepted := false, false
				for _, c := range conds {
					m, _ := c.(map[string]any)
					established = established || (m["type"] == "Established" && m["status"] == "True")
					accepted = accepted || (m["type"] == "NamesAccepted" && m["status"] == "True")
				}
				last = fmt.Sprintf("conditions %v", conds)
				return established && accepted, nil
			})
		if err != nil {
			t.Errorf("CRD %s not established: %s", name, last)
		}
	}
}

// expectDeploymentAvailable waits until the Deployment reports Available with every replica
// ready, and checks its pods run on the simulated node.
func (k *kube) expectDeploymentAvailable(t *testing.T, namespace, name string) {
	t.Helper()
	var dep *appsv1.Deployment
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, pollTimeout, true,
		func(ctx context.Context) (bool, error) {
			var err error
			if dep, err = k.cs.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{}); err != nil {
				return false, nil
			}
			return deploymentAvailable(dep), nil
		})
	if err != nil {
		t.Fatalf("Deployment %s/%s not Available after %s: %+v", namespace, name, pollTimeout, deploymentStatus(dep))
	}
	sel := metav1.FormatLabelSelector(dep.Spec.Selector)
	pods, err := k.cs.CoreV1().Pods(namespace).List(t.Context(), metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) == 0 {
		t.Fatalf("no pods match %s", sel)
	}
	for _, pod := range pods.Items {
		if pod.Spec.NodeName != localcluster.NodeName || pod.Status.Phase != corev1.PodRunning {
			t.Errorf("pod %s: node %q, phase %s; want Running on %s", pod.Name, pod.Spec.NodeName,
				pod.Status.Phase, localcluster.NodeName)
		}
	}
}

func deploymentAvailable(dep *appsv1.Deployment) bool {
	if dep.Status.ObservedGeneration < dep.Generation || dep.Spec.Replicas == nil {
		return false
	}
	for _, c := range dep.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return dep.Status.AvailableReplicas == *dep.Spec.Replicas &&
				dep.Status.UpdatedReplicas == *dep.Spec.Replicas
		}
	}
	return false
}

func deploymentStatus(dep *appsv1.Deployment) any {
	if dep == nil {
		return "not found"
	}
	return dep.Status
}

// expectNoPods waits until no pod matches the selector: the garbage collector has removed
// the ReplicaSets and kwok has let their pods go.
func (k *kube) expectNoPods(t *testing.T, namespace, selector string) {
	t.Helper()
	var left []string
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, pollTimeout, true,
		func(ctx context.Context) (bool, error) {
			pods, err := k.cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
			if err != nil {
				return false, nil
			}
			left = left[:0]
			for _, p := range pods.Items {
				left = append(left, p.Name)
			}
			return len(left) == 0, nil
		})
	if err != nil {
		t.Errorf("pods matching %s are still there: %s", selector, strings.Join(left, ", "))
	}
}

// access is one request a ServiceAccount may or may not make.
type access struct {
	verb, group, resource, subresource, namespace string
	allowed                                       bool
}

// expectAccess asks the API server's authorizer, through SubjectAccessReviews, whether the
// ServiceAccount may make each request, and compares with what the test expects.
func (k *kube) expectAccess(t *testing.T, namespace, serviceAccount string, checks []access) {
	t.Helper()
	user := fmt.Sprintf("system:serviceaccount:%s:%s", namespace, serviceAccount)
	for _, c := range checks {
		review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   user,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: c.namespace, Verb: c.verb, Group: c.group, Resource: c.resource, Subresource: c.subresource,
			},
		}}
		got, err := k.cs.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), review, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("SubjectAccessReview: %v", err)
		}
		if got.Status.Allowed != c.allowed {
			t.Errorf("%s may %s %s/%s in %q: got %v, want %v (%s)", user, c.verb, c.resource, c.subresource,
				c.namespace, got.Status.Allowed, c.allowed, got.Status.Reason)
		}
	}
}

// createRestrictedNamespace creates a namespace that enforces the "restricted" Pod Security
// Standard, so a pod that is not hardened is refused and its Deployment never becomes Available.
func (k *kube) createRestrictedNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted",
	}}}
	if _, err := k.cs.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}
