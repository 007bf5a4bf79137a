package helm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/release"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairn-gitops/cairn/internal/health"
)

// TestInstallUpgradeUninstall follows two adapters through their life:
// install, Available and Healthy, listed with their digests, an upgrade of
// one only, uninstall.
func TestInstallUpgradeUninstall(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	ns := namespace("life")
	primary := adapter(t, "prod/lse-fix-primary", ns)
	dropcopy := adapter(t, "prod/lse-fix-dropcopy", ns)
	for _, r := range []Release{primary, dropcopy} {
		out, err := e.c.Apply(ctx, r)
		if err != nil {
			t.Fatalf("install %s: %v", r.Name, err)
		}
		if out.Action != Installed || out.Version != 1 || out.Previous != 0 || out.Duration <= 0 {
			t.Errorf("install %s: outcome %+v", r.Name, out)
		}
	}

	waitFor(t, 90*time.Second, "both adapters Healthy", func() (bool, string) {
		h, err := e.c.Health(ctx, []string{ns})
		if err != nil {
			return false, err.Error()
		}
		p, d := h[primary.Key()], h[dropcopy.Key()]
		return p.Status == health.Healthy && d.Status == health.Healthy, fmt.Sprintf("%+v %+v", p, d)
	})

	listed := listedByKey(t, e.c)
	for _, r := range []Release{primary, dropcopy} {
		d, ok := listed[r.Key()]
		if !ok {
			t.Fatalf("List lacks %s", r.Key())
		}
		if d.Version != 1 || d.Status != "deployed" || !DigestMatches(d, r.Digest) || d.Labels["cairn.dev/environment"] != "prod" {
			t.Errorf("List: %s = %+v", r.Key(), d)
		}
	}

	// Upgrade one adapter with other values: a new revision of it only.
	changed := primary
	changed.Values = cloneValues(primary.Values)
	changed.Values["replicas"] = 2
	changed.Digest = "sha256:" + "ab12" + primary.Digest[11:]
	out, err := e.c.Apply(ctx, changed)
	if err != nil {
		t.Fatal(err)
	}
	if out.Action != Upgraded || out.Version != 2 || out.Previous != 1 {
		t.Errorf("upgrade: outcome %+v", out)
	}
	listed = listedByKey(t, e.c)
	if d := listed[primary.Key()]; d.Version != 2 || !DigestMatches(d, changed.Digest) || DigestMatches(d, primary.Digest) {
		t.Errorf("after the upgrade, List says %+v", d)
	}
	if d := listed[dropcopy.Key()]; d.Version != 1 {
		t.Errorf("the other release changed: %+v", d)
	}
	dep, err := e.kube.AppsV1().Deployments(ns).Get(ctx, primary.Name, metav1.GetOptions{})
	if err != nil || *dep.Spec.Replicas != 2 {
		t.Fatalf("upgraded Deployment: %v %v", err, dep.Spec.Replicas)
	}

	// Uninstall removes the objects and the records; again is unchanged.
	out, err = e.c.Uninstall(ctx, ns, primary.Name)
	if err != nil || out.Action != Uninstalled || out.Previous != 2 {
		t.Fatalf("uninstall: %+v %v", out, err)
	}
	for _, get := range []func() error{
		func() error {
			_, err := e.kube.CoreV1().ConfigMaps(ns).Get(ctx, primary.Name, metav1.GetOptions{})
			return err
		},
		func() error {
			_, err := e.kube.NetworkingV1().NetworkPolicies(ns).Get(ctx, primary.Name, metav1.GetOptions{})
			return err
		},
	} {
		if err := get(); !apierrors.IsNotFound(err) {
			t.Errorf("after uninstall, an object is still there: %v", err)
		}
	}
	waitFor(t, 30*time.Second, "Deployment deleted", func() (bool, string) {
		_, err := e.kube.AppsV1().Deployments(ns).Get(ctx, primary.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	if _, ok := listedByKey(t, e.c)[primary.Key()]; ok {
		t.Error("List still has the uninstalled release")
	}
	if out, err := e.c.Uninstall(ctx, ns, primary.Name); err != nil || out.Action != Unchanged {
		t.Errorf("uninstall of an absent release: %+v %v", out, err)
	}
	h, err := e.c.Health(ctx, []string{ns})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h[primary.Key()]; ok || h[dropcopy.Key()].Status != health.Healthy {
		t.Errorf("Health after uninstall: %+v", h)
	}
}

// TestHealthMissing checks that a release whose Deployment was deleted (and
// not yet restored) is Missing.
func TestHealthMissing(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	ns := namespace("missing")
	r := adapter(t, "prod/tcp-marketdata-feed", ns)
	if _, err := e.c.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := e.kube.AppsV1().Deployments(ns).Delete(ctx, r.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h, err := e.c.Health(ctx, []string{ns})
	if err != nil {
		t.Fatal(err)
	}
	if got := h[r.Key()]; got.Status != health.Missing || got.Message != "Deployment "+r.Name+": no Deployment found" {
		t.Errorf("Health = %+v, want Missing naming the Deployment", got)
	}
}

func listedByKey(t testing.TB, c *Client) map[string]Deployed {
	t.Helper()
	list, err := c.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Deployed{}
	for _, d := range list {
		out[d.Key()] = d
	}
	return out
}

func cloneValues(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		out[k] = x
	}
	return out
}

// TestFailedUpgradeRollsBack makes the API server refuse an object of an
// upgrade (an invalid label value) after another object was changed: the
// release is rolled back to the deployed revision and the error is typed.
func TestFailedUpgradeRollsBack(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	ns := namespace("rollback")
	good := probe(t, "probe", ns, "one", "ok")
	if out, err := e.c.Apply(ctx, good); err != nil || out.Action != Installed {
		t.Fatalf("install: %+v %v", out, err)
	}
	bad := probe(t, "probe", ns, "two", "not a label value!")
	out, err := e.c.Apply(ctx, bad)
	var uerr *UpgradeError
	if !errors.As(err, &uerr) {
		t.Fatalf("failed upgrade: got %v, want *UpgradeError", err)
	}
	if uerr.RolledBackTo != 1 || uerr.Release != ns+"/probe" || uerr.Cause == nil || !containsAll(uerr.Cause.Error(), "probe-b", "Invalid value") {
		t.Errorf("UpgradeError = %+v (%v)", uerr, err)
	}
	if out.Action != RolledBack || out.Version != 3 || out.Previous != 1 {
		t.Errorf("outcome %+v, want rolled-back to a new revision 3 from 1", out)
	}
	if v := configMapValue(t, e.kube, ns, "probe-a"); v != "one" {
		t.Errorf("ConfigMap a holds %q after the rollback, want the deployed %q", v, "one")
	}
	d := listedByKey(t, e.c)[ns+"/probe"]
	if d.Version != 3 || d.Status != "deployed" || !DigestMatches(d, good.Digest) {
		t.Errorf("after the rollback, List says %+v, want revision 3 deployed with the good digest", d)
	}
	// The next good upgrade goes through.
	next := probe(t, "probe", ns, "three", "ok")
	if out, err := e.c.Apply(ctx, next); err != nil || out.Action != Upgraded || out.Previous != 3 {
		t.Fatalf("upgrade after the rollback: %+v %v", out, err)
	}
	if v := configMapValue(t, e.kube, ns, "probe-a"); v != "three" {
		t.Errorf("ConfigMap a = %q, want three", v)
	}
}

// TestFailedInstallIsReplaced checks that an install the API server refuses
// is a typed error and that the next Apply installs over its record.
func TestFailedInstallIsReplaced(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	ns := namespace("failinstall")
	out, err := e.c.Apply(ctx, probe(t, "probe", ns, "one", "bad label!"))
	var ierr *InstallError
	if !errors.As(err, &ierr) || out.Action != Failed || out.Version != 1 {
		t.Fatalf("refused install: %+v %v, want Failed revision 1 and *InstallError", out, err)
	}
	out, err = e.c.Apply(ctx, probe(t, "probe", ns, "one", "ok"))
	if err != nil || out.Action != Installed || out.Version != 2 {
		t.Fatalf("install over a failed one: %+v %v", out, err)
	}
	if v := configMapValue(t, e.kube, ns, "probe-a"); v != "one" {
		t.Errorf("ConfigMap a = %q", v)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// TestRecoverInterrupted leaves a release's records as an apply killed
// half-way leaves them, and checks that Apply converges.
func TestRecoverInterrupted(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	tests := []struct {
		name string
		// upgrades is how many upgrades follow the install before the
		// interruption.
		upgrades int
		status   release.Status
		// want is what the recovering Apply does, its revision and the
		// deployed revision it starts from.
		want              Action
		version, previous int
	}{
		{"pending-install", 0, release.StatusPendingInstall, Installed, 2, 0},
		{"pending-upgrade", 1, release.StatusPendingUpgrade, Upgraded, 4, 2},
		{"pending-rollback", 1, release.StatusPendingRollback, Upgraded, 4, 2},
		{"uninstalling", 0, release.StatusUninstalling, Installed, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := namespace("recover")
			values := []string{"one", "two", "three"}
			for i := 0; i <= tt.upgrades; i++ {
				if _, err := e.c.Apply(ctx, probe(t, "probe", ns, values[i], "ok")); err != nil {
					t.Fatal(err)
				}
			}
			interrupt(t, e.c, ns, "probe", tt.status)
			// The killed apply may also have left objects half-made.
			if err := e.kube.CoreV1().ConfigMaps(ns).Delete(ctx, "probe-b", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			out, err := e.c.Apply(ctx, probe(t, "probe", ns, "final", "ok"))
			if err != nil {
				t.Fatalf("recovering apply: %v", err)
			}
			if out.Action != tt.want || out.Version != tt.version || out.Previous != tt.previous || out.Recovered != string(tt.status) {
				t.Errorf("outcome %+v, want %s revision %d from %d, recovered from %s", out, tt.want, tt.version, tt.previous, tt.status)
			}
			d := listedByKey(t, e.c)[ns+"/probe"]
			if d.Status != "deployed" || d.Version != tt.version {
				t.Errorf("List says %+v", d)
			}
			if v := configMapValue(t, e.kube, ns, "probe-a"); v != "final" {
				t.Errorf("ConfigMap a = %q, want final", v)
			}
			if _, err := e.kube.CoreV1().ConfigMaps(ns).Get(ctx, "probe-b", metav1.GetOptions{}); err != nil {
				t.Errorf("ConfigMap b not recreated: %v", err)
			}
		})
	}
}

// interrupt leaves a release's records as Helm leaves them when its process
// dies during an action that would have written status: an install or
// uninstall rewrites the latest record, an upgrade or rollback adds a
// pending revision after the deployed one.
func interrupt(t testing.TB, c *Client, ns, name string, st release.Status) {
	t.Helper()
	cfg, err := c.configuration(context.Background(), ns)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := cfg.Releases.Last(name)
	if err != nil {
		t.Fatal(err)
	}
	rel.SetStatus(st, "simulated interruption")
	if st == release.StatusPendingUpgrade || st == release.StatusPendingRollback {
		rel.Version++
		err = cfg.Releases.Create(rel)
	} else {
		err = cfg.Releases.Update(rel)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestCancelledInstallConverges cancels installs at various points and
// checks that the next Apply, right away, converges: it waits for the
// cancelled one, which goes on in the background.
func TestCancelledInstallConverges(t *testing.T) {
	e := newEnv(t, Options{})
	ns := namespace("cancel")
	for i, after := range []time.Duration{time.Millisecond, 20 * time.Millisecond, 60 * time.Millisecond} {
		r := adapter(t, "prod/lse-fix-primary", ns)
		r.Name = fmt.Sprintf("cancelled-%d", i)
		ctx, cancel := context.WithTimeout(context.Background(), after)
		_, _ = e.c.Apply(ctx, r) // may fail or not, depending on where it was cut
		cancel()
		out, err := e.c.Apply(context.Background(), r)
		if err != nil {
			t.Fatalf("apply after a cancelled one (%s): %v", after, err)
		}
		d := listedByKey(t, e.c)[r.Key()]
		if d.Status != "deployed" || d.Version != out.Version {
			t.Errorf("after %s: outcome %+v, List %+v", after, out, d)
		}
		if _, err := e.kube.AppsV1().Deployments(ns).Get(context.Background(), r.Name, metav1.GetOptions{}); err != nil {
			t.Errorf("after %s: %v", after, err)
		}
	}
}

// TestConcurrentApply installs 20 adapters at once (run it with -race) and
// then upgrades them at once.
func TestConcurrentApply(t *testing.T) {
	e := newEnv(t, Options{})
	// Not client-bluefin-acceptor: its fixed node port can be allocated
	// once in the cluster.
	keys := []string{"prod/lse-fix-primary", "prod/lse-fix-dropcopy", "prod/eurex-fix-derivatives",
		"prod/client-northwind-acceptor", "prod/kafka-orders-bridge"}
	nss := []string{namespace("conc"), namespace("conc")}
	var releases []Release
	for i := range 20 {
		r := adapter(t, keys[i%len(keys)], nss[i%2])
		r.Name = fmt.Sprintf("%s-%d", r.Name, i)
		releases = append(releases, r)
	}
	for round, want := range []Action{Installed, Upgraded} {
		var wg sync.WaitGroup
		outs := make([]Outcome, len(releases))
		errs := make([]error, len(releases))
		for i, r := range releases {
			wg.Add(1)
			go func() {
				defer wg.Done()
				outs[i], errs[i] = e.c.Apply(context.Background(), r)
			}()
		}
		wg.Wait()
		for i := range releases {
			if errs[i] != nil || outs[i].Action != want || outs[i].Version != round+1 {
				t.Errorf("round %d, %s: %+v %v", round, releases[i].Key(), outs[i], errs[i])
			}
		}
	}
	listed := listedByKey(t, e.c)
	for _, r := range releases {
		if d := listed[r.Key()]; d.Version != 2 || d.Status != "deployed" {
			t.Errorf("%s: %+v", r.Key(), d)
		}
	}
}

// TestSameReleaseConcurrently applies one release from several goroutines:
// the applies take turns, and each one succeeds.
func TestSameReleaseConcurrently(t *testing.T) {
	e := newEnv(t, Options{})
	ns := namespace("same")
	const n = 4
	var wg sync.WaitGroup
	outs := make([]Outcome, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = e.c.Apply(context.Background(), probe(t, "probe", ns, "one", "ok"))
		}()
	}
	wg.Wait()
	versions := map[int]bool{}
	installs := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("apply %d: %v", i, errs[i])
		}
		versions[outs[i].Version] = true
		if outs[i].Action == Installed {
			installs++
		}
	}
	if installs != 1 || len(versions) != n {
		t.Errorf("outcomes %+v: want one install and %d distinct revisions", outs, n)
	}
}

// TestAPIServerDown stops the API server: Apply fails within its timeout,
// and succeeds again once the server is back.
func TestAPIServerDown(t *testing.T) {
	e := newEnv(t, Options{Timeout: 10 * time.Second})
	ns := namespace("down")
	ctx := context.Background()
	if _, err := e.c.Apply(ctx, probe(t, "probe", ns, "one", "ok")); err != nil {
		t.Fatal(err)
	}
	if err := e.cluster.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			_ = e.cluster.StartAPIServer(ctx)
		}
	}()
	start := time.Now()
	out, err := e.c.Apply(ctx, probe(t, "probe", ns, "two", "ok"))
	if err == nil {
		t.Fatalf("Apply with the API server down succeeded: %+v", out)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("Apply took %s to fail, want within the 10s timeout", took)
	}
	t.Logf("with the API server down, Apply failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
	if err := e.cluster.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	restarted = true
	out, err = e.c.Apply(ctx, probe(t, "probe", ns, "two", "ok"))
	if err != nil || out.Action != Upgraded {
		t.Fatalf("Apply after the restart: %+v %v", out, err)
	}
	if v := configMapValue(t, e.kube, ns, "probe-a"); v != "two" {
		t.Errorf("ConfigMap a = %q", v)
	}
}
