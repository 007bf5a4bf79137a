package reconciler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"

	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/helm"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/internal/validate"
	"github.com/cairn-gitops/cairn/render"
)

// Options configure a Reconciler. Source and Applier are required.
type Options struct {
	Source  Source
	Applier Applier
	// Recorder receives the audit records; nil logs them.
	Recorder history.Recorder
	// Status is where the reconciler reports; nil makes a new store.
	Status *status.Store
	// Validator checks revisions; nil makes one.
	Validator *validate.Validator
	// Clock tells the time; nil is the real clock.
	Clock  clock.Clock
	Logger *slog.Logger
	// Workers is how many releases are applied at once (default 8).
	Workers int
	// Actor names the reconciler in audit records (default
	// "cairn-reconciler@<hostname>").
	Actor string
	// Instance is the value of the cairn.dev/instance label on the releases
	// this reconciler manages (default "cairn"); releases of another
	// instance are never touched.
	Instance string
	// LastApplied is the revision applied before this process started (from
	// the audit store): the first pass lists the commits since it, and
	// records a rewritten history if the branch no longer contains it.
	// Empty lists only the head's commit.
	LastApplied string
	// WaitRetry is how soon a waiting revision (a missing Secret) is tried
	// again (default 30s).
	WaitRetry time.Duration
	// Audit reads the audit store back, for the records a killed
	// predecessor did not write (see catchUp); nil skips that.
	Audit AuditLookup
	// OnApplied, when set, is called with each revision that applies in
	// full and differs from the one before (the first of a process too):
	// what reloads with a revision (the security configuration's audit
	// settings, access rules) hooks in here. It runs in the reconcile and
	// must not block.
	OnApplied func(ctx context.Context, revision string, res *validate.Result)
	// Observer counts passes (metrics); nil counts nothing.
	Observer Observer
	// Gate judges each revision against its change policy before anything
	// applies; nil applies what reaches the branch (no GitHub configured).
	Gate Gate
}

// Observer hears how each pass over a revision ended (not the passes that
// find nothing to do) and when a revision applied.
type Observer interface {
	ReconcileDone(phase string, d time.Duration)
	AppliedRevisionTimestamp(t time.Time)
}

// Reconciler applies revisions of one branch. Reconcile is safe to call
// from several goroutines; calls run one at a time.
type Reconciler struct {
	opts   Options
	status *status.Store
	rec    history.Recorder
	log    *slog.Logger

	mu sync.Mutex // one reconcile (or drift check) at a time; guards below
	// deployed is what the cluster holds, by adapter key; loaded once from
	// Helm's storage, then kept up to date from what Apply returns.
	deployed map[string]deployedRelease
	loaded   bool
	// applied is the last revision applied in full.
	applied *revision
	// base is Options.LastApplied loaded, for the records of the first
	// pass; baseTried says it was tried. caughtUp says catchUp ran.
	base                           *revision
	baseTried, caughtUp, announced bool
	// rendered caches the validation and render of the last head tried.
	rendered *revision
	// pending counts adapters of the last attempt that did not apply.
	pending int
	// noted is the last verdict recorded, by kind, so that a pass that
	// repeats it records nothing new.
	noted    map[string]string
	triggers chan struct{}
	// embedded is the renderer of the embedded chart, loaded once.
	embedded *render.Renderer
	// releases are the last pass's rendered releases, by key, for readers
	// that must not wait for a reconcile (the API).
	releases atomic.Pointer[map[string]render.Release]
}

// deployedRelease is a release as the cluster holds it.
type deployedRelease struct {
	helm.Deployed
	// digest is cairn's full digest when this process applied it; empty
	// when only the label (a shortened digest) is known.
	digest string
}

// revision is a validated and rendered commit.
type revision struct {
	commit   gitsource.Commit
	result   *validate.Result
	releases []render.Release
	renderer *render.Renderer
	// stalled is the error that stops this revision for good, if any;
	// verdict is the error a pass reported for it, with its phase.
	stalled, verdict error
}

// New returns a reconciler.
func New(opts Options) (*Reconciler, error) {
	if opts.Source == nil || opts.Applier == nil {
		return nil, errors.New("reconciler: Source and Applier are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Recorder == nil {
		opts.Recorder = history.Log{Logger: opts.Logger}
	}
	if opts.Status == nil {
		opts.Status = status.NewStore("", "")
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Workers <= 0 {
		opts.Workers = max(8, 4*runtime.GOMAXPROCS(0))
	}
	if opts.Instance == "" {
		opts.Instance = "cairn"
	}
	if opts.WaitRetry <= 0 {
		opts.WaitRetry = 30 * time.Second
	}
	if opts.Actor == "" {
		host, _ := os.Hostname()
		opts.Actor = "cairn-reconciler@" + host
	}
	if opts.Validator == nil {
		v, err := validate.New(validate.Options{Now: opts.Clock.Now})
		if err != nil {
			return nil, fmt.Errorf("reconciler: %w", err)
		}
		opts.Validator = v
	}
	r := &Reconciler{opts: opts, status: opts.Status, rec: opts.Recorder, log: opts.Logger,
		deployed: map[string]deployedRelease{}, triggers: make(chan struct{}, 1)}
	if opts.LastApplied != "" { // its applied verdict is recorded: a restart does not repeat it
		r.noteOnce("revision", opts.LastApplied+"\x00"+string(status.Applied)+"\x00"+ReasonApplied)
	}
	return r, nil
}

// Status is the store the reconciler reports to.
func (r *Reconciler) Status() *status.Store { return r.status }

// Reconcile runs one pass over the branch head: fetch, load and validate,
// render, gate, apply. It returns nil when the head is applied in full (or
// was already), a *StalledError or *WaitingError as described in the
// package documentation, or another error for a failure worth retrying.
func (r *Reconciler) Reconcile(ctx context.Context) error {
	return r.reconcile(ctx, false)
}

// Force runs one pass that applies every release again, even those whose
// digest did not change (a manual sync).
func (r *Reconciler) Force(ctx context.Context) error {
	return r.reconcile(ctx, true)
}

// errUpToDate ends a pass early: the head is applied and nothing waits.
// errRepeated ends it with the verdict of the last pass over the same
// stalled revision.
var (
	errUpToDate = errors.New("up to date")
	errRepeated = errors.New("same stalled revision")
)

// phase is one named step of a reconcile.
type phase struct {
	name string
	run  func(context.Context, *pass) error
}

func (r *Reconciler) reconcile(ctx context.Context, force bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := &pass{started: r.opts.Clock.Now(), force: force}
	for _, ph := range []phase{{"fetch", r.fetch}, {"validate", r.validate}, {"render", r.render},
		{"gate", r.gate}, {"apply", r.apply}} {
		if err := ph.run(ctx, p); err != nil {
			switch {
			case errors.Is(err, errUpToDate):
				return nil
			case errors.Is(err, errRepeated):
				return r.finish(ctx, p, p.rev.verdict)
			}
			return r.finish(ctx, p, fmt.Errorf("%s: %w", ph.name, err))
		}
	}
	return r.finish(ctx, p, nil)
}
