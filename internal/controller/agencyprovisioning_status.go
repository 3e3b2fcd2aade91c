package controller

import (
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	scimv1alpha1 "github.com/provisioning-dev/scim-operator/api/v1alpha1"
	"github.com/provisioning-dev/scim-operator/internal/scimconfig"
)

// readyOrder is the order in which Ready looks for a condition that is not True: the first
// thing an admin has to fix comes first. Condition types not listed follow, sorted by name.
var readyOrder = []string{
	scimv1alpha1.ConditionOktaAuthenticated,
	scimv1alpha1.ConditionIssuerVerified,
	scimv1alpha1.ConditionOktaAppsConfigured,
	scimv1alpha1.ConditionScimServerAvailable,
	scimv1alpha1.ConditionProvisioningConnected,
	scimv1alpha1.ConditionScimAuthenticated,
}

// scimServerAvailableCondition says whether the SCIM server's Deployment (nil when not yet
// seen) has its replicas available. storeProblem, when set, names what is wrong with the store's
// configuration. While the Deployment is not available, a problem the SCIM server reported about
// its store (reported, read from a pod's report) explains it; else podProblem, when set, says
// why a pod is not ready (see podProblem).
func scimServerAvailableCondition(dep *appsv1.Deployment, storeProblem, podProblem string,
	reported *scimconfig.StoreProblem, generation int64) metav1.Condition {
	c := metav1.Condition{Type: scimv1alpha1.ConditionScimServerAvailable, ObservedGeneration: generation}
	switch {
	case storeProblem != "":
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, scimv1alpha1.ReasonStoreUnreachable, storeProblem
	case dep == nil:
		c.Status, c.Reason, c.Message = metav1.ConditionUnknown, scimv1alpha1.ReasonReconciling,
			"The SCIM server's Deployment is being created"
	default:
		c.Status, c.Reason, c.Message = deploymentAvailability(dep)
		switch {
		case c.Status == metav1.ConditionTrue:
		case reported != nil:
			deployment := c.Message
			c.Status = metav1.ConditionFalse
			c.Reason, c.Message = reportedStoreProblem(reported)
			c.Message += "; " + deployment
		case podProblem != "":
			c.Message += "; " + podProblem
		}
	}
	return c
}

// reportedStoreProblem is the reason and the start of the message of a store problem a SCIM
// server reported, with what an admin can check.
func reportedStoreProblem(p *scimconfig.StoreProblem) (string, string) {
	since := p.Since.UTC().Format(time.RFC3339)
	if p.Reason == scimconfig.MigrationFailed {
		return scimv1alpha1.ReasonMigrationFailed, fmt.Sprintf("The SCIM server could not migrate its "+
			"database schema (since %s): %s; the database holds tables the SCIM server did not create, or "+
			"its user may not create them", since, p.Message)
	}
	return scimv1alpha1.ReasonStoreUnreachable, fmt.Sprintf("The SCIM server cannot open or reach its database "+
		"(since %s): %s; check the database and spec.scimServer.storage", since, p.Message)
}

// notReadyGrace is how long a running SCIM server container may stay unready before the
// condition says so: opening the store takes a moment at every start.
const notReadyGrace = 30 * time.Second

// podProblem says why the first SCIM server pod (by name) that shows a reason is not ready, in
// words an admin can act on: it cannot be scheduled, its container waits (image pull, crash
// loop, with the last exit's message), or it has run unready for notReadyGrace. "" when no pod
// shows a reason.
func podProblem(pods []corev1.Pod, now time.Time) string {
	pods = slices.Clone(pods)
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	for i := range pods {
		p := &pods[i]
		if p.DeletionTimestamp != nil {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				return fmt.Sprintf("pod %s cannot be scheduled: %s", p.Name, c.Message)
			}
		}
		for _, cs := range p.Status.ContainerStatuses {
			if msg := containerProblem(p.Name, cs, now); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// containerProblem is podProblem for one container.
func containerProblem(pod string, cs corev1.ContainerStatus, now time.Time) string {
	switch {
	case cs.State.Waiting != nil && cs.State.Waiting.Reason != "" &&
		cs.State.Waiting.Reason != "ContainerCreating" && cs.State.Waiting.Reason != "PodInitializing":
		w := cs.State.Waiting
		msg := fmt.Sprintf("container %s of pod %s is waiting: %s", cs.Name, pod, w.Reason)
		if w.Message != "" {
			msg += ": " + w.Message
		}
		if t := cs.LastTerminationState.Terminated; t != nil {
			msg += fmt.Sprintf("; it last exited with code %d", t.ExitCode)
			if last := lastLine(t.Message); last != "" {
				msg += ": " + last
			}
		}
		return msg
	case cs.State.Running != nil && !cs.Ready && now.Sub(cs.State.Running.StartedAt.Time) >= notReadyGrace:
		return fmt.Sprintf("pod %s runs but is not ready: its /readyz fails while the store is not open or "+
			"cannot be reached; its log says why", pod)
	}
	return ""
}

// lastLine is the last non-empty line of a termination message (the tail of the log, as
// FallbackToLogsOnError gives it), at most 300 bytes of it.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return boundTo(strings.TrimSpace(lines[len(lines)-1]), 300)
}

func deploymentAvailability(dep *appsv1.Deployment) (metav1.ConditionStatus, string, string) {
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	st := dep.Status
	counts := fmt.Sprintf("%d of %d replicas available, %d updated", st.AvailableReplicas, want, st.UpdatedReplicas)
	if st.ObservedGeneration < dep.Generation {
		return metav1.ConditionUnknown, scimv1alpha1.ReasonDeploymentProgressing,
			fmt.Sprintf("Deployment %s: the rollout has not been observed yet", dep.Name)
	}
	if progressing := deploymentCondition(dep, appsv1.DeploymentProgressing); progressing != nil &&
		progressing.Status == corev1.ConditionFalse {
		return metav1.ConditionFalse, scimv1alpha1.ReasonDeploymentUnavailable,
			fmt.Sprintf("Deployment %s: %s (%s); check the pods' events and logs",
				dep.Name, progressing.Message, counts)
	}
	available := deploymentCondition(dep, appsv1.DeploymentAvailable)
	if available != nil && available.Status == corev1.ConditionTrue &&
		st.AvailableReplicas >= want && st.UpdatedReplicas >= want {
		return metav1.ConditionTrue, scimv1alpha1.ReasonDeploymentAvailable,
			fmt.Sprintf("Deployment %s: %s", dep.Name, counts)
	}
	return metav1.ConditionFalse, scimv1alpha1.ReasonDeploymentProgressing,
		fmt.Sprintf("Deployment %s: waiting for pods, %s", dep.Name, counts)
}

func deploymentCondition(dep *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range dep.Status.Conditions {
		if dep.Status.Conditions[i].Type == t {
			return &dep.Status.Conditions[i]
		}
	}
	return nil
}

// workloadFailedCondition reports an error that stopped the workload step.
func workloadFailedCondition(err error, generation int64) metav1.Condition {
	return metav1.Condition{
		Type:               scimv1alpha1.ConditionScimServerAvailable,
		Status:             metav1.ConditionFalse,
		Reason:             scimv1alpha1.ReasonReconcileFailed,
		Message:            "Applying the SCIM server's objects failed: " + err.Error(),
		ObservedGeneration: generation,
	}
}

// readyCondition summarises the other conditions: False with the reason and message of the
// first False one, else Unknown with the first Unknown one, else True.
func readyCondition(conds []metav1.Condition, generation int64) metav1.Condition {
	ready := metav1.Condition{
		Type:               scimv1alpha1.ConditionReady,
		Status:             metav1.ConditionTrue,
		Reason:             scimv1alpha1.ReasonSucceeded,
		Message:            "All conditions are True",
		ObservedGeneration: generation,
	}
	others := orderForReady(conds)
	if len(others) == 0 {
		ready.Status, ready.Reason, ready.Message = metav1.ConditionUnknown, scimv1alpha1.ReasonReconciling,
			"No condition has been observed yet"
		return ready
	}
	for _, want := range []metav1.ConditionStatus{metav1.ConditionFalse, metav1.ConditionUnknown} {
		for _, c := range others {
			if c.Status == want {
				ready.Status, ready.Reason = want, c.Reason
				ready.Message = fmt.Sprintf("%s: %s", c.Type, c.Message)
				return ready
			}
		}
	}
	return ready
}

// orderForReady returns the conditions other than Ready, in readyOrder and then by type.
func orderForReady(conds []metav1.Condition) []metav1.Condition {
	rank := func(t string) int {
		if i := slices.Index(readyOrder, t); i >= 0 {
			return i
		}
		return len(readyOrder)
	}
	out := make([]metav1.Condition, 0, len(conds))
	for _, c := range conds {
		if c.Type != scimv1alpha1.ConditionReady {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b metav1.Condition) int {
		if d := rank(a.Type) - rank(b.Type); d != 0 {
			return d
		}
		switch {
		case a.Type < b.Type:
			return -1
		case a.Type > b.Type:
			return 1
		}
		return 0
	})
	return out
}

// conditionTransitions returns the conditions of after whose status or reason differs from
// before (or that before lacks): those deserve an Event.
func conditionTransitions(before, after []metav1.Condition) []metav1.Condition {
	var changed []metav1.Condition
	for _, c := range after {
		i := slices.IndexFunc(before, func(b metav1.Condition) bool { return b.Type == c.Type })
		if i >= 0 && before[i].Status == c.Status && before[i].Reason == c.Reason {
			continue
		}
		changed = append(changed, c)
	}
	return changed
}
