package helm

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cairn-gitops/cairn/render"
)

// TestDriftCorrectedByApply installs an adapter, finds it in sync, drifts it
// by hand (scaled, relabelled, its ConfigMap deleted), sees Drift report
// each change, and sees Apply with the same release put everything back.
func TestDriftCorrectedByApply(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	ns := namespace("drift")
	for _, key := range []string{"prod/lse-fix-primary", "prod/client-bluefin-acceptor", "prod/kafka-orders-bridge"} {
		r := adapter(t, key, ns)
		if _, err := e.c.Apply(ctx, r); err != nil {
			t.Fatal(err)
		}
		rendered, _ := example(t, key)
		assertInSync(t, e.c, ns, rendered.Objects)
	}

	key := "prod/lse-fix-primary"
	r := adapter(t, key, ns)
	rendered, _ := example(t, key)
	deps := e.kube.AppsV1().Deployments(ns)
	if _, err := deps.Patch(ctx, r.Name, types.MergePatchType,
		[]byte(`{"spec":{"replicas":3},"metadata":{"labels":{"venue":"edited-by-hand"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.kube.CoreV1().ConfigMaps(ns).Delete(ctx, r.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	drifts, err := e.c.Drift(ctx, ns, rendered.Objects)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]ObjectDrift{}
	for _, d := range drifts {
		states[d.Kind] = d
	}
	if d := states["ConfigMap"]; d.State != Missing {
		t.Errorf("ConfigMap: %s, want missing", d.State)
	}
	dep := states["Deployment"]
	if dep.State != Changed {
		t.Fatalf("Deployment: %s, want changed", dep.State)
	}
	pointers := map[string]any{}
	for _, c := range dep.Changes {
		pointers[c.Pointer] = c.Got
	}
	if got, ok := pointers["/spec/replicas"]; !ok || got != int64(3) {
		t.Errorf("changes %+v lack /spec/replicas -> 3", dep.Changes)
	}
	if got := pointers["/metadata/labels/venue"]; got != "edited-by-hand" {
		t.Errorf("changes %+v lack /metadata/labels/venue", dep.Changes)
	}
	if len(dep.Changes) != 2 || !strings.Contains(dep.Diff, "+  replicas: 3") {
		t.Errorf("want exactly the two changes and a diff showing them; got %+v\n%s", dep.Changes, dep.Diff)
	}
	if d := states["NetworkPolicy"]; d.State != InSync {
		t.Errorf("NetworkPolicy: %s %+v, want in sync", d.State, d.Changes)
	}

	out, err := e.c.Apply(ctx, r)
	if err != nil || out.Action != Upgraded {
		t.Fatalf("correcting apply: %+v %v", out, err)
	}
	assertInSync(t, e.c, ns, rendered.Objects)
}

func assertInSync(t *testing.T, c *Client, ns string, objects []render.Object) {
	t.Helper()
	drifts, err := c.Drift(context.Background(), ns, objects)
	if err != nil {
		t.Fatal(err)
	}
	if len(drifts) != len(objects) {
		t.Fatalf("%d drifts for %d objects", len(drifts), len(objects))
	}
	for _, d := range drifts {
		if d.State != InSync {
			t.Errorf("%s %s: %s %+v\n%s", d.Kind, d.Name, d.State, d.Changes, d.Diff)
		}
	}
}
