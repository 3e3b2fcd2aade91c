package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Kinds as the condition metric names them.
const (
	kindAgencyProvisioning = "AgencyProvisioning"
	kindScimUserMapping    = "ScimUserMapping"
)

// conditionGauge shows every condition of every object the operator reconciles on the manager's
// /metrics, for alerts: the series of a condition's current status is 1, the other two are 0.
var conditionGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Namespace: "scim_operator", Name: "condition",
	Help: "Conditions of AgencyProvisionings and ScimUserMappings: 1 on the series of the condition's " +
		"current status (True, False or Unknown), 0 on the other two.",
}, []string{"kind", "namespace", "name", "type", "status"})

func init() {
	ctrlmetrics.Registry.MustRegister(conditionGauge)
}

var conditionStatuses = []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse,
	metav1.ConditionUnknown}

// exportConditions sets the condition metric of obj to conds.
func exportConditions(kind string, obj client.Object, conds []metav1.Condition) {
	for _, c := range conds {
		for _, s := range conditionStatuses {
			v := 0.0
			if c.Status == s {
				v = 1
			}
			conditionGauge.WithLabelValues(kind, obj.GetNamespace(), obj.GetName(), c.Type, string(s)).Set(v)
		}
	}
}

// forgetConditions drops the condition metric of an object that is gone.
func forgetConditions(kind string, key types.NamespacedName) {
	conditionGauge.DeletePartialMatch(prometheus.Labels{"kind": kind, "namespace": key.Namespace,
		"name": key.Name})
}
