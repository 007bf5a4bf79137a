package reconciler

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/health"
	"github.com/cairn-gitops/cairn/internal/helm"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/manifest"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/internal/validate"
	"github.com/cairn-gitops/cairn/render"
)

// fakeSource serves one directory as every revision; Head says which hash.
type fakeSource struct {
	dir  string
	head string
	err  error
	// commits answers Commits when set.
	commits func(from, to string) ([]gitsource.CommitInfo, error)
	// trees serves other directories for some hashes.
	trees map[string]string
}

func (f *fakeSource) Fetch(context.Context) (gitsource.Commit, error) {
	return gitsource.Commit{Hash: f.head, Message: "change " + f.head}, f.err
}
func (f *fakeSource) Tree(_ context.Context, hash string) (fs.FS, error) {
	if d, ok := f.trees[hash]; ok {
		return manifest.DirFS(d), nil
	}
	return manifest.DirFS(f.dir), nil
}
func (f *fakeSource) Commits(_ context.Context, from, to string) ([]gitsource.CommitInfo, error) {
	if f.commits != nil {
		return f.commits(from, to)
	}
	return nil, nil
}

// fakeApplier is an Applier of function fields; nil fields do nothing.
type fakeApplier struct {
	mu      sync.Mutex
	applied []string
	absent  map[string][]bool // the Absent flag of each Apply, by release
	list    []helm.Deployed
	apply   func(helm.Release) (helm.Outcome, error)
	missing map[string][]helm.MissingSecret
}

func (f *fakeApplier) List(context.Context) ([]helm.Deployed, error) { return f.list, nil }
func (f *fakeApplier) Apply(_ context.Context, r helm.Release) (helm.Outcome, error) {
	f.mu.Lock()
	f.applied = append(f.applied, r.Namespace+"/"+r.Name)
	if f.absent == nil {
		f.absent = map[string][]bool{}
	}
	f.absent[r.Name] = append(f.absent[r.Name], r.Absent)
	f.mu.Unlock()
	if f.apply != nil {
		return f.apply(r)
	}
	return helm.Outcome{Action: helm.Installed, Version: 1}, nil
}
func (f *fakeApplier) Uninstall(_ context.Context, ns, name string) (helm.Outcome, error) {
	return helm.Outcome{Action: helm.Uninstalled}, nil
}
func (f *fakeApplier) CheckSecrets(_ context.Context, ns string, refs []helm.SecretRef) ([]helm.MissingSecret, error) {
	var out []helm.MissingSecret
	for _, r := range refs {
		out = append(out, f.missing[ns+"/"+r.Name]...)
	}
	return out, nil
}
func (f *fakeApplier) Health(context.Context, []string) (map[string]health.Result, error) {
	return map[string]health.Result{}, nil
}
func (f *fakeApplier) Drift(context.Context, string, []render.Object) ([]helm.ObjectDrift, error) {
	return nil, nil
}

func newUnit(t *testing.T, app *fakeApplier) (*Reconciler, *fakeSource, *history.Memory) {
	t.Helper()
	src := &fakeSource{dir: "../examples/config-repo", head: strings.Repeat("a", 40)}
	mem := &history.Memory{}
	r, err := New(Options{Source: src, Applier: app, Recorder: mem})
	if err != nil {
		t.Fatal(err)
	}
	return r, src, mem
}

func TestWaitingAndFailedAdapters(t *testing.T) {
	app := &fakeApplier{missing: map[string][]helm.MissingSecret{
		"connectivity-prod/lse-fix-credentials": {{Name: "lse-fix-credentials", Reason: "Secret connectivity-prod/lse-fix-credentials not found"}}}}
	app.apply = func(r helm.Release) (helm.Outcome, error) {
		if r.Name == "tcp-marketdata-feed" {
			return helm.Outcome{Action: helm.Failed}, errors.New("the API server refused it")
		}
		return helm.Outcome{Action: helm.Installed, Version: 1}, nil
	}
	r, _, mem := newUnit(t, app)
	err := r.Reconcile(context.Background())
	var w *WaitingError
	if err == nil || errors.As(err, &w) || !strings.Contains(err.Error(), "prod/tcp-marketdata-feed") {
		t.Fatalf("a failure wins over a wait and names the adapter: %v", err)
	}
	snap := r.Status().Snapshot()
	if snap.Last.Phase != status.Failed || snap.Last.Installed != 14 || snap.Last.Failed != 1 || snap.Last.Waiting != 1 {
		t.Fatalf("counts: %+v", *snap.Last)
	}
	// The next pass applies only what did not apply.
	app.mu.Lock()
	app.applied, app.apply = nil, nil
	app.mu.Unlock()
	err = r.Reconcile(context.Background())
	if !errors.As(err, &w) || w.Reason != ReasonSecretMissing {
		t.Fatalf("second pass: want Waiting, got %v", err)
	}
	if strings.Join(app.applied, ",") != "connectivity-prod/tcp-marketdata-feed" {
		t.Errorf("second pass applied %v, want only the failed adapter", app.applied)
	}
	// A failed install may have left records: the retry must read them.
	if got := fmt.Sprint(app.absent["tcp-marketdata-feed"]); got != "[true false]" {
		t.Errorf("Absent flags of the failed adapter's two applies: %s, want [true false]", got)
	}
	if n := countEvents(mem.Records(), history.AdapterWaiting); n != 1 {
		t.Errorf("waiting recorded %d times over two passes, want once", n)
	}
}

func TestUnchangedDigestsAreSkipped(t *testing.T) {
	app := &fakeApplier{}
	r, src, _ := newUnit(t, app)
	if err := r.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	first := len(app.applied)
	src.head = strings.Repeat("b", 40) // a new commit that renders the same
	if err := r.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(app.applied) != first {
		t.Errorf("a revision that renders the same applied %d releases", len(app.applied)-first)
	}
	if err := r.Force(context.Background()); err != nil || len(app.applied) != 2*first {
		t.Errorf("Force applied %d releases (%v), want all %d", len(app.applied)-first, err, first)
	}
}

func TestDelay(t *testing.T) {
	r := &Reconciler{}
	opts := LoopOptions{Interval: time.Minute, MinBackoff: time.Second, MaxBackoff: 8 * time.Second}.withDefaults()
	failures := 0
	var got []time.Duration
	for range 6 {
		got = append(got, r.delay(errors.New("transient"), &failures, opts).Truncate(time.Second))
	}
	if fmt.Sprint(got) != "[1s 2s 4s 8s 8s 8s]" {
		t.Errorf("backoff: %v", got)
	}
	if d := r.delay(&WaitingError{RetryAfter: 5 * time.Second, Err: errors.New("w")}, &failures, opts); d != 5*time.Second || failures != 0 {
		t.Errorf("waiting: %s (failures %d)", d, failures)
	}
	if d := r.delay(&StalledError{Err: errors.New("s")}, &failures, opts); d < time.Minute || d > 66*time.Second {
		t.Errorf("stalled waits for the next poll: %s", d)
	}
}

func countEvents(recs []history.Record, ev history.Event) int {
	n := 0
	for _, r := range recs {
		if r.Event == ev {
			n++
		}
	}
	return n
}

// TestLastAppliedUnknown: the revision applied before a restart is in no
// fetched history (the branch was rewritten): the first pass records the
// rewrite and names the previous revision.
func TestLastAppliedUnknown(t *testing.T) {
	src := &fakeSource{dir: "../examples/config-repo", head: strings.Repeat("a", 40)}
	src.commits = func(from, to string) ([]gitsource.CommitInfo, error) {
		if from != "" {
			return nil, &gitsource.RevisionError{Rev: from, Err: gitsource.ErrNotFound}
		}
		return []gitsource.CommitInfo{{Commit: gitsource.Commit{Hash: to}}}, nil
	}
	mem := &history.Memory{}
	old := strings.Repeat("f", 40)
	r, err := New(Options{Source: src, Applier: &fakeApplier{}, Recorder: mem, LastApplied: old})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := mem.Records()
	if countEvents(recs, history.HistoryRewritten) != 1 {
		t.Errorf("no rewritten-history record: %v", recs)
	}
	for _, rec := range recs {
		if rec.Event == history.RevisionApplied && (rec.Previous != old || len(rec.Commits) != 1) {
			t.Errorf("revision record: previous %q, %d commits", rec.Previous, len(rec.Commits))
		}
	}
}

// TestOnApplied: the hook hears each newly applied revision once, with its
// security configuration, and not a failed or repeated one.
func TestOnApplied(t *testing.T) {
	app := &fakeApplier{}
	src := &fakeSource{dir: "../examples/config-repo", head: strings.Repeat("a", 40)}
	var heard []string
	r, err := New(Options{Source: src, Applier: app, Recorder: &history.Memory{},
		OnApplied: func(_ context.Context, rev string, res *validate.Result) {
			if res == nil || res.Security == nil || res.Security.Spec.Audit == nil {
				t.Errorf("OnApplied(%s) without the security configuration", rev[:4])
			}
			heard = append(heard, rev[:4])
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, head := range []string{"a", "a", "b"} {
		src.head = strings.Repeat(head, 40)
		if err := r.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
	}
	app.apply = func(helm.Release) (helm.Outcome, error) {
		return helm.Outcome{Action: helm.Failed}, errors.New("refused")
	}
	src.dir, src.head = t.TempDir(), strings.Repeat("c", 40) // renders nothing: refused
	if err := r.Reconcile(ctx); err == nil {
		t.Fatal("an empty revision applied")
	}
	if fmt.Sprint(heard) != "[aaaa bbbb]" {
		t.Errorf("OnApplied heard %v, want [aaaa bbbb]", heard)
	}
}

// TestRenderedAndManifestFields: after a pass, the API can read each
// adapter's rendered release, and the status carries the manifest's
// protocol, role and labels.
func TestRenderedAndManifestFields(t *testing.T) {
	r, _, _ := newUnit(t, &fakeApplier{})
	if _, ok := r.Rendered("prod/lse-fix-primary"); ok {
		t.Fatal("Rendered before any pass")
	}
	if err := r.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	rel, ok := r.Rendered("prod/lse-fix-primary")
	if !ok || len(rel.Objects) == 0 || rel.Namespace != "connectivity-prod" {
		t.Fatalf("Rendered(prod/lse-fix-primary) = %v, %d objects, namespace %q", ok, len(rel.Objects), rel.Namespace)
	}
	snap := r.Status().Snapshot()
	a, ok := snap.Adapter("prod/lse-fix-primary")
	if !ok || a.Protocol != "fix" || a.Role != "initiator" || len(a.Labels) == 0 {
		t.Errorf("status of prod/lse-fix-primary: protocol %q, role %q, labels %v", a.Protocol, a.Role, a.Labels)
	}
}

// TestOnAppliedBaseline: a process whose first pass does not apply (the
// head is invalid) announces the revision the store last recorded as
// applied, so that its access rules are in force.
func TestOnAppliedBaseline(t *testing.T) {
	old := strings.Repeat("e", 40)
	src := &fakeSource{dir: t.TempDir(), head: strings.Repeat("f", 40), trees: map[string]string{old: "../examples/config-repo"}}
	var heard []string
	r, err := New(Options{Source: src, Applier: &fakeApplier{}, Recorder: &history.Memory{}, LastApplied: old,
		OnApplied: func(_ context.Context, rev string, res *validate.Result) {
			if res == nil || res.Security == nil {
				t.Errorf("OnApplied(%s) without the security configuration", rev[:4])
			}
			heard = append(heard, rev[:4])
		}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := r.Reconcile(context.Background()); err == nil {
			t.Fatal("an invalid head applied")
		}
	}
	if fmt.Sprint(heard) != "[eeee]" {
		t.Errorf("OnApplied heard %v, want the last applied revision once", heard)
	}
}

// fakeGate answers with verdict and counts its calls.
type fakeGate struct {
	calls   int
	verdict GateVerdict
	err     error
	last    GateRequest
}

func (g *fakeGate) Judge(_ context.Context, r GateRequest) (GateVerdict, error) {
	g.calls++
	g.last = r
	return g.verdict, g.err
}

// TestApprovalGate: a revision the gate refuses applies nothing, says why
// and is recorded as refused once, though judged on every pass; once
// allowed it applies and its records carry the pull request, approvers and
// merger; a closed window waits; GitHub unreachable waits.
func TestApprovalGate(t *testing.T) {
	app := &fakeApplier{}
	head := strings.Repeat("c", 40)
	src := &fakeSource{dir: "../examples/config-repo", head: head, commits: func(from, to string) ([]gitsource.CommitInfo, error) {
		return []gitsource.CommitInfo{{Commit: gitsource.Commit{Hash: to, Message: "raise the heartbeat"}}}, nil
	}}
	gate := &fakeGate{verdict: GateVerdict{Missing: []string{"pull request #12 needs 2 approvals on its final commit; it has 1 (alice)"}}}
	mem := &history.Memory{}
	r, err := New(Options{Source: src, Applier: app, Recorder: mem, Gate: gate, LastApplied: strings.Repeat("b", 40)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 2 {
		var st *StalledError
		if err := r.Reconcile(ctx); !errors.As(err, &st) || st.Reason != ReasonApprovalMissing || !strings.Contains(err.Error(), "#12 needs 2 approvals") {
			t.Fatalf("a refused revision: %v", err)
		}
	}
	if len(app.applied) != 0 || gate.calls != 2 {
		t.Fatalf("refused: %d releases applied, gate asked %d times; want 0 and 2", len(app.applied), gate.calls)
	}
	if snap := r.Status().Snapshot(); snap.Last.Phase != status.Stalled || snap.Last.Reason != ReasonApprovalMissing {
		t.Errorf("status after a refusal: %+v", *snap.Last)
	}
	if n := countEvents(mem.Records(), history.RevisionRefused); n != 1 {
		t.Errorf("refusal recorded %d times over two passes, want once", n)
	}
	// The fake serves one tree for every commit: the plan against the last
	// applied revision changes nothing.
	if gate.last.Risk != "none" || len(gate.last.Environments) != 0 || gate.last.Policy == nil || len(gate.last.Commits) != 1 {
		t.Errorf("the gate was asked %+v; want risk none, no environment, the policy and one commit", gate.last)
	}
	gate.verdict = GateVerdict{WaitUntil: time.Now().Add(time.Hour), Wait: "prod's change window opens at 17:30"}
	var w *WaitingError
	if err := r.Reconcile(ctx); !errors.As(err, &w) || w.Reason != ReasonChangeWindow || w.RetryAfter < 59*time.Minute {
		t.Fatalf("a closed window: %v", err)
	}
	gate.err = errors.New("api.github.com: connection refused")
	if err := r.Reconcile(ctx); !errors.As(err, &w) || w.Reason != ReasonGateUnavailable {
		t.Fatalf("GitHub unreachable: %v", err)
	}
	gate.err = nil
	gate.verdict = GateVerdict{Allowed: true, Approvals: map[string]Approval{head: {PullRequest: 12, Approvers: []string{"bob", "carol"}, Merger: "dave"}}}
	if err := r.Reconcile(ctx); err != nil {
		t.Fatalf("an allowed revision: %v", err)
	}
	if len(app.applied) == 0 {
		t.Fatal("nothing applied once allowed")
	}
	for _, rec := range mem.Records() {
		if rec.Event != history.RevisionApplied || rec.Outcome != history.Succeeded {
			continue
		}
		if len(rec.Commits) != 1 || rec.Commits[0].PullRequest != 12 || fmt.Sprint(rec.Commits[0].Approvers) != "[bob carol]" || rec.Commits[0].Merger != "dave" {
			t.Errorf("the applied revision's record: %+v", rec.Commits)
		}
		return
	}
	t.Error("no revision.applied record")
}
