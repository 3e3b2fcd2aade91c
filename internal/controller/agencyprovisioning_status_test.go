package controller

import (
	"errors"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
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
		pods        string
		reported    *scimconfig.StoreProblem
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
		{name: "a pod's problem is added to an unavailable Deployment", dep: deployment(1, 0, 1, 2, availableFalse),
			pods: "pod pd-scim-x cannot be scheduled", wantStatus: metav1.ConditionFalse,
			wantReason:  scimv1alpha1.ReasonDeploymentProgressing,
			wantMessage: "0 of 1 replicas available, 1 updated; pod pd-scim-x cannot be scheduled"},
		{name: "a store the SCIM server cannot reach explains an unavailable Deployment",
			dep: deployment(1, 0, 1, 2, availableFalse), pods: "pod pd-scim-x runs but is not ready",
			reported: &scimconfig.StoreProblem{Reason: scimconfig.StoreUnreachable, Message: "dial tcp: refused",
				Since: time.Date(2026, 12, 4, 23, 0, 0, 0, time.UTC)},
			wantStatus: metav1.ConditionFalse, wantReason: scimv1alpha1.ReasonStoreUnreachable,
			wantMessage: "cannot open or reach its database (since 2026-12-04T23:00:00Z): dial tcp: refused; " +
				"check the database and spec.scimServer.storage; Deployment pd-scim: waiting for pods"},
		{name: "a failed migration is its own reason", dep: deployment(1, 0, 1, 2, availableFalse),
			reported: &scimconfig.StoreProblem{Reason: scimconfig.MigrationFailed,
				Message: "migration 0001_init.sql"},
			wantStatus: metav1.ConditionFalse, wantReason: scimv1alpha1.ReasonMigrationFailed,
			wantMessage: "could not migrate its database schema"},
		{name: "a reported problem does not override an available Deployment", dep: deployment(2, 2, 2, 2,
			availableTrue), reported: &scimconfig.StoreProblem{Reason: scimconfig.StoreUnreachable},
			wantStatus: metav1.ConditionTrue, wantReason: scimv1alpha1.ReasonDeploymentAvailable},
		{name: "the store's configuration comes before what a pod reported", dep: deployment(1, 0, 1, 2,
			availableFalse), store: `Secret "pg" does not exist`,
			reported:   &scimconfig.StoreProblem{Reason: scimconfig.MigrationFailed},
			wantStatus: metav1.ConditionFalse, wantReason: scimv1alpha1.ReasonStoreUnreachable,
			wantMessage: `Secret "pg"`},
		{name: "a stale pod problem is not added to an available Deployment", dep: deployment(1, 1, 1, 2,
			availableTrue), pods: "pod pd-scim-x cannot be scheduled", wantStatus: metav1.ConditionTrue,
			wantReason: scimv1alpha1.ReasonDeploymentAvailable, wantMessage: "1 of 1 replicas available, 1 updated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			c := scimServerAvailableCondition(tt.dep, tt.store, tt.pods, tt.reported, 7)
			g.Expect(c.Type).To(Equal(scimv1alpha1.ConditionScimServerAvailable))
			g.Expect(c.Status).To(Equal(tt.wantStatus))
			g.Expect(c.Reason).To(Equal(tt.wantReason))
			g.Expect(c.Message).To(ContainSubstring(tt.wantMessage))
			if c.Status == metav1.ConditionTrue {
				g.Expect(c.Message).NotTo(ContainSubstring("pod "))
			}
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

func TestPodProblem_SaysWhyAPodIsNotReady(t *testing.T) {
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	pod := func(name string, conds []corev1.PodCondition, cs ...corev1.ContainerStatus) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
			Status: corev1.PodStatus{Conditions: conds, ContainerStatuses: cs}}
	}
	unschedulable := []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
		Reason: "Unschedulable", Message: "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims."}}
	waiting := func(reason, msg string) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: "scim-server",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}
	}
	crashed := waiting("CrashLoopBackOff", "back-off 40s restarting failed container")
	crashed.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 2,
		Message: "{\"level\":\"INFO\",\"msg\":\"Starting\"}\n" +
			"scim-server: invalid configuration: tls: open /tls/tls.crt\n"}
	running := func(since time.Duration, ready bool) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: "scim-server", Ready: ready, State: corev1.ContainerState{
			Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(now.Add(-since))}}}
	}
	tests := []struct {
		name string
		pods []corev1.Pod
		want string
	}{
		{name: "no pods, nothing to say"},
		{name: "unschedulable pod is named with the scheduler's words", pods: []corev1.Pod{pod("b", unschedulable)},
			want: "pod b cannot be scheduled: " +
				"0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims."},
		{name: "image pull failure is named", pods: []corev1.Pod{pod("a", nil, waiting("ImagePullBackOff",
			`Back-off pulling image "registry.example/scim:0.1"`))},
			want: "container scim-server of pod a is waiting: ImagePullBackOff: " +
				`Back-off pulling image "registry.example/scim:0.1"`},
		{name: "crash loop says how the container last ended", pods: []corev1.Pod{pod("a", nil, crashed)},
			want: "container scim-server of pod a is waiting: CrashLoopBackOff: " +
				"back-off 40s restarting failed container; " +
				"it last exited with code 2: scim-server: invalid configuration: tls: open /tls/tls.crt"},
		{name: "container being created is no problem",
			pods: []corev1.Pod{pod("a", nil, waiting("ContainerCreating", ""))}},
		{name: "unready for a moment after start is no problem",
			pods: []corev1.Pod{pod("a", nil, running(5*time.Second, false))}},
		{name: "unready for longer points at the store",
			pods: []corev1.Pod{pod("a", nil, running(time.Minute, false))},
			want: "pod a runs but is not ready: its /readyz fails while the store is not open or cannot be reached; " +
				"its log says why"},
		{name: "ready pod is no problem", pods: []corev1.Pod{pod("a", nil, running(time.Minute, true))}},
		{name: "first pod by name with a problem wins", pods: []corev1.Pod{pod("b", unschedulable),
			pod("a", nil, running(time.Minute, true)), pod("c", nil, waiting("ErrImagePull", "not found"))},
			want: "pod b cannot be scheduled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := podProblem(tt.pods, now)
			if tt.want == "" && got != "" || !strings.HasPrefix(got, tt.want) {
				t.Fatalf("podProblem = %q, want %q", got, tt.want)
			}
		})
	}
}
