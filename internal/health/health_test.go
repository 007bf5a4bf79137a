package health

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// deploy builds a Deployment of want replicas whose status has the given
// counts and conditions.
func deploy(want int32, gen, observed int64, replicas, updated, available int32, conds ...appsv1.DeploymentCondition) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "lse-fix-primary", Generation: gen},
		Spec:       appsv1.DeploymentSpec{Replicas: &want},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: observed, Replicas: replicas, UpdatedReplicas: updated,
			AvailableReplicas: available, Conditions: conds,
		},
	}
}

var (
	available   = appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}
	unavailable = appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse}
	deadline    = appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: "ReplicaSet x has timed out progressing."}
	replicaFail = appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Message: "pods \"x\" is forbidden: exceeded quota"}
)

func TestDeployment(t *testing.T) {
	paused := deploy(1, 1, 1, 1, 1, 1, available)
	paused.Spec.Paused = true
	noReplicas := deploy(1, 1, 1, 1, 1, 1, available)
	noReplicas.Spec.Replicas = nil // the API server's default: 1
	tests := []struct {
		name string
		d    *appsv1.Deployment
		want Status
		// msg is a part of the message that must appear.
		msg string
	}{
		{"available", deploy(1, 2, 2, 1, 1, 1, available), Healthy, "1/1 replicas available"},
		{"default replicas", noReplicas, Healthy, "1/1"},
		{"not observed yet", deploy(1, 3, 2, 1, 1, 1, available), Progressing, "observe"},
		{"new pods not updated", deploy(2, 1, 1, 2, 1, 2, available), Progressing, "1/2 replicas updated"},
		{"old pods terminating", deploy(1, 1, 1, 2, 1, 1, available), Progressing, "1 old replicas"},
		{"nothing available", deploy(1, 1, 1, 1, 1, 0, unavailable), Progressing, "0/1 replicas available"},
		{"counts right, condition missing", deploy(1, 1, 1, 1, 1, 1), Progressing, "Available"},
		{"progress deadline", deploy(1, 1, 1, 1, 1, 0, unavailable, deadline), Degraded, "progress deadline exceeded"},
		{"replica failure", deploy(1, 1, 1, 0, 0, 0, replicaFail), Degraded, "exceeded quota"},
		{"scaled to zero", deploy(0, 2, 2, 0, 0, 0, available), Suspended, "0 replicas"},
		{"scaling to zero", deploy(0, 2, 2, 1, 0, 1, available), Progressing, "old replicas"},
		{"paused", paused, Suspended, "paused"},
		{"nil", nil, Missing, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Deployment(tt.d)
			if got.Status != tt.want || !strings.Contains(got.Message, tt.msg) {
				t.Errorf("Deployment() = %s %q, want %s containing %q", got.Status, got.Message, tt.want, tt.msg)
			}
		})
	}
}

func TestStatefulSetDaemonSetPDBService(t *testing.T) {
	three := int32(3)
	zero := int32(0)
	sts := func(replicas *int32, ready int32, current, update string) *appsv1.StatefulSet {
		return &appsv1.StatefulSet{
			ObjectMeta: metav1.ObjectMeta{Name: "s", Generation: 1},
			Spec:       appsv1.StatefulSetSpec{Replicas: replicas},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: 1, Replicas: ready, ReadyReplicas: ready,
				CurrentRevision: current, UpdateRevision: update},
		}
	}
	ds := func(desired, updated, avail int32) *appsv1.DaemonSet {
		return &appsv1.DaemonSet{Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: desired,
			UpdatedNumberScheduled: updated, NumberAvailable: avail}}
	}
	pdb := func(cur, desired int32) *policyv1.PodDisruptionBudget {
		return &policyv1.PodDisruptionBudget{Status: policyv1.PodDisruptionBudgetStatus{CurrentHealthy: cur, DesiredHealthy: desired}}
	}
	lb := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}
	tests := []struct {
		name string
		got  Result
		want Status
	}{
		{"statefulset ready", StatefulSet(sts(&three, 3, "r1", "r1")), Healthy},
		{"statefulset rolling", StatefulSet(sts(&three, 3, "r1", "r2")), Progressing},
		{"statefulset not ready", StatefulSet(sts(&three, 2, "r1", "r1")), Progressing},
		{"statefulset zero", StatefulSet(sts(&zero, 0, "r1", "r1")), Suspended},
		{"daemonset ready", DaemonSet(ds(2, 2, 2)), Healthy},
		{"daemonset updating", DaemonSet(ds(2, 1, 2)), Progressing},
		{"daemonset unavailable", DaemonSet(ds(2, 2, 1)), Progressing},
		{"pdb satisfied", PodDisruptionBudget(pdb(2, 1)), Healthy},
		{"pdb blocking", PodDisruptionBudget(pdb(0, 1)), Degraded},
		{"load balancer without address (kwok)", Service(lb), Healthy},
		{"nil service", Service(nil), Missing},
	}
	for _, tt := range tests {
		if tt.got.Status != tt.want {
			t.Errorf("%s: got %s (%s), want %s", tt.name, tt.got.Status, tt.got.Message, tt.want)
		}
	}
}

// TestOf checks the unstructured entry point: typed rules for known kinds,
// Healthy for others, Unknown for unreadable status, Missing for nil.
func TestOf(t *testing.T) {
	toU := func(obj runtime.Object, kind, apiVersion string) *unstructured.Unstructured {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: m}
		u.SetKind(kind)
		u.SetAPIVersion(apiVersion)
		return u
	}
	broken := toU(deploy(1, 1, 1, 1, 1, 1, available), "Deployment", "apps/v1")
	broken.Object["status"] = map[string]any{"replicas": "many"}
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c"}}}
	tests := []struct {
		name string
		obj  *unstructured.Unstructured
		want Status
		// str is what Result.String must return.
		str string
	}{
		{"deployment", toU(deploy(1, 1, 1, 1, 1, 0, unavailable), "Deployment", "apps/v1"), Progressing, "Deployment lse-fix-primary: 0/1 replicas available"},
		{"configmap", cm, Healthy, "ConfigMap c"},
		{"unreadable", broken, Unknown, ""},
		{"nil", nil, Missing, "not found"},
	}
	for _, tt := range tests {
		got := Of(tt.obj)
		if got.Status != tt.want || tt.str != "" && got.String() != tt.str {
			t.Errorf("%s: Of() = %s %q, want %s %q", tt.name, got.Status, got.String(), tt.want, tt.str)
		}
	}
}

func TestAggregate(t *testing.T) {
	ok := Result{Status: Healthy, Kind: "ConfigMap", Name: "a"}
	prog := Deployment(deploy(1, 1, 1, 1, 1, 0, unavailable))
	degraded := Result{Status: Degraded, Kind: "PodDisruptionBudget", Name: "b", Message: "0 healthy pods, 1 needed"}
	suspended := Result{Status: Suspended, Kind: "Deployment", Name: "c", Message: "scaled to 0 replicas"}
	missing := NotFound("Deployment", "d")
	unknown := Result{Status: Unknown, Kind: "Deployment", Name: "e"}
	tests := []struct {
		name string
		in   []Result
		want Status
		msg  string
	}{
		{"none", nil, Healthy, "no objects"},
		{"all healthy", []Result{ok, ok}, Healthy, "ConfigMap a (and 1 more Healthy)"},
		{"progressing names the object", []Result{ok, prog}, Progressing, "Deployment lse-fix-primary: 0/1 replicas available"},
		{"suspended beats healthy", []Result{ok, suspended}, Suspended, "Deployment c: scaled to 0 replicas"},
		{"missing beats progressing", []Result{prog, missing, ok}, Missing, "Deployment d: not found"},
		{"degraded beats missing", []Result{missing, degraded}, Degraded, "PodDisruptionBudget b: 0 healthy pods, 1 needed"},
		{"unknown is worst", []Result{degraded, unknown}, Unknown, "Deployment e"},
	}
	for _, tt := range tests {
		got := Aggregate(tt.in)
		if got.Status != tt.want || got.Message != tt.msg {
			t.Errorf("%s: Aggregate = %s %q, want %s %q", tt.name, got.Status, got.Message, tt.want, tt.msg)
		}
	}
	if !Status("weird").Worse(Degraded) || Healthy.Worse(Suspended) {
		t.Error("Worse: an unlisted code must rank as Unknown, Healthy must be best")
	}
}
