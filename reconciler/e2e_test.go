package reconciler_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/gittest"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/reconciler"
)

// TestEndToEnd follows one repository through its life on the real control
// plane: install everything, a no-op, one change, one deletion, an invalid
// revision, and its fix.
func TestEndToEnd(t *testing.T) {
	f := newFixture(t, cluster.Get(t))
	ctx := context.Background()

	// 1. Everything installs and every Deployment becomes Available.
	if err := f.rec.Reconcile(ctx); err != nil {
		t.Fatalf("first reconcile: %v", err)
	}
	snap := f.rec.Status().Snapshot()
	if snap.Last.Phase != status.Applied || snap.Last.Installed != 16 || snap.Applied != f.git.Head() {
		t.Fatalf("after the first reconcile: %+v, applied %s", *snap.Last, snap.Applied)
	}
	if got := events(f.mem.Records()); got[history.AdapterInstalled] != 16 || got[history.RevisionApplied] != 1 {
		t.Fatalf("records after the first reconcile: %v", got)
	}
	waitFor(t, 90*time.Second, "every Deployment Available", func() (bool, string) {
		a, n := f.availableDeployments()
		return n == 16 && a == 16, fmt.Sprintf("%d of %d", a, n)
	})
	waitFor(t, 30*time.Second, "every adapter Healthy in the status", func() (bool, string) {
		if err := f.rec.RefreshHealth(ctx); err != nil {
			return false, err.Error()
		}
		h, n := reconciler.Healthy(f.rec.Status().Snapshot())
		return h == n && n == 16, fmt.Sprintf("%d of %d", h, n)
	})
	before := f.releases()

	// 2. Nothing changed: no request to the API server at all.
	f.api.Reset()
	if err := f.rec.Reconcile(ctx); err != nil {
		t.Fatalf("no-op reconcile: %v", err)
	}
	if n := f.api.Requests.Load(); n != 0 {
		t.Errorf("a reconcile with nothing to do sent %d requests to the API server", n)
	}

	// 3. One adapter changes: only its release is upgraded.
	lse := f.read("adapters/prod/lse-fix-primary.json")
	f.git.Write("adapters/prod/lse-fix-primary.json", strings.Replace(lse, `"heartbeatSeconds": 30`, `"heartbeatSeconds": 20`, 1))
	change := f.git.Commit("LSE primary: heartbeat 20s", gittest.Author("Bob Trader", "bob@acme.example"))
	if err := f.rec.Reconcile(ctx); err != nil {
		t.Fatalf("reconcile of one change: %v", err)
	}
	snap = f.rec.Status().Snapshot()
	if snap.Last.Upgraded != 1 || snap.Last.Unchanged != 15 || snap.Last.Installed != 0 {
		t.Fatalf("one change: %+v", *snap.Last)
	}
	after := f.releases()
	key := f.prefix + "-prod/lse-fix-primary"
	for k, v := range after {
		want := before[k]
		if k == key {
			want++
		}
		if v != want {
			t.Errorf("release %s: Helm version %d, want %d", k, v, want)
		}
	}
	rec := lastOf(f.mem.Records(), history.AdapterUpgraded)
	if rec == nil || rec.Adapter != "lse-fix-primary" || !hasChange(rec, "/spec/fix/heartbeatSeconds") ||
		len(rec.Commits) != 1 || rec.Commits[0].Hash != change || rec.Commits[0].Author.Name != "Bob Trader" {
		t.Errorf("upgrade record: %+v", rec)
	}

	// 4. One adapter is deleted: only its release is uninstalled.
	f.git.Remove("adapters/prod/tcp-marketdata-feed.json")
	f.git.Commit("Retire the TCP market data feed")
	if err := f.rec.Reconcile(ctx); err != nil {
		t.Fatalf("reconcile of a deletion: %v", err)
	}
	gone := f.prefix + "-prod/tcp-marketdata-feed"
	now := f.releases()
	if _, ok := now[gone]; ok || len(now) != 15 {
		t.Errorf("after the deletion: %d releases, %s still there: %v", len(now), gone, ok)
	}
	delete(after, gone)
	if !maps.Equal(now, after) {
		t.Errorf("the deletion changed other releases: %v -> %v", after, now)
	}

	// 5. An invalid document: nothing applies, the status names the file.
	applied := f.rec.Status().Snapshot().Applied
	f.git.Write("adapters/prod/broken.json", `{"apiVersion": "cairn.dev/v1alpha1", "kind": "Adapter",
  "metadata": {"name": "broken", "environment": "prod"},
  "spec": {"protocol": "fix", "role": "initiator", "replicas": "two"}}`)
	f.git.Write("adapters/prod/lse-fix-primary.json", lse) // a valid change in the same revision
	f.git.Commit("Add a broken adapter")
	err := f.rec.Reconcile(ctx)
	if !isStalled(err) {
		t.Fatalf("invalid revision: want a StalledError, got %v", err)
	}
	snap = f.rec.Status().Snapshot()
	if snap.Last.Phase != status.Stalled || snap.Applied != applied || len(snap.Last.Findings) == 0 ||
		snap.Last.Findings[0].File != "adapters/prod/broken.json" || !strings.Contains(snap.Last.Message, "adapters/prod/broken.json") {
		t.Fatalf("invalid revision status: %+v", *snap.Last)
	}
	if got := f.releases(); !maps.Equal(got, now) {
		t.Errorf("an invalid revision changed releases: %v -> %v", now, got)
	}
	if rec := lastOf(f.mem.Records(), history.RevisionRefused); rec == nil || !strings.Contains(rec.Error, "broken.json") {
		t.Errorf("refusal record: %+v", rec)
	}
	n := len(f.mem.Records())
	if err := f.rec.Reconcile(ctx); !isStalled(err) || len(f.mem.Records()) != n {
		t.Errorf("the same invalid revision again: %v, %d new records", err, len(f.mem.Records())-n)
	}

	// 6. The fix applies, with the valid change it carried.
	f.git.Remove("adapters/prod/broken.json")
	f.git.Commit("Remove the broken adapter")
	if err := f.rec.Reconcile(ctx); err != nil {
		t.Fatalf("reconcile of the fix: %v", err)
	}
	if snap := f.rec.Status().Snapshot(); snap.Applied != f.git.Head() || snap.Last.Upgraded != 1 {
		t.Errorf("after the fix: %+v", *snap.Last)
	}
}

func lastOf(recs []history.Record, ev history.Event) *history.Record {
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Event == ev {
			return &recs[i]
		}
	}
	return nil
}

func hasChange(r *history.Record, ptr string) bool {
	for _, c := range r.Changes {
		if c.Pointer == ptr {
			return true
		}
	}
	return false
}
