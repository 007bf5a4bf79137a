package reconciler_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/leader"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/internal/testcluster"
	"github.com/cairn-gitops/cairn/internal/testenv"
	"github.com/cairn-gitops/cairn/reconciler"
)

// TestMissingSecret: an adapter whose Secret is absent (or lacks a key)
// waits with a reason that names it; the others apply; once the Secret is
// complete, the adapter applies too.
func TestMissingSecret(t *testing.T) {
	f := newFixture(t, cluster.Get(t))
	ctx := context.Background()
	prod := f.prefix + "-prod"
	if err := f.kube.CoreV1().Secrets(prod).Delete(ctx, "lse-fix-credentials", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	sec, err := f.kube.CoreV1().Secrets(prod).Get(ctx, "eurex-fix-credentials", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	delete(sec.Data, "password")
	if sec, err = f.kube.CoreV1().Secrets(prod).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	err = f.rec.Reconcile(ctx)
	var w *reconciler.WaitingError
	if !asWaiting(err, &w) || w.Reason != reconciler.ReasonSecretMissing {
		t.Fatalf("want a WaitingError for the missing Secret, got %v", err)
	}
	snap := f.rec.Status().Snapshot()
	if snap.Last.Installed != 14 || snap.Last.Waiting != 2 || snap.Applied != "" {
		t.Fatalf("status: %+v (applied %q)", *snap.Last, snap.Applied)
	}
	for key, want := range map[string]string{"prod/lse-fix-primary": "lse-fix-credentials", "prod/eurex-fix-derivatives": `"password"`} {
		a, ok := snap.Adapter(key)
		if !ok || a.Phase != status.Waiting || a.Reason != reconciler.ReasonSecretMissing || !strings.Contains(a.LastError, want) {
			t.Errorf("%s: %+v, want Waiting naming %s", key, a, want)
		}
	}
	for _, s := range []string{"placeholder-"} { // no Secret value in any record or status
		for _, r := range f.mem.Records() {
			if strings.Contains(fmt.Sprintf("%+v", r), s) {
				t.Errorf("record holds a Secret value: %+v", r)
			}
		}
	}
	if _, ok := f.releases()[prod+"/lse-fix-primary"]; ok {
		t.Error("an adapter with a missing Secret was installed")
	}

	sec.Data["password"] = []byte("placeholder-x")
	if _, err := f.kube.CoreV1().Secrets(prod).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	createSecret(t, f, prod, "lse-fix-credentials", "username", "password")
	if err := f.rec.Reconcile(ctx); err != nil {
		t.Fatalf("after the Secrets were completed: %v", err)
	}
	if snap := f.rec.Status().Snapshot(); snap.Last.Installed != 2 || snap.Last.Unchanged != 14 || snap.Applied != f.git.Head() {
		t.Errorf("after the Secrets were completed: %+v", *snap.Last)
	}
}

// TestPruneGuards: a revision that renders nothing, or removes more
// adapters than policy.json allows, is refused and uninstalls nothing.
func TestPruneGuards(t *testing.T) {
	f := newFixture(t, cluster.Get(t))
	ctx := context.Background()
	if err := f.rec.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	before := f.releases()
	f.git.Git("rm", "-rq", "adapters")
	f.git.Write("security.json", strings.Replace(f.read("security.json"), `, "adapters": ["lse-fix-primary", "kafka-orders-bridge"]`, "", 1))
	f.git.Commit("Remove every adapter")
	if err := f.rec.Reconcile(ctx); !isStalled(err) || !strings.Contains(err.Error(), "renders no release") {
		t.Fatalf("empty render: want a refusal, got %v", err)
	}
	if got := f.releases(); len(got) != len(before) {
		t.Fatalf("an empty render uninstalled releases: %d -> %d", len(before), len(got))
	}
	f.git.Git("checkout", "HEAD~1", "--", "adapters")
	f.git.Remove("adapters/prod/tcp-marketdata-feed.json")
	f.git.Remove("adapters/prod/lse-fix-dropcopy.json")
	f.git.Write("policy.json", strings.Replace(f.read("policy.json"), `"maxDeletions": 3`, `"maxDeletions": 1`, 1))
	f.git.Commit("Remove two adapters; allow one deletion")
	err := f.rec.Reconcile(ctx)
	if !isStalled(err) || !strings.Contains(err.Error(), "maxDeletions allows 1") {
		t.Fatalf("two deletions with a limit of one: want a refusal, got %v", err)
	}
	if got := f.releases(); len(got) != len(before) {
		t.Errorf("a refused revision uninstalled releases: %d -> %d", len(before), len(got))
	}
	if rec := lastOf(f.mem.Records(), history.RevisionRefused); rec == nil || !strings.Contains(rec.Error, "maxDeletions") {
		t.Errorf("refusal record: %+v", rec)
	}
}

// TestAPIServerRestart stops the API server in the middle of a reconcile
// and starts it again: the loop converges without a restart of cairn.
func TestAPIServerRestart(t *testing.T) {
	testenv.SkipIfShort(t, "the local control plane")
	cl, err := testcluster.Start(context.Background(), testcluster.Options{Nodes: 1, ControllerManager: true, Scheduler: true, Kwok: true})
	if err != nil {
		testcluster.SkipOrFail(t, err)
	}
	t.Cleanup(func() { cl.Stop() })
	f := newFixture(t, cl)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- f.rec.Run(ctx, reconciler.LoopOptions{Interval: time.Hour, MinBackoff: 200 * time.Millisecond,
			MaxBackoff: 2 * time.Second, DriftInterval: -1})
	}()
	waitFor(t, 60*time.Second, "the first installs", func() (bool, string) {
		n := len(f.mem.Records())
		return n >= 3, fmt.Sprint(n, " records")
	})
	if err := cl.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if err := cl.StartAPIServer(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 120*time.Second, "convergence after the API server came back", func() (bool, string) {
		s := f.rec.Status().Snapshot()
		return s.Applied == f.git.Head(), fmt.Sprintf("%+v", s.Last)
	})
	if got := f.releases(); len(got) != 16 {
		t.Errorf("after convergence: %d deployed releases, want 16: %v", len(got), got)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
}

// TestTwoPushesInQuickSuccession: two commits, each followed by a trigger,
// end with the second applied, never the first after the second.
func TestTwoPushesInQuickSuccession(t *testing.T) {
	f := newFixture(t, cluster.Get(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := f.rec.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	go f.rec.Run(ctx, reconciler.LoopOptions{Interval: time.Hour, DriftInterval: -1})
	lse := f.read("adapters/prod/lse-fix-primary.json")
	var heads []string
	for _, hb := range []string{"25", "15"} {
		f.git.Write("adapters/prod/lse-fix-primary.json", strings.Replace(lse, `"heartbeatSeconds": 30`, `"heartbeatSeconds": `+hb, 1))
		heads = append(heads, f.git.Commit("heartbeat "+hb))
		f.rec.Trigger()
	}
	waitFor(t, 60*time.Second, "the second push applied", func() (bool, string) {
		s := f.rec.Status().Snapshot()
		return s.Applied == heads[1], s.Applied
	})
	time.Sleep(time.Second) // a late pass over the first push would show now
	var applied []string
	for _, r := range f.mem.Records() {
		if r.Event == history.RevisionApplied && r.Outcome == history.Succeeded {
			applied = append(applied, r.Revision)
		}
	}
	if last := applied[len(applied)-1]; last != heads[1] {
		t.Errorf("revisions applied in order %v; the last is not the second push %s", applied, heads[1])
	}
	for i, rev := range applied {
		if rev == heads[0] && i > 0 && contains(applied[:i], heads[1]) {
			t.Errorf("the first push was applied after the second: %v", applied)
		}
	}
	cm, err := f.kube.CoreV1().ConfigMaps(f.prefix+"-prod").Get(ctx, "lse-fix-primary", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cm.Data["session.json"], `"heartbeatSeconds": 15`) && !strings.Contains(cm.Data["session.json"], `"heartbeatSeconds":15`) {
		t.Errorf("live session config does not hold the second push's heartbeat: %v", cm.Data)
	}
}

// TestTwoReplicas: two reconcilers share a Lease; only the holder applies,
// and the other takes over when it stops.
func TestTwoReplicas(t *testing.T) {
	cl := cluster.Get(t)
	f := newFixture(t, cl)
	mems := []*history.Memory{{}, {}}
	recs := []*reconciler.Reconciler{f.newReconciler(t.TempDir(), mems[0]), f.newReconciler(t.TempDir(), mems[1])}
	ctxs := make([]context.Context, 2)
	cancels := make([]context.CancelFunc, 2)
	var wg sync.WaitGroup
	lease := f.prefix + "-lease"
	for i := range recs {
		ctxs[i], cancels[i] = context.WithCancel(context.Background())
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = leader.Run(ctxs[i], leader.Options{Config: cl.RESTConfig(), Namespace: "default", Name: lease,
				Identity: fmt.Sprint("replica-", i), LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second,
				RetryPeriod: 500 * time.Millisecond,
				OnChange:    func(l bool) { recs[i].Status().Update(func(s *status.Snapshot) { s.Leader = l }) }},
				func(ctx context.Context) {
					_ = recs[i].Run(ctx, reconciler.LoopOptions{Interval: time.Hour, DriftInterval: -1})
				})
		}()
	}
	defer func() {
		cancels[0]()
		cancels[1]()
		wg.Wait()
	}()
	waitFor(t, 60*time.Second, "one replica applies the head", func() (bool, string) {
		a, b := recs[0].Status().Snapshot(), recs[1].Status().Snapshot()
		return a.Applied == f.git.Head() || b.Applied == f.git.Head(), a.Applied + " " + b.Applied
	})
	leaderIdx := 0
	if recs[1].Status().Snapshot().Leader {
		leaderIdx = 1
	}
	other := 1 - leaderIdx
	if n := len(mems[other].Records()); n != 0 || recs[other].Status().Snapshot().Leader {
		t.Fatalf("the standby replica recorded %d records or claims the lease", n)
	}
	if got := events(mems[leaderIdx].Records()); got[history.AdapterInstalled] != 16 {
		t.Errorf("the leader's records: %v", got)
	}
	// The leader stops: the standby takes over and finds nothing to do.
	cancels[leaderIdx]()
	waitFor(t, 30*time.Second, "the standby takes the lease", func() (bool, string) {
		s := recs[other].Status().Snapshot()
		return s.Leader && s.Applied == f.git.Head(), fmt.Sprintf("leader %v applied %s", s.Leader, s.Applied)
	})
	if got := events(mems[other].Records()); got[history.AdapterInstalled] != 0 || got[history.AdapterUpgraded] != 0 {
		t.Errorf("the new leader re-applied releases that had not changed: %v", got)
	}
}

func asWaiting(err error, w **reconciler.WaitingError) bool {
	return err != nil && errorsAs(err, w)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
