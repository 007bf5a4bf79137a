package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cairn-gitops/cairn/internal/gittest"
	"github.com/cairn-gitops/cairn/internal/history"
)

// killTrials is how many times TestKilledMidApply kills cairn.
const killTrials = 30

// TestKilledMidApply kills `cairn reconcile --once` with SIGKILL at a random
// moment while it applies a revision, 30 times, each time on a new commit
// (a Jsonnet library change that moves six adapters, heartbeat changes in
// JSON files, an adapter deleted or restored), then runs it again. After
// each restart cairn converges; at the end the chain verifies, every Helm
// version that deployed is recorded exactly once (by the killed run or,
// marked as recovered, by the next), no revision is recorded as applied
// twice, and every change record names the commit that made the change and
// its field-level changes, the library's commit for the adapters built from
// the library.
func TestKilledMidApply(t *testing.T) {
	cl := cluster.Get(t)
	p := uniquePrefix("kill")
	g, kube := clusterRepo(t, cl, p)
	state := t.TempDir()
	args := []string{"reconcile", "--once", "--repo", g.Path(), "--kubeconfig", cl.Kubeconfig(), "--state-dir", state, "--instance", p}
	first := cairn(t, args...)
	first.wantCode(t, 0)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	t.Logf("seed %d", seed)

	window := first.elapsed // a run's length, so kills land anywhere in it
	trials := map[string]trial{}
	for i := 1; i <= killTrials; i++ {
		tr := change(t, g, i)
		trials[tr.commit] = tr
		delay := time.Duration(rng.Int64N(int64(window) + 1))
		killed := killAfter(t, delay, args)
		r := cairn(t, args...)
		if r.code != 0 {
			t.Fatalf("trial %d (killed after %s, exited %v): the next run exits %d\n%s%s", i, delay, killed, r.code, r.stdout, r.stderr)
		}
		window = max(window, r.elapsed)
	}
	if r := cairn(t, "diff", "--kubeconfig", cl.Kubeconfig(), "--instance", p, g.Path()); r.code != 0 {
		t.Fatalf("diff after the trials: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := cairn(t, "history", "verify", "--state-dir", state); r.code != 0 {
		t.Fatalf("history verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	recs := exportRecords(t, state)
	checkOnce(t, recs, helmVersions(t, kube, p+"-uat", p+"-prod"))
	checkAttribution(t, recs, trials)
}

// trial is one commit of the test and the adapters it changes.
type trial struct {
	commit   string
	adapters []string // environment/name
	pointer  string   // a field every change record of it holds, "" for none
}

var heartbeat = regexp.MustCompile(`"heartbeatSeconds": [0-9]+`)

// change commits the i-th change.
func change(t *testing.T, g *gittest.Repo, i int) trial {
	t.Helper()
	switch i % 3 {
	case 0: // through the library: the six adapters of mtf-sessions.jsonnet
		lib := g.Read("lib/fix-session.libsonnet")
		g.Write("lib/fix-session.libsonnet", regexp.MustCompile(`heartbeatSeconds: [0-9]+`).
			ReplaceAllString(lib, fmt.Sprintf("heartbeatSeconds: %d", 10+i)))
		return trial{commit: g.Commit(fmt.Sprintf("Heartbeat %d s in the library", 10+i)), pointer: "/spec/fix/heartbeatSeconds"}
	case 1:
		var names []string
		for _, f := range []string{"prod/lse-fix-primary", "prod/eurex-fix-derivatives", "uat/lse-fix-primary", "prod/lse-fix-dropcopy"} {
			path := "adapters/" + f + ".json"
			g.Write(path, heartbeat.ReplaceAllString(g.Read(path), fmt.Sprintf(`"heartbeatSeconds": %d`, 10+i)))
			names = append(names, f)
		}
		return trial{commit: g.Commit(fmt.Sprintf("Heartbeat %d s on four sessions", 10+i)), adapters: names,
			pointer: "/spec/fix/heartbeatSeconds"}
	}
	const bridge = "adapters/uat/client-northwind-acceptor.json"
	if g.Exists(bridge) {
		g.Remove(bridge)
		return trial{commit: g.Commit("Retire the UAT Northwind acceptor")}
	}
	orig, err := os.ReadFile(filepath.Join("..", "..", "examples", "config-repo", filepath.FromSlash(bridge)))
	if err != nil {
		t.Fatal(err)
	}
	g.Write(bridge, string(orig))
	return trial{commit: g.Commit("Bring the UAT Northwind acceptor back"), adapters: []string{"uat/client-northwind-acceptor"}}
}

// killAfter starts args and kills the process with SIGKILL after delay,
// unless it exits first; it reports whether it was killed.
func killAfter(t *testing.T, delay time.Duration, args []string) bool {
	t.Helper()
	cmd := exec.Command(cairnBin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return false
	case <-time.After(delay):
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Logf("kill: %v", err)
		}
		<-done
		return true
	}
}

func exportRecords(t *testing.T, state string) []history.Stored {
	t.Helper()
	r := cairn(t, "history", "export", "--format", "ndjson", "--state-dir", state)
	if r.code != 0 {
		t.Fatalf("history export: exit %d\n%s", r.code, r.stderr)
	}
	var recs []history.Stored
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		st, err := history.DecodeCanonical(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, st)
	}
	return recs
}

// helmVersion is one Helm release record: a version that deployed.
type helmVersion struct {
	version  int
	status   string
	revision string // cairn.dev/revision
}

// helmVersions lists, per release ("namespace/name"), the Helm versions
// that deployed (deployed or superseded) that Helm still keeps.
func helmVersions(t *testing.T, kube kubernetes.Interface, namespaces ...string) map[string][]helmVersion {
	t.Helper()
	out := map[string][]helmVersion{}
	for _, ns := range namespaces {
		list, err := kube.CoreV1().Secrets(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list.Items {
			if st := s.Labels["status"]; st != "deployed" && st != "superseded" {
				continue
			}
			v, err := strconv.Atoi(s.Labels["version"])
			if err != nil {
				t.Fatalf("Helm record %s/%s: version %q", ns, s.Name, s.Labels["version"])
			}
			key := ns + "/" + s.Labels["name"]
			out[key] = append(out[key], helmVersion{v, s.Labels["status"], s.Labels["cairn.dev/revision"]})
		}
	}
	return out
}

// checkOnce: each revision's change of a release is recorded exactly once,
// whatever Helm versions it took (a run killed after Helm deployed a
// version but before its recorded it may leave that version behind one the
// next run makes with the same configuration), and every revision a
// deployed Helm version carries is recorded for that release; each
// revision is recorded as applied at most once.
func checkOnce(t *testing.T, recs []history.Stored, deployed map[string][]helmVersion) {
	t.Helper()
	// An uninstall deletes a release's Helm history: changes are counted
	// per life of a release.
	life := map[string]int{}
	seen := map[string]int64{}
	applied := map[string]int64{}
	recovered := 0
	for _, r := range recs {
		switch r.Event {
		case history.AdapterUninstall:
			life[r.Release]++
		case history.AdapterInstalled, history.AdapterUpgraded:
			key := fmt.Sprintf("%s#%d@%s", r.Release, life[r.Release], r.Revision)
			if prev, dup := seen[key]; dup {
				t.Errorf("%s recorded twice: records %d and %d\n%s", key, prev, r.Seq, recordsOf(recs, r.Release))
			}
			seen[key] = r.Seq
		case history.RevisionApplied:
			if r.Outcome != history.Succeeded {
				continue
			}
			if prev, dup := applied[r.Revision]; dup {
				t.Errorf("revision %s recorded as applied twice: records %d and %d", r.Revision[:12], prev, r.Seq)
			}
			applied[r.Revision] = r.Seq
		}
		if r.Note != "" {
			recovered++
		}
	}
	versions := 0
	for rel, vs := range deployed {
		for _, v := range vs {
			versions++
			if _, ok := seen[fmt.Sprintf("%s#%d@%s", rel, life[rel], v.revision)]; !ok {
				t.Errorf("%s version %d (%s, revision %.12s) is not in the audit trail; the release's records:\n%s",
					rel, v.version, v.status, v.revision, recordsOf(recs, rel))
			}
		}
	}
	t.Logf("%d records, %d Helm versions checked, %d recorded after a restart, %d revisions applied",
		len(recs), versions, recovered, len(applied))
}

// checkAttribution: every change record of a trial's revision names the
// trial's commit and, for field changes, the field; the library trials
// reach the six Jsonnet adapters.
func checkAttribution(t *testing.T, recs []history.Stored, trials map[string]trial) {
	t.Helper()
	viaLibrary := map[string]bool{}
	for _, r := range recs {
		tr, ok := trials[r.Revision]
		if !ok || (r.Event != history.AdapterUpgraded && r.Event != history.AdapterInstalled) {
			continue
		}
		key := r.Environment + "/" + r.Adapter
		if len(tr.adapters) > 0 && !slices.Contains(tr.adapters, key) {
			t.Errorf("record %d: %s changed by %q, which changes only %v", r.Seq, key, r.Revision[:12], tr.adapters)
		}
		if !slices.ContainsFunc(r.Commits, func(c history.Commit) bool { return c.Hash == tr.commit }) {
			t.Errorf("record %d (%s, %s): the commits %v do not include %s", r.Seq, key, r.Event, hashes(r.Commits), tr.commit[:12])
		}
		if tr.pointer != "" && !slices.ContainsFunc(r.Changes, func(c history.Change) bool { return c.Pointer == tr.pointer }) {
			t.Errorf("record %d (%s, note %q): changes %+v lack %s", r.Seq, key, r.Note, r.Changes, tr.pointer)
		}
		if tr.adapters == nil && tr.pointer != "" {
			viaLibrary[key] = true
		}
	}
	if len(viaLibrary) != 6 {
		t.Errorf("the library changes reached %d adapters (%v), want the 6 of mtf-sessions.jsonnet", len(viaLibrary), viaLibrary)
	}
}

// recordsOf lists the records of a release, a line each.
func recordsOf(recs []history.Stored, release string) string {
	var b strings.Builder
	for _, r := range recs {
		if r.Release == release {
			fmt.Fprintf(&b, "  %d %s %s v%d rev %.12s %s %s\n", r.Seq, r.Time.Format("15:04:05.000"), r.Event,
				r.HelmVersion, r.Revision, r.Outcome, r.Note)
		}
	}
	return b.String()
}

func hashes(cs []history.Commit) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Hash[:min(12, len(c.Hash))])
	}
	return out
}
