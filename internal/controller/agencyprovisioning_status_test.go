package controller

import (
	"errors"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
)

func deployment(
	replicas, available, updated int32,
	observed int64,
	conds ...appsv1.DeploymentCondition,
) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "pd-scim", Generation: 2},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(replicas)},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: observed,
			AvailableReplicas:  available,
			UpdatedReplicas:    updated,
			Conditions:         conds,
		},
	}
}

var (
	availableTrue       = appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}
	availableFalse      = appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse}
	progressingDeadline = appsv1.DeploymentCondition{
		Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
		Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "pd-scim-1" has timed out progressing.`,
	}
)

func TestScimServerAvailableCondition(t *testing.T) {
	tests := []struct {
		name        string
		dep         *appsv1.Deployment
		store       string
		wantStatus  metav1.ConditionStatus
		wantReason  string
		wantMessage string
	}{
		{name: "no Deployment yet is unknown", wantStatus: metav1.ConditionUnknown,
			wantReason: scimv1alpha1.ReasonReconciling},
		{name: "store problem wins and is named", dep: deployment(1, 1, 1, 2, availableTrue),
			store: `Secret "pg" does not exist`, wantStatus: metav1.ConditionFalse,
			wantReason: scimv1alpha1.ReasonStoreUnreachable, wantMessage: `Secret "pg"`},
		{name: "unobserved generation is unknown", dep: deployment(1, 1, 1, 1, availableTrue),
			wantStatus: metav1.ConditionUnknown, wantReason: scimv1alpha1.ReasonDeploymentProgressing},
		{name: "all replicas available and updated is true", dep: deployment(2, 2, 2, 2, availableTrue),
			wantStatus: metav1.ConditionTrue, wantReason: scimv1alpha1.ReasonDeploymentAvailable,
			wantMessage: "2 of 2 replicas available"},
		{name: "fewer available than wanted is progressing", dep: deployment(2, 1, 2, 2, availableTrue),
			wantStatus: metav1.ConditionFalse, wantReason: scimv1alpha1.ReasonDeploymentProgressing,
			wantMessage: "1 of 2"},
		{name: "unavailable Deployment is progressing", dep: deployment(1, 0, 1, 2, availableFalse),
			wantStatus: metav1.ConditionFalse, wantReason: scimv1alpha1.ReasonDeploymentProgressing},
		{name: "deadline exceeded is unavailable with the rollout's message", dep: deployment(1, 0, 1, 2,
			availableFalse, progressingDeadline), wantStatus: metav1.ConditionFalse,
			wantReason: scimv1alpha1.ReasonDeploymentUnavailable, wantMessage: "timed out progressing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			c := scimServerAvailableCondition(tt.dep, tt.store, 7)
			g.Expect(c.Type).To(Equal(scimv1alpha1.ConditionScimServerAvailable))
			g.Expect(c.Status).To(Equal(tt.wantStatus))
			g.Expect(c.Reason).To(Equal(tt.wantReason))
			g.Expect(c.Message).To(ContainSubstring(tt.wantMessage))
			g.Expect(c.ObservedGeneration).To(Equal(int64(7)))
		})
	}
}

func cond(t string, s metav1.ConditionStatus, reason string) metav1.Condition {
	return metav1.Condition{Type: t, Status: s, Reason: reason, Message: reason + " message"}
}

// Short names for the condition tables below.
const (
	typeAvailable   = scimv1alpha1.ConditionScimServerAvailable
	typeConnected   = scimv1alpha1.ConditionProvisioningConnected
	reasonAvailable = scimv1alpha1.ReasonDeploymentAvailable
)

func TestReadyCondition_SummarisesWhateverConditionsExist(t *testing.T) {
	tests := []struct {
		name        string
		conds       []metav1.Condition
		wantStatus  metav1.ConditionStatus
		wantReason  string
		wantMessage string
	}{
		{name: "nothing observed is unknown", wantStatus: metav1.ConditionUnknown,
			wantReason: scimv1alpha1.ReasonReconciling},
		{name: "workload alone true is ready", conds: []metav1.Condition{
			cond(typeAvailable, metav1.ConditionTrue, reasonAvailable),
		}, wantStatus: metav1.ConditionTrue, wantReason: scimv1alpha1.ReasonSucceeded},
		{name: "stale Ready is ignored", conds: []metav1.Condition{
			cond(scimv1alpha1.ConditionReady, metav1.ConditionFalse, "Old"),
			cond(typeAvailable, metav1.ConditionTrue, reasonAvailable),
		}, wantStatus: metav1.ConditionTrue, wantReason: scimv1alpha1.ReasonSucceeded},
		{name: "false beats unknown whatever the order", conds: []metav1.Condition{
			cond(typeAvailable, metav1.ConditionUnknown, scimv1alpha1.ReasonReconciling),
			cond(typeConnected, metav1.ConditionFalse, scimv1alpha1.ReasonManualStepRequired),
		}, wantStatus: metav1.ConditionFalse, wantReason: scimv1alpha1.ReasonManualStepRequired,
			wantMessage: "ProvisioningConnected: ManualStepRequired message"},
		{name: "credentials come before the workload", conds: []metav1.Condition{
			cond(typeAvailable, metav1.ConditionFalse, scimv1alpha1.ReasonDeploymentProgressing),
			cond(scimv1alpha1.ConditionOktaAuthenticated, metav1.ConditionFalse, scimv1alpha1.ReasonInvalidCredentials),
		}, wantStatus: metav1.ConditionFalse, wantReason: scimv1alpha1.ReasonInvalidCredentials},
		{name: "an unlisted condition type counts too", conds: []metav1.Condition{
			cond(typeAvailable, metav1.ConditionTrue, reasonAvailable),
			cond("SomethingNew", metav1.ConditionUnknown, "Waiting"),
		}, wantStatus: metav1.ConditionUnknown, wantReason: "Waiting", wantMessage: "SomethingNew: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			c := readyCondition(tt.conds, 3)
			g.Expect(c.Type).To(Equal(scimv1alpha1.ConditionReady))
			g.Expect(c.Status).To(Equal(tt.wantStatus))
			g.Expect(c.Reason).To(Equal(tt.wantReason))
			g.Expect(c.Message).To(ContainSubstring(tt.wantMessage))
			g.Expect(c.ObservedGeneration).To(Equal(int64(3)))
		})
	}
}

func TestConditionTransitions_OnlyChangedStatusOrReason(t *testing.T) {
	g := NewWithT(t)
	before := []metav1.Condition{
		cond("A", metav1.ConditionTrue, "Fine"),
		cond("B", metav1.ConditionFalse, "Broken"),
		cond("C", metav1.ConditionFalse, "Broken"),
	}
	after := []metav1.Condition{
		{Type: "A", Status: metav1.ConditionTrue, Reason: "Fine", Message: "only the message changed"},
		cond("B", metav1.ConditionTrue, "Fine"),
		cond("C", metav1.ConditionFalse, "OtherReason"),
		cond("D", metav1.ConditionUnknown, "New"),
	}
	var types []string
	for _, c := range conditionTransitions(before, after) {
		types = append(types, c.Type)
	}
	g.Expect(types).To(Equal([]string{"B", "C", "D"}))
}

func TestWorkloadFailedCondition_NamesTheError(t *testing.T) {
	g := NewWithT(t)
	c := workloadFailedCondition(errors.New(`apply Deployment "pd-scim": forbidden`), 4)
	g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
	g.Expect(c.Reason).To(Equal(scimv1alpha1.ReasonReconcileFailed))
	g.Expect(c.Message).To(ContainSubstring(`Deployment "pd-scim": forbidden`))
}

func TestSecretNames_ListsTheSecretsTheSpecNames(t *testing.T) {
	tests := []struct {
		name string
		ap   *scimv1alpha1.AgencyProvisioning
		want []string
	}{
		{name: "sqlite agency names its Okta credentials", ap: newAgency("ns", "pd"), want: []string{"okta-api"}},
		{name: "postgres agency names its connection too", ap: withPostgres(newAgency("ns", "pd"), "pd-pg", 2),
			want: []string{"okta-api", "pd-pg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(secretNames(tt.ap)).To(Equal(tt.want))
		})
	}
}
