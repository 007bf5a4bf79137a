package health

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// Deployment returns a Deployment's health (see the package comment); nil
// is Missing.
func Deployment(d *appsv1.Deployment) Result {
	if d == nil {
		return NotFound("Deployment", "")
	}
	r := Result{Kind: "Deployment", Name: d.Name}
	want := replicasOf(d.Spec.Replicas)
	st := d.Status
	switch {
	case d.Spec.Paused:
		r.Status, r.Message = Suspended, "rollout paused"
	case d.Generation > st.ObservedGeneration:
		r.Status, r.Message = Progressing, "waiting for the controller to observe the new spec"
	case deploymentFailed(d) != "":
		r.Status, r.Message = Degraded, deploymentFailed(d)
	case want == 0 && st.Replicas == 0:
		r.Status, r.Message = Suspended, "scaled to 0 replicas"
	case st.UpdatedReplicas < want:
		r.Status, r.Message = Progressing, fmt.Sprintf("%d/%d replicas updated", st.UpdatedReplicas, want)
	case st.Replicas > st.UpdatedReplicas:
		r.Status, r.Message = Progressing, fmt.Sprintf("%d old replicas pending termination", st.Replicas-st.UpdatedReplicas)
	case st.AvailableReplicas < want || st.Replicas != want:
		r.Status, r.Message = Progressing, fmt.Sprintf("%d/%d replicas available", st.AvailableReplicas, want)
	case want > 0 && !deploymentCondition(d, appsv1.DeploymentAvailable, corev1.ConditionTrue):
		r.Status, r.Message = Progressing, "Available condition is not True"
	default:
		r.Status, r.Message = Healthy, fmt.Sprintf("%d/%d replicas available", st.AvailableReplicas, want)
	}
	return r
}

// deploymentFailed returns why a Deployment cannot progress, or "".
func deploymentFailed(d *appsv1.Deployment) string {
	for _, c := range d.Status.Conditions {
		switch {
		case c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded":
			return "progress deadline exceeded: " + c.Message
		case c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue:
			return "replica failure: " + c.Message
		}
	}
	return ""
}

func deploymentCondition(d *appsv1.Deployment, t appsv1.DeploymentConditionType, s corev1.ConditionStatus) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == t {
			return c.Status == s
		}
	}
	return false
}

// replicasOf is spec.replicas with the API server's default of 1.
func replicasOf(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// StatefulSet returns a StatefulSet's health; nil is Missing.
func StatefulSet(s *appsv1.StatefulSet) Result {
	if s == nil {
		return NotFound("StatefulSet", "")
	}
	r := Result{Kind: "StatefulSet", Name: s.Name}
	want := replicasOf(s.Spec.Replicas)
	st := s.Status
	rolling := s.Spec.UpdateStrategy.Type == "" || s.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType
	switch {
	case s.Generation > st.ObservedGeneration:
		r.Status, r.Message = Progressing, "waiting for the controller to observe the new spec"
	case want == 0 && st.Replicas == 0:
		r.Status, r.Message = Suspended, "scaled to 0 replicas"
	case st.ReadyReplicas < want:
		r.Status, r.Message = Progressing, fmt.Sprintf("%d/%d replicas ready", st.ReadyReplicas, want)
	case rolling && st.UpdateRevision != "" && st.CurrentRevision != st.UpdateRevision:
		r.Status, r.Message = Progressing, fmt.Sprintf("%d/%d replicas updated", st.UpdatedReplicas, want)
	default:
		r.Status, r.Message = Healthy, fmt.Sprintf("%d/%d replicas ready", st.ReadyReplicas, want)
	}
	return r
}

// DaemonSet returns a DaemonSet's health; nil is Missing.
func DaemonSet(d *appsv1.DaemonSet) Result {
	if d == nil {
		return NotFound("DaemonSet", "")
	}
	r := Result{Kind: "DaemonSet", Name: d.Name}
	st := d.Status
	switch {
	case d.Generation > st.ObservedGeneration:
		r.Status, r.Message = Progressing, "waiting for the controller to observe the new spec"
	case d.Spec.UpdateStrategy.Type != appsv1.OnDeleteDaemonSetStrategyType && st.UpdatedNumberScheduled < st.DesiredNumberScheduled:
		r.Status, r.Message = Progressing, fmt.Sprintf("%d/%d pods updated", st.UpdatedNumberScheduled, st.DesiredNumberScheduled)
	case st.NumberAvailable < st.DesiredNumberScheduled:
		r.Status, r.Message = Progressing, fmt.Sprintf("%d/%d pods available", st.NumberAvailable, st.DesiredNumberScheduled)
	default:
		r.Status, r.Message = Healthy, fmt.Sprintf("%d/%d pods available", st.NumberAvailable, st.DesiredNumberScheduled)
	}
	return r
}

// PodDisruptionBudget returns a budget's health: Degraded while it blocks
// every voluntary disruption because too few pods are healthy; nil is
// Missing.
func PodDisruptionBudget(p *policyv1.PodDisruptionBudget) Result {
	if p == nil {
		return NotFound("PodDisruptionBudget", "")
	}
	r := Result{Kind: "PodDisruptionBudget", Name: p.Name}
	st := p.Status
	switch {
	case p.Generation > st.ObservedGeneration:
		r.Status, r.Message = Progressing, "waiting for the controller to observe the new spec"
	case st.CurrentHealthy < st.DesiredHealthy:
		r.Status, r.Message = Degraded, fmt.Sprintf("%d healthy pods, %d needed", st.CurrentHealthy, st.DesiredHealthy)
	default:
		r.Status, r.Message = Healthy, fmt.Sprintf("%d healthy pods, %d needed", st.CurrentHealthy, st.DesiredHealthy)
	}
	return r
}

// Service returns a Service's health: always Healthy (see the package
// comment for LoadBalancer); nil is Missing.
func Service(s *corev1.Service) Result {
	if s == nil {
		return NotFound("Service", "")
	}
	r := Result{Status: Healthy, Kind: "Service", Name: s.Name}
	if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
		if len(s.Status.LoadBalancer.Ingress) == 0 {
			r.Message = "no load-balancer address assigned"
		} else {
			r.Message = "load-balancer address assigned"
		}
	}
	return r
}
