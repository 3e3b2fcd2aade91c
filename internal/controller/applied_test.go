package controller

import (
	"context"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// TestApplyOwned_LeavesOutOnlyAppliesThatWouldChangeNothing applies an agency's Service through
// a client that counts applies: a second apply of the same configuration is left out, and every
// write in between (an edit, a delete), a new configuration or a forgotten agency brings the
// apply back, repairing the edit.
func TestApplyOwned_LeavesOutOnlyAppliesThatWouldChangeNothing(t *testing.T) {
	g := NewWithT(t)
	ctx := t.Context()
	direct, err := client.NewWithWatch(restConfig, client.Options{Scheme: testScheme})
	g.Expect(err).NotTo(HaveOccurred())
	var applies atomic.Int32
	counted := interceptor.NewClient(direct, interceptor.Funcs{
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration,
			opts ...client.ApplyOption) error {
			applies.Add(1)
			return c.Apply(ctx, obj, opts...)
		},
	})
	r := &AgencyProvisioningReconciler{Client: counted, Scheme: testScheme}

	// Not labelled for the workload tests' manager: only this test applies its objects.
	ap := newAgency(newNamespace(t), "pd")
	g.Expect(k8sClient.Create(ctx, ap)).To(Succeed())
	key := keyOf(ap, ScimServerName(ap))
	apply := func(wantApplies int32) {
		t.Helper()
		g.Expect(r.applyOwned(ctx, ap, renderService(ap))).To(Succeed())
		g.Expect(applies.Load()).To(Equal(wantApplies))
	}

	apply(1)
	apply(1) // unchanged configuration, unchanged object

	var svc corev1.Service
	g.Expect(k8sClient.Get(ctx, key, &svc)).To(Succeed())
	want := svc.Spec.Selector[LabelInstance]
	svc.Spec.Selector[LabelInstance] = "someone-else"
	g.Expect(k8sClient.Update(ctx, &svc)).To(Succeed())
	apply(2) // edited: applied again, and repaired
	g.Expect(k8sClient.Get(ctx, key, &svc)).To(Succeed())
	g.Expect(svc.Spec.Selector[LabelInstance]).To(Equal(want))
	apply(2)

	g.Expect(k8sClient.Delete(ctx, &svc)).To(Succeed())
	apply(3) // deleted: made again
	g.Expect(k8sClient.Get(ctx, key, &svc)).To(Succeed())

	changed := renderService(ap)
	changed.Annotations = map[string]string{"example.test/new": "value"}
	g.Expect(r.applyOwned(ctx, ap, changed)).To(Succeed())
	g.Expect(applies.Load()).To(Equal(int32(4))) // a new configuration

	r.applied.forget(client.ObjectKeyFromObject(ap))
	g.Expect(r.applyOwned(ctx, ap, changed)).To(Succeed())
	g.Expect(applies.Load()).To(Equal(int32(5))) // nothing remembered for the agency
}
