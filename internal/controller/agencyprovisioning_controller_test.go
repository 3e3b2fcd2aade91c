package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

const (
	eventually = 20 * time.Second
	poll       = 100 * time.Millisecond
)

// newNamespace creates a namespace for one test and deletes it afterwards.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "ap-"}}
	NewWithT(t).Expect(k8sClient.Create(t.Context(), ns)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(t.Context(), ns) })
	return ns.Name
}

// createAgency creates ap for the workload tests' manager, leaving the defaults to the API
// server as an admin's manifest would.
func createAgency(t *testing.T, ap *scimv1alpha1.AgencyProvisioning) *scimv1alpha1.AgencyProvisioning {
	t.Helper()
	ap.Labels = map[string]string{workloadSuiteLabel: "workload"}
	NewWithT(t).Expect(k8sClient.Create(t.Context(), ap)).To(Succeed())
	return ap
}

func getFn[T client.Object](t *testing.T, obj T, key client.ObjectKey) func() error {
	return func() error { return k8sClient.Get(t.Context(), key, obj) }
}

func keyOf(ap *scimv1alpha1.AgencyProvisioning, name string) client.ObjectKey {
	return client.ObjectKey{Namespace: ap.Namespace, Name: name}
}

// expectOwnedBy checks that ap is obj's controller.
func expectOwnedBy(g Gomega, obj client.Object, ap *scimv1alpha1.AgencyProvisioning) {
	refs := obj.GetOwnerReferences()
	g.Expect(refs).To(HaveLen(1), "%T %s", obj, obj.GetName())
	g.Expect(refs[0].UID).To(Equal(ap.UID))
	g.Expect(refs[0].Controller).To(HaveValue(BeTrue()))
	g.Expect(refs[0].Kind).To(Equal("AgencyProvisioning"))
}

func condition(t *testing.T, ap *scimv1alpha1.AgencyProvisioning, typ string) func() *metav1.Condition {
	return func() *metav1.Condition {
		cur := &scimv1alpha1.AgencyProvisioning{}
		if err := k8sClient.Get(t.Context(), client.ObjectKeyFromObject(ap), cur); err != nil {
			return nil
		}
		return meta.FindStatusCondition(cur.Status.Conditions, typ)
	}
}

func TestAgencyProvisioning_CreatesTheWorkloadWithOwnerReferences(t *testing.T) {
	g := NewWithT(t)
	ap := createAgency(t, newAgency(newNamespace(t), "metro-pd"))
	name := ScimServerName(ap)

	var cm corev1.ConfigMap
	g.Eventually(getFn(t, &cm, keyOf(ap, name)), eventually, poll).Should(Succeed())
	expectOwnedBy(g, &cm, ap)
	var cfg scimconfig.Config
	g.Expect(yaml.UnmarshalStrict([]byte(cm.Data[scimconfig.FileName]), &cfg)).To(Succeed())
	g.Expect(cfg.AgencyID).To(Equal("examplepd"))
	g.Expect(cfg.Roles).To(Equal([]string{"User", "Supervisor"}))

	var dep appsv1.Deployment
	g.Eventually(getFn(t, &dep, keyOf(ap, name)), eventually, poll).Should(Succeed())
	expectOwnedBy(g, &dep, ap)
	g.Expect(dep.Spec.Template.Spec.Containers[0].Image).To(Equal(testImage))
	g.Expect(dep.Spec.Template.Annotations).To(HaveKey(AnnotationConfigChecksum))
	g.Expect(dep.Spec.Template.Spec.AutomountServiceAccountToken).To(HaveValue(BeFalse()))

	var svc corev1.Service
	g.Eventually(getFn(t, &svc, keyOf(ap, name)), eventually, poll).Should(Succeed())
	expectOwnedBy(g, &svc, ap)
	var ports []string
	for _, p := range svc.Spec.Ports {
		ports = append(ports, fmt.Sprintf("%s/%d", p.Name, p.Port))
	}
	g.Expect(ports).To(ConsistOf("scim/8080", "metrics/9090"))

	var pvc corev1.PersistentVolumeClaim
	g.Eventually(getFn(t, &pvc, keyOf(ap, name+"-data")), eventually, poll).Should(Succeed())
	g.Expect(pvc.OwnerReferences).To(BeEmpty(), "the directory outlives the AgencyProvisioning")
	g.Expect(pvc.Annotations).To(HaveKeyWithValue(AnnotationOwner, ap.Name))
	g.Expect(pvc.Spec.Resources.Requests.Storage().String()).To(Equal("1Gi"))

	g.Eventually(func(g Gomega) {
		cur := &scimv1alpha1.AgencyProvisioning{}
		g.Expect(k8sClient.Get(t.Context(), client.ObjectKeyFromObject(ap), cur)).To(Succeed())
		g.Expect(cur.Status.ScimEndpoint).To(Equal(
			"http://metro-pd-scim." + ap.Namespace + ".svc:8080/api/v2/agencies/examplepd/scim"))
		g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
		avail := meta.FindStatusCondition(cur.Status.Conditions, scimv1alpha1.ConditionScimServerAvailable)
		g.Expect(avail).NotTo(BeNil())
		g.Expect(avail.Status).NotTo(Equal(metav1.ConditionTrue), "no pods run in envtest")
		ready := meta.FindStatusCondition(cur.Status.Conditions, scimv1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(avail.Status))
		g.Expect(ready.Message).To(HavePrefix("ScimServerAvailable: "))
	}, eventually, poll).Should(Succeed())

	for _, absent := range []client.Object{&networkingv1.Ingress{}, &policyv1.PodDisruptionBudget{}} {
		err := k8sClient.Get(t.Context(), keyOf(ap, name), absent)
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%T must not exist without ingress or replicas", absent)
	}
}

func TestAgencyProvisioning_DeletedDeploymentComesBack(t *testing.T) {
	g := NewWithT(t)
	ap := createAgency(t, newAgency(newNamespace(t), "pd"))
	var dep appsv1.Deployment
	g.Eventually(getFn(t, &dep, keyOf(ap, ScimServerName(ap))), eventually, poll).Should(Succeed())
	oldUID := dep.UID

	g.Expect(k8sClient.Delete(t.Context(), &dep)).To(Succeed())

	g.Eventually(func(g Gomega) {
		var back appsv1.Deployment
		g.Expect(k8sClient.Get(t.Context(), keyOf(ap, ScimServerName(ap)), &back)).To(Succeed())
		g.Expect(back.UID).NotTo(Equal(oldUID))
	}, eventually, poll).Should(Succeed())
}

func TestAgencyProvisioning_EditedObjectsAreRepaired(t *testing.T) {
	g := NewWithT(t)
	ap := createAgency(t, newAgency(newNamespace(t), "pd"))
	key := keyOf(ap, ScimServerName(ap))
	var dep appsv1.Deployment
	g.Eventually(getFn(t, &dep, key), eventually, poll).Should(Succeed())

	edited := dep.DeepCopy()
	edited.Spec.Replicas = ptr.To[int32](5)
	edited.Spec.Template.Spec.Containers[0].Image = "attacker.example.test/evil:1"
	edited.Spec.Template.Spec.AutomountServiceAccountToken = ptr.To(true)
	g.Expect(k8sClient.Update(t.Context(), edited)).To(Succeed())

	var cm corev1.ConfigMap
	g.Expect(k8sClient.Get(t.Context(), key, &cm)).To(Succeed())
	cm.Data[scimconfig.FileName] = "agencyID: someone-else\n"
	g.Expect(k8sClient.Update(t.Context(), &cm)).To(Succeed())

	g.Eventually(func(g Gomega) {
		var cur appsv1.Deployment
		g.Expect(k8sClient.Get(t.Context(), key, &cur)).To(Succeed())
		g.Expect(cur.Spec.Replicas).To(HaveValue(Equal(int32(1))))
		g.Expect(cur.Spec.Template.Spec.Containers[0].Image).To(Equal(testImage))
		g.Expect(cur.Spec.Template.Spec.AutomountServiceAccountToken).To(HaveValue(BeFalse()))
		var curCM corev1.ConfigMap
		g.Expect(k8sClient.Get(t.Context(), key, &curCM)).To(Succeed())
		g.Expect(curCM.Data[scimconfig.FileName]).To(ContainSubstring("agencyID: examplepd"))
	}, eventually, poll).Should(Succeed())
}

func TestAgencyProvisioning_AvailableDeploymentFlipsScimServerAvailable(t *testing.T) {
	g := NewWithT(t)
	ap := createAgency(t, newAgency(newNamespace(t), "pd"))
	var dep appsv1.Deployment
	g.Eventually(getFn(t, &dep, keyOf(ap, ScimServerName(ap))), eventually, poll).Should(Succeed())
	g.Eventually(condition(t, ap, scimv1alpha1.ConditionScimServerAvailable), eventually, poll).
		Should(HaveField("Status", Not(Equal(metav1.ConditionTrue))))

	// envtest runs no Deployment controller: play its part.
	markAvailable(t, &dep)

	g.Eventually(func(g Gomega) {
		cur := &scimv1alpha1.AgencyProvisioning{}
		g.Expect(k8sClient.Get(t.Context(), client.ObjectKeyFromObject(ap), cur)).To(Succeed())
		avail := meta.FindStatusCondition(cur.Status.Conditions, scimv1alpha1.ConditionScimServerAvailable)
		g.Expect(avail).To(HaveField("Status", metav1.ConditionTrue))
		g.Expect(avail.Reason).To(Equal(scimv1alpha1.ReasonDeploymentAvailable))
		g.Expect(avail.ObservedGeneration).To(Equal(cur.Generation))
		g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
		g.Expect(meta.IsStatusConditionTrue(cur.Status.Conditions, scimv1alpha1.ConditionReady)).To(BeTrue())
	}, eventually, poll).Should(Succeed())

	g.Eventually(func() []string { return eventReasons(t, ap) }, eventually, poll).
		Should(ContainElement(scimv1alpha1.ReasonDeploymentAvailable))
}

// markAvailable writes the status a Deployment controller would write once all pods are up.
func markAvailable(t *testing.T, dep *appsv1.Deployment) {
	t.Helper()
	g := NewWithT(t)
	g.Eventually(func() error {
		var cur appsv1.Deployment
		if err := k8sClient.Get(t.Context(), client.ObjectKeyFromObject(dep), &cur); err != nil {
			return err
		}
		n := ptr.Deref(cur.Spec.Replicas, 1)
		cur.Status = appsv1.DeploymentStatus{
			ObservedGeneration: cur.Generation,
			Replicas:           n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n,
			Conditions: []appsv1.DeploymentCondition{{
				Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue,
				Reason: "MinimumReplicasAvailable", LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now(),
			}},
		}
		return k8sClient.Status().Update(t.Context(), &cur)
	}, eventually, poll).Should(Succeed())
}

func eventReasons(t *testing.T, ap *scimv1alpha1.AgencyProvisioning) []string {
	var list eventsv1.EventList
	if err := k8sClient.List(t.Context(), &list, client.InNamespace(ap.Namespace)); err != nil {
		return nil
	}
	var reasons []string
	for _, e := range list.Items {
		if e.Regarding.UID == ap.UID {
			reasons = append(reasons, e.Reason)
		}
	}
	return reasons
}

func TestAgencyProvisioning_SpecChangeRollsConfigAndPods(t *testing.T) {
	g := NewWithT(t)
	ap := createAgency(t, newAgency(newNamespace(t), "pd"))
	key := keyOf(ap, ScimServerName(ap))
	var dep appsv1.Deployment
	g.Eventually(getFn(t, &dep, key), eventually, poll).Should(Succeed())
	oldSum := dep.Spec.Template.Annotations[AnnotationConfigChecksum]

	g.Eventually(func() error {
		cur := &scimv1alpha1.AgencyProvisioning{}
		if err := k8sClient.Get(t.Context(), client.ObjectKeyFromObject(ap), cur); err != nil {
			return err
		}
		cur.Spec.Directory.Ranks = append(cur.Spec.Directory.Ranks, "Captain")
		return k8sClient.Update(t.Context(), cur)
	}, eventually, poll).Should(Succeed())

	g.Eventually(func(g Gomega) {
		var cm corev1.ConfigMap
		g.Expect(k8sClient.Get(t.Context(), key, &cm)).To(Succeed())
		g.Expect(cm.Data[scimconfig.FileName]).To(ContainSubstring("Captain"))
		var cur appsv1.Deployment
		g.Expect(k8sClient.Get(t.Context(), key, &cur)).To(Succeed())
		g.Expect(cur.Spec.Template.Annotations[AnnotationConfigChecksum]).NotTo(Equal(oldSum))
	}, eventually, poll).Should(Succeed())
}

func TestAgencyProvisioning_PostgresReplicasIngressAndPDBFollowSpec(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pd-postgres"},
		StringData: map[string]string{"url": "postgres://scim:pw@db.example.test:5432/scim"},
	}
	g.Expect(k8sClient.Create(t.Context(), secret)).To(Succeed())
	ap := createAgency(t, withIngress(withPostgres(newAgency(ns, "pd"), "pd-postgres", 2)))
	key := keyOf(ap, ScimServerName(ap))

	var pdb policyv1.PodDisruptionBudget
	g.Eventually(getFn(t, &pdb, key), eventually, poll).Should(Succeed())
	expectOwnedBy(g, &pdb, ap)
	var in networkingv1.Ingress
	g.Eventually(getFn(t, &in, key), eventually, poll).Should(Succeed())
	expectOwnedBy(g, &in, ap)
	g.Expect(in.Spec.Rules[0].Host).To(Equal("scim.examplepd.gov"))
	var dep appsv1.Deployment
	g.Eventually(getFn(t, &dep, key), eventually, poll).Should(Succeed())
	env := dep.Spec.Template.Spec.Containers[0].Env
	g.Expect(env).To(HaveLen(1))
	g.Expect(env[0].ValueFrom.SecretKeyRef.Name).To(Equal("pd-postgres"))
	err := k8sClient.Get(t.Context(), keyOf(ap, ScimServerName(ap)+"-data"), &corev1.PersistentVolumeClaim{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "postgres needs no claim")
	g.Eventually(func() string { return currentEndpoint(t, ap) }, eventually, poll).
		Should(Equal("https://scim.examplepd.gov/api/v2/agencies/examplepd/scim"))

	g.Eventually(func() error {
		cur := &scimv1alpha1.AgencyProvisioning{}
		if err := k8sClient.Get(t.Context(), client.ObjectKeyFromObject(ap), cur); err != nil {
			return err
		}
		cur.Spec.ScimServer.Ingress = nil
		cur.Spec.ScimServer.Replicas = 1
		return k8sClient.Update(t.Context(), cur)
	}, eventually, poll).Should(Succeed())

	g.Eventually(func(g Gomega) {
		g.Expect(apierrors.IsNotFound(k8sClient.Get(t.Context(), key, &policyv1.PodDisruptionBudget{}))).To(BeTrue())
		g.Expect(apierrors.IsNotFound(k8sClient.Get(t.Context(), key, &networkingv1.Ingress{}))).To(BeTrue())
	}, eventually, poll).Should(Succeed())
}

func currentEndpoint(t *testing.T, ap *scimv1alpha1.AgencyProvisioning) string {
	cur := &scimv1alpha1.AgencyProvisioning{}
	if err := k8sClient.Get(t.Context(), client.ObjectKeyFromObject(ap), cur); err != nil {
		return ""
	}
	return cur.Status.ScimEndpoint
}

func TestAgencyProvisioning_MissingPostgresSecretIsNamedUntilItIsCreated(t *testing.T) {
	g := NewWithT(t)
	ap := createAgency(t, withPostgres(newAgency(newNamespace(t), "pd"), "no-such-secret", 1))

	g.Eventually(condition(t, ap, scimv1alpha1.ConditionScimServerAvailable), eventually, poll).Should(And(
		HaveField("Status", metav1.ConditionFalse),
		HaveField("Reason", scimv1alpha1.ReasonStoreUnreachable),
		HaveField("Message", ContainSubstring(`"no-such-secret"`)),
	))
	g.Eventually(condition(t, ap, scimv1alpha1.ConditionReady), eventually, poll).
		Should(HaveField("Reason", scimv1alpha1.ReasonStoreUnreachable))

	// Creating the Secret is acted on at once: Secrets the spec names are watched.
	g.Expect(k8sClient.Create(t.Context(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ap.Namespace, Name: "no-such-secret"},
		StringData: map[string]string{"url": "postgres://scim:pw@db.example.test:5432/scim"},
	})).To(Succeed())
	g.Eventually(condition(t, ap, scimv1alpha1.ConditionScimServerAvailable), 5*time.Second, poll).
		ShouldNot(HaveField("Reason", scimv1alpha1.ReasonStoreUnreachable))
}

func TestAgencyProvisioning_GrowingTheStoreGrowsTheClaimWhereTheClassAllows(t *testing.T) {
	tests := []struct {
		name       string
		expandable bool
		wantSize   string
		wantEvent  string
	}{
		{name: "expandable class grows the bound claim", expandable: true, wantSize: "5Gi"},
		{name: "fixed class keeps the size and warns", wantSize: "1Gi", wantEvent: "StoreResizeRefused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			class := &storagev1.StorageClass{
				ObjectMeta:           metav1.ObjectMeta{GenerateName: "class-"},
				Provisioner:          "example.test/disk",
				AllowVolumeExpansion: ptr.To(tt.expandable),
			}
			g.Expect(k8sClient.Create(t.Context(), class)).To(Succeed())
			t.Cleanup(func() { _ = k8sClient.Delete(t.Context(), class) })
			ap := newAgency(newNamespace(t), "pd")
			ap.Spec.ScimServer.Storage.SQLite.StorageClassName = ptr.To(class.Name)
			ap = createAgency(t, ap)
			key := keyOf(ap, ScimServerName(ap)+"-data")
			var pvc corev1.PersistentVolumeClaim
			g.Eventually(getFn(t, &pvc, key), eventually, poll).Should(Succeed())
			// envtest has no volume binder: play its part, as only a bound claim can grow.
			pvc.Status.Phase = corev1.ClaimBound
			g.Expect(k8sClient.Status().Update(t.Context(), &pvc)).To(Succeed())

			g.Eventually(func() error {
				cur := &scimv1alpha1.AgencyProvisioning{}
				if err := k8sClient.Get(t.Context(), client.ObjectKeyFromObject(ap), cur); err != nil {
					return err
				}
				size := resourceQuantity("5Gi")
				cur.Spec.ScimServer.Storage.SQLite.Size = &size
				return k8sClient.Update(t.Context(), cur)
			}, eventually, poll).Should(Succeed())

			if tt.wantEvent != "" {
				g.Eventually(func() []string { return eventReasons(t, ap) }, eventually, poll).
					Should(ContainElement(tt.wantEvent))
			}
			g.Eventually(func() string {
				var cur corev1.PersistentVolumeClaim
				if err := k8sClient.Get(t.Context(), key, &cur); err != nil {
					return err.Error()
				}
				return cur.Spec.Resources.Requests.Storage().String()
			}, eventually, poll).Should(Equal(tt.wantSize))
		})
	}
}

func TestAgencyProvisioning_DeleteKeepsTheDirectoryClaim(t *testing.T) {
	g := NewWithT(t)
	ap := createAgency(t, newAgency(newNamespace(t), "pd"))
	claimKey := keyOf(ap, ScimServerName(ap)+"-data")
	g.Eventually(getFn(t, &corev1.PersistentVolumeClaim{}, claimKey), eventually, poll).Should(Succeed())
	var dep appsv1.Deployment
	g.Eventually(getFn(t, &dep, keyOf(ap, ScimServerName(ap))), eventually, poll).Should(Succeed())

	g.Expect(k8sClient.Delete(t.Context(), ap)).To(Succeed())

	g.Eventually(func() bool {
		err := k8sClient.Get(t.Context(), client.ObjectKeyFromObject(ap), &scimv1alpha1.AgencyProvisioning{})
		return apierrors.IsNotFound(err)
	}, eventually, poll).Should(BeTrue())
	// envtest runs no garbage collector; in a cluster the owner references above remove the
	// Deployment, ConfigMap and Service. The claim has none, so it stays.
	var pvc corev1.PersistentVolumeClaim
	g.Expect(k8sClient.Get(t.Context(), claimKey, &pvc)).To(Succeed())
	g.Expect(pvc.OwnerReferences).To(BeEmpty())
	g.Expect(strings.Join(ownerUIDs(&dep), ",")).To(Equal(string(ap.UID)))
}

func ownerUIDs(obj client.Object) []string {
	var uids []string
	for _, r := range obj.GetOwnerReferences() {
		uids = append(uids, string(r.UID))
	}
	return uids
}

func TestAgencyProvisioning_UnschedulablePodIsNamedInTheCondition(t *testing.T) {
	g := NewWithT(t)
	ap := createAgency(t, newAgency(newNamespace(t), "pd"))
	var dep appsv1.Deployment
	g.Eventually(getFn(t, &dep, keyOf(ap, ScimServerName(ap))), eventually, poll).Should(Succeed())

	// What the ReplicaSet controller and the scheduler would make of the Deployment: a pod of
	// its template that cannot be placed.
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ap.Namespace, Name: dep.Name + "-7d9f8-x2x4q",
			Labels: dep.Spec.Template.Labels},
		Spec: *dep.Spec.Template.Spec.DeepCopy(),
	}
	g.Expect(k8sClient.Create(t.Context(), pod)).To(Succeed())
	g.Eventually(condition(t, ap, scimv1alpha1.ConditionScimServerAvailable), eventually, poll).ShouldNot(BeNil())
	// Let the reconciles of the objects' creation pass, so only the pod's change can bring the
	// controller back.
	time.Sleep(2 * time.Second)
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
		Reason: corev1.PodReasonUnschedulable, LastTransitionTime: metav1.Now(),
		Message: "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims."}}
	g.Expect(k8sClient.Status().Update(t.Context(), pod)).To(Succeed())

	g.Eventually(condition(t, ap, scimv1alpha1.ConditionScimServerAvailable), eventually, poll).Should(And(
		HaveField("Status", Not(Equal(metav1.ConditionTrue))),
		HaveField("Message", ContainSubstring("pod "+pod.Name+" cannot be scheduled: 0/1 nodes are available: "+
			"pod has unbound immediate PersistentVolumeClaims.")),
	))
}
