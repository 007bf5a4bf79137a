package reconciler_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/reconciler"
)

// TestDrift changes live objects by hand: warn reports the drift once in the
// status and the audit trail; correct restores the objects.
func TestDrift(t *testing.T) {
	f := newFixture(t, cluster.Get(t))
	ctx := context.Background()
	if err := f.rec.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.rec.CheckDrift(ctx, reconciler.DriftWarn); err != nil {
		t.Fatal(err)
	}
	if recs := f.mem.Records(); events(recs)[history.DriftDetected] != 0 {
		t.Fatalf("drift found right after apply: %+v", lastOf(recs, history.DriftDetected))
	}
	prod := f.prefix + "-prod"
	scale, err := f.kube.AppsV1().Deployments(prod).GetScale(ctx, "lse-fix-primary", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 4
	if _, err := f.kube.AppsV1().Deployments(prod).UpdateScale(ctx, "lse-fix-primary", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.kube.CoreV1().ConfigMaps(prod).Delete(ctx, "eurex-fix-derivatives", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	for range 2 { // the second check finds the same drift and records nothing new
		if err := f.rec.CheckDrift(ctx, reconciler.DriftWarn); err != nil {
			t.Fatal(err)
		}
	}
	if n := events(f.mem.Records())[history.DriftDetected]; n != 2 {
		t.Errorf("drift records after two warn checks: %d, want one per drifted adapter (2)", n)
	}
	snap := f.rec.Status().Snapshot()
	lse, _ := snap.Adapter("prod/lse-fix-primary")
	eurex, _ := snap.Adapter("prod/eurex-fix-derivatives")
	if !strings.Contains(lse.Drift, "/spec/replicas") || !strings.Contains(eurex.Drift, "ConfigMap/eurex-fix-derivatives missing") {
		t.Errorf("drift in the status: lse %q, eurex %q", lse.Drift, eurex.Drift)
	}
	if d, _ := f.kube.AppsV1().Deployments(prod).Get(ctx, "lse-fix-primary", metav1.GetOptions{}); *d.Spec.Replicas != 4 {
		t.Errorf("warn changed the live object: replicas %d", *d.Spec.Replicas)
	}

	if err := f.rec.CheckDrift(ctx, reconciler.DriftCorrect); err != nil {
		t.Fatal(err)
	}
	if n := events(f.mem.Records())[history.DriftCorrected]; n != 2 {
		t.Errorf("drift corrected records: %d, want 2", n)
	}
	d, err := f.kube.AppsV1().Deployments(prod).Get(ctx, "lse-fix-primary", metav1.GetOptions{})
	if err != nil || *d.Spec.Replicas != 2 { // as adapters/prod/lse-fix-primary.json says
		t.Errorf("correct did not restore replicas: %v %v", err, d.Spec.Replicas)
	}
	if _, err := f.kube.CoreV1().ConfigMaps(prod).Get(ctx, "eurex-fix-derivatives", metav1.GetOptions{}); err != nil {
		t.Errorf("correct did not recreate the ConfigMap: %v", err)
	}
	if err := f.rec.CheckDrift(ctx, reconciler.DriftWarn); err != nil {
		t.Fatal(err)
	}
	snap = f.rec.Status().Snapshot()
	for _, a := range snap.Adapters {
		if a.Drift != "" {
			t.Errorf("%s still drifts after correct: %s", a.Key, a.Drift)
		}
	}
}
