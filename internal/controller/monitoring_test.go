package controller

import (
	"os"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
)

// conditionSeries reads scim_operator_condition for one object from the manager's registry:
// "type/status" -> value.
func conditionSeries(g Gomega, kind, namespace, name string) map[string]float64 {
	families, err := ctrlmetrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "scim_operator_condition" {
			continue
		}
		for _, m := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["kind"] == kind && l["namespace"] == namespace && l["name"] == name {
				out[l["type"]+"/"+l["status"]] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// TestConditionMetric_FollowsTheConditionsAndGoesWithTheObject: the manager's /metrics has a
// series per condition and status of an agency, 1 on the current status, and none once the
// agency is deleted.
func TestConditionMetric_FollowsTheConditionsAndGoesWithTheObject(t *testing.T) {
	g := NewWithT(t)
	ap := createAgency(t, newAgency(newNamespace(t), "pd"))
	g.Eventually(func(g Gomega) {
		var cur scimv1alpha1.AgencyProvisioning
		g.Expect(k8sClient.Get(t.Context(), client.ObjectKeyFromObject(ap), &cur)).To(Succeed())
		ready := meta.FindStatusCondition(cur.Status.Conditions, scimv1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		series := conditionSeries(g, kindAgencyProvisioning, ap.Namespace, ap.Name)
		g.Expect(series).To(HaveKeyWithValue("Ready/"+string(ready.Status), 1.0))
		sum := 0.0
		for _, s := range conditionStatuses {
			g.Expect(series).To(HaveKey("Ready/" + string(s)))
			sum += series["Ready/"+string(s)]
		}
		g.Expect(sum).To(Equal(1.0))
		g.Expect(series).To(HaveKey(scimv1alpha1.ConditionScimServerAvailable + "/True"))
	}, eventually, poll).Should(Succeed())

	g.Expect(k8sClient.Delete(t.Context(), ap)).To(Succeed())
	g.Eventually(func(g Gomega) {
		err := k8sClient.Get(t.Context(), client.ObjectKeyFromObject(ap), &scimv1alpha1.AgencyProvisioning{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
		g.Expect(conditionSeries(g, kindAgencyProvisioning, ap.Namespace, ap.Name)).To(BeEmpty())
	}, eventually, poll).Should(Succeed())
}

// TestChartPodMonitor_SelectsTheSCIMServerPods ties the chart's PodMonitor to the pods
// renderDeployment makes: its selector labels are on the pod template, and the port it scrapes
// is the container's metrics port.
func TestChartPodMonitor_SelectsTheSCIMServerPods(t *testing.T) {
	tmpl, err := os.ReadFile("../../charts/scim-operator/templates/scim-server-podmonitor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dep := renderDeployment(newAgency("ns", "pd"), testImage, "sum")
	pod := dep.Spec.Template
	for _, k := range []string{LabelManagedBy, LabelName} {
		if want := k + ": " + pod.Labels[k]; pod.Labels[k] == "" || !strings.Contains(string(tmpl), want) {
			t.Errorf("the PodMonitor does not select %q", want)
		}
	}
	ports := pod.Spec.Containers[0].Ports
	if !slices.ContainsFunc(ports, func(p corev1.ContainerPort) bool { return p.Name == metricsPortName }) ||
		!strings.Contains(string(tmpl), "- port: "+metricsPortName+"\n") {
		t.Errorf("the PodMonitor does not scrape the container port %q (ports %v)", metricsPortName, ports)
	}
}
