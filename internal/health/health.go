package health

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Status is one of gitops-engine's six health codes.
type Status string

// The health codes, from best to worst as Aggregate ranks them.
const (
	// Healthy: the object is in the state its spec asks for.
	Healthy Status = "Healthy"
	// Suspended: the object deliberately runs nothing (scaled to zero,
	// paused).
	Suspended Status = "Suspended"
	// Progressing: not there yet, but still moving (a rollout).
	Progressing Status = "Progressing"
	// Missing: the object does not exist.
	Missing Status = "Missing"
	// Degraded: the object failed and will not get better by waiting.
	Degraded Status = "Degraded"
	// Unknown: the object's status could not be read.
	Unknown Status = "Unknown"
)

// rank orders the codes as gitops-engine does: a higher rank is worse.
var rank = map[Status]int{Healthy: 0, Suspended: 1, Progressing: 2, Missing: 3, Degraded: 4, Unknown: 5}

// Worse reports whether s is worse than t. A code not in the list counts as
// Unknown.
func (s Status) Worse(t Status) bool { return rankOf(s) > rankOf(t) }

func rankOf(s Status) int {
	if r, ok := rank[s]; ok {
		return r
	}
	return rank[Unknown]
}

// Result is the health of one object, or of several (Aggregate), which then
// carries the kind and name of the worst.
type Result struct {
	Status Status `json:"status"`
	// Kind and Name identify the object the status is about.
	Kind string `json:"kind,omitempty"`
	Name string `json:"name,omitempty"`
	// Message says why, for a person ("0/1 replicas available").
	Message string `json:"message,omitempty"`
}

// String is "Kind name: message", or only the message where there is no
// object.
func (r Result) String() string {
	switch {
	case r.Kind == "" && r.Name == "":
		return r.Message
	case r.Message == "":
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Name + ": " + r.Message
}

// NotFound is the result for an object that should exist and does not.
func NotFound(kind, name string) Result {
	return Result{Status: Missing, Kind: kind, Name: name, Message: "not found"}
}

// Of returns the health of an object as a dynamic client returns it; nil is
// Missing. Kinds with rules of their own are converted to their typed form;
// one that does not convert (a field of the wrong type) is Unknown.
func Of(obj *unstructured.Unstructured) Result {
	if obj == nil {
		return Result{Status: Missing, Message: "not found"}
	}
	kind, name := obj.GetKind(), obj.GetName()
	gk := obj.GroupVersionKind().GroupKind()
	var typed any
	switch gk.String() {
	case "Deployment.apps":
		typed = &appsv1.Deployment{}
	case "StatefulSet.apps":
		typed = &appsv1.StatefulSet{}
	case "DaemonSet.apps":
		typed = &appsv1.DaemonSet{}
	case "PodDisruptionBudget.policy":
		typed = &policyv1.PodDisruptionBudget{}
	case "Service":
		typed = &corev1.Service{}
	default:
		return Result{Status: Healthy, Kind: kind, Name: name}
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, typed); err != nil {
		return Result{Status: Unknown, Kind: kind, Name: name, Message: fmt.Sprintf("cannot read status: %v", err)}
	}
	switch t := typed.(type) {
	case *appsv1.Deployment:
		return Deployment(t)
	case *appsv1.StatefulSet:
		return StatefulSet(t)
	case *appsv1.DaemonSet:
		return DaemonSet(t)
	case *policyv1.PodDisruptionBudget:
		return PodDisruptionBudget(t)
	default:
		return Service(t.(*corev1.Service))
	}
}

// Aggregate reduces results to the worst one; its message names the worst
// object and how many others share its status. No results is Healthy.
func Aggregate(results []Result) Result {
	if len(results) == 0 {
		return Result{Status: Healthy, Message: "no objects"}
	}
	worst, same := results[0], 0
	for _, r := range results[1:] {
		switch {
		case r.Status.Worse(worst.Status):
			worst, same = r, 0
		case r.Status == worst.Status:
			same++
		}
	}
	out := worst
	out.Message = worst.String()
	if same > 0 {
		out.Message += fmt.Sprintf(" (and %d more %s)", same, worst.Status)
	}
	return out
}
