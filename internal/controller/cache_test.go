package controller

import (
	"context"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
)

// TestCacheByObject_HoldsOnlyTheOperatorsOwnObjects starts the manager's cache as cmd/main.go
// configures it: a ConfigMap the operator made is there, anyone else's is not.
func TestCacheByObject_HoldsOnlyTheOperatorsOwnObjects(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c, err := cache.New(restConfig, cache.Options{Scheme: testScheme, ByObject: CacheByObject()})
	g.Expect(err).NotTo(HaveOccurred())
	go func() { _ = c.Start(ctx) }()

	ns := newNamespace(t)
	ap := newAgency(ns, "pd")
	ours := &corev1.ConfigMap{ObjectMeta: objectMeta(ap, ScimServerName(ap))}
	theirs := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "someone-elses",
		Labels: map[string]string{LabelName: containerName}}}
	for _, cm := range []*corev1.ConfigMap{ours, theirs} {
		g.Expect(k8sClient.Create(ctx, cm)).To(Succeed())
	}
	g.Eventually(func() error {
		return c.Get(ctx, client.ObjectKeyFromObject(ours), &corev1.ConfigMap{})
	}, eventually, poll).Should(Succeed())
	err = c.Get(ctx, client.ObjectKeyFromObject(theirs), &corev1.ConfigMap{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a ConfigMap without the operator's labels: %v", err)
}

// kindsRead is a client.Reader that records which kinds were read through it.
type kindsRead struct {
	mu    sync.Mutex
	kinds []string
}

func (k *kindsRead) Get(_ context.Context, _ client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.kinds = append(k.kinds, typeName(obj))
	return apierrors.NewNotFound(corev1.Resource("x"), "x")
}

func (k *kindsRead) List(context.Context, client.ObjectList, ...client.ListOption) error { return nil }

func typeName(obj client.Object) string {
	switch obj.(type) {
	case *corev1.Secret:
		return "Secret"
	case *corev1.ConfigMap:
		return "ConfigMap"
	}
	return "other"
}

// TestClientOptions_ReadsSecretsPastTheCache: with ClientOptions, the manager's client reads a
// Secret from the API server, never from the cache, which so never holds Secret data.
func TestClientOptions_ReadsSecretsPastTheCache(t *testing.T) {
	g := NewWithT(t)
	cached := &kindsRead{}
	opts := ClientOptions()
	opts.Scheme = testScheme
	opts.Cache.Reader = cached
	c, err := client.New(restConfig, opts)
	g.Expect(err).NotTo(HaveOccurred())

	ns := newNamespace(t)
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "okta"},
		Data: map[string][]byte{"apiToken": []byte("x")}}
	g.Expect(k8sClient.Create(t.Context(), sec)).To(Succeed())
	var got corev1.Secret
	g.Expect(c.Get(t.Context(), client.ObjectKeyFromObject(sec), &got)).To(Succeed())
	g.Expect(got.Data).To(HaveKey("apiToken"))
	_ = c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "x"}, &corev1.ConfigMap{})
	g.Expect(cached.kinds).To(Equal([]string{"ConfigMap"}), "kinds read through the cache")
}

// TestAgencyProvisioning_ClaimWithoutTheOperatorsLabelsIsNotReapplied: the cache holds only
// claims with the operator's labels, so a claim whose labels someone removed looks absent. It
// exists all the same: the operator must not apply a whole claim over it (an unbound claim's
// spec cannot change, so a spec grown meanwhile failed every reconcile), and takes it back.
func TestAgencyProvisioning_ClaimWithoutTheOperatorsLabelsIsNotReapplied(t *testing.T) {
	g := NewWithT(t)
	ap := createAgency(t, newAgency(newNamespace(t), "pd"))
	key := keyOf(ap, ScimServerName(ap)+"-data")
	var pvc corev1.PersistentVolumeClaim
	g.Eventually(getFn(t, &pvc, key), eventually, poll).Should(Succeed())

	// The claim is not bound (envtest has no binder), so a larger size waits for binding.
	g.Eventually(func() error {
		cur := &scimv1alpha1.AgencyProvisioning{}
		if err := k8sClient.Get(t.Context(), client.ObjectKeyFromObject(ap), cur); err != nil {
			return err
		}
		size := resourceQuantity("3Gi")
		cur.Spec.ScimServer.Storage.SQLite.Size = &size
		return k8sClient.Update(t.Context(), cur)
	}, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		cur := &scimv1alpha1.AgencyProvisioning{}
		g.Expect(k8sClient.Get(t.Context(), client.ObjectKeyFromObject(ap), cur)).To(Succeed())
		g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
	}, eventually, poll).Should(Succeed())

	g.Expect(k8sClient.Get(t.Context(), key, &pvc)).To(Succeed())
	pvc.Labels = nil
	g.Expect(k8sClient.Update(t.Context(), &pvc)).To(Succeed())

	g.Eventually(func(g Gomega) {
		var cur corev1.PersistentVolumeClaim
		g.Expect(k8sClient.Get(t.Context(), key, &cur)).To(Succeed())
		g.Expect(cur.Labels).To(HaveKeyWithValue(LabelManagedBy, managerName), "labels taken back")
		g.Expect(cur.Spec.Resources.Requests.Storage().String()).To(Equal("1Gi"))
	}, eventually, poll).Should(Succeed())
	g.Consistently(condition(t, ap, scimv1alpha1.ConditionScimServerAvailable), 3*time.Second, poll).
		ShouldNot(HaveField("Reason", scimv1alpha1.ReasonReconcileFailed))
}

// TestAgencyProvisioning_ObjectsStrippedOfTheOperatorsLabelsAreRepaired: an object that loses
// the operator's labels leaves the label-narrowed cache, which the controller sees as a delete;
// the next apply is not left out (appliedObjects) and puts the labels and the spec back.
func TestAgencyProvisioning_ObjectsStrippedOfTheOperatorsLabelsAreRepaired(t *testing.T) {
	g := NewWithT(t)
	ap := createAgency(t, newAgency(newNamespace(t), "pd"))
	key := keyOf(ap, ScimServerName(ap))
	var svc corev1.Service
	g.Eventually(getFn(t, &svc, key), eventually, poll).Should(Succeed())
	want := svc.Spec.Selector[LabelInstance]

	svc.Labels = nil
	svc.Spec.Selector[LabelInstance] = "someone-else"
	g.Expect(k8sClient.Update(t.Context(), &svc)).To(Succeed())

	g.Eventually(func(g Gomega) {
		var cur corev1.Service
		g.Expect(k8sClient.Get(t.Context(), key, &cur)).To(Succeed())
		g.Expect(cur.Labels).To(HaveKeyWithValue(LabelManagedBy, managerName))
		g.Expect(cur.Spec.Selector).To(HaveKeyWithValue(LabelInstance, want))
	}, eventually, poll).Should(Succeed())
}
