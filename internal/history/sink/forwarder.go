package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/history"
	"k8s.io/utils/clock"
)

// Options are what a Forwarder needs. Store and StateDir are required.
type Options struct {
	// Store is the audit store records are read from. When it is also a
	// history.CursorStore, the cursors are kept there, shared by every
	// replica.
	Store history.Store
	// StateDir holds the cursors' file (StateFile); created 0750 if needed.
	// With a store that keeps the cursors, the file is only read, for the
	// destinations the store has no cursor for.
	StateDir string
	// SecretDir holds the Secrets of http headers: the file
	// SecretDir/<secret name>/<key> is the value of header <key>.
	SecretDir string
	// Stdout is where a stdout destination writes; nil refuses one.
	Stdout io.Writer
	// Logger logs failures and recoveries; nil discards.
	Logger *slog.Logger
	// Client sends the POSTs; nil is a new client. Its redirect policy is
	// replaced: redirects are never followed.
	Client *http.Client
	// Clock tells the time and makes timers; nil is the real clock.
	Clock clock.WithTicker
	// PollInterval is how often the store is checked for new records
	// without a Notify; 0 is 1s.
	PollInterval time.Duration
	// BackoffMin and BackoffMax bound the wait between failed attempts;
	// 0 is 1s and 5m.
	BackoffMin, BackoffMax time.Duration
	// BatchSize is the most records read and POSTed at once; 0 is 100.
	BatchSize int
}

// env is what every destination shares.
type env struct {
	store      history.Store
	cursors    *cursors
	log        *slog.Logger
	clock      clock.WithTicker
	stdout     io.Writer
	client     *http.Client
	secretDir  string
	poll       time.Duration
	backoffMin time.Duration
	backoffMax time.Duration
	batch      int
}

// Forwarder copies the records of a history.Store to the configured
// destinations. Make one with New, give it destinations with Configure, and
// call Run; the methods are safe for concurrent use.
type Forwarder struct {
	env *env
	// notify holds one pending Notify.
	notify chan struct{}
	// newest is the newest Seq seen in the store.
	newest atomic.Int64

	// confMu serialises Configure, and Run's start and end.
	confMu sync.Mutex
	// runCtx is Run's context while Run runs, nil otherwise. It is kept
	// so that destinations added by Configure run under it.
	runCtx context.Context

	// mu guards workers, which is written with confMu held too.
	mu      sync.Mutex
	workers map[string]*worker
}

// ErrRunning is returned by Run when the Forwarder already runs.
var ErrRunning = errors.New("audit forwarder already running")

// New makes a Forwarder with no destinations, reading the cursors saved in
// opts.StateDir. When opts.Store is a history.CursorStore, the cursors are
// read from it (by Configure, and by each destination as it starts) and
// saved to it, and the state file only fills in those it lacks.
func New(opts Options) (*Forwarder, error) {
	if opts.Store == nil {
		return nil, errors.New("audit forwarder: no store")
	}
	if opts.StateDir == "" {
		return nil, errors.New("audit forwarder: no state folder")
	}
	shared, _ := opts.Store.(history.CursorStore)
	c, err := loadCursors(opts.StateDir, shared)
	if err != nil {
		return nil, fmt.Errorf("audit forwarder: %w", err)
	}
	return &Forwarder{env: newEnv(opts, c), notify: make(chan struct{}, 1), workers: map[string]*worker{}}, nil
}

// newEnv fills in the defaults.
func newEnv(opts Options, c *cursors) *env {
	e := &env{store: opts.Store, cursors: c, log: opts.Logger, clock: opts.Clock, stdout: opts.Stdout,
		secretDir: opts.SecretDir, poll: opts.PollInterval, backoffMin: opts.BackoffMin,
		backoffMax: opts.BackoffMax, batch: opts.BatchSize}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.clock == nil {
		e.clock = clock.RealClock{}
	}
	e.client = &http.Client{}
	if opts.Client != nil {
		cl := *opts.Client
		e.client = &cl
	}
	e.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	e.poll = orDefault(e.poll, time.Second)
	e.backoffMin = orDefault(e.backoffMin, time.Second)
	e.backoffMax = max(orDefault(e.backoffMax, 5*time.Minute), e.backoffMin)
	if e.batch <= 0 {
		e.batch = 100
	}
	return e
}

// orDefault returns d, or def when d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Notify tells the Forwarder the store has new records. It never blocks;
// calls that arrive while one is pending are coalesced into it.
func (f *Forwarder) Notify() {
	select {
	case f.notify <- struct{}{}:
	default:
	}
}

// Configure replaces the destinations with dests (the applied revision's
// audit.destinations). A destination kept with the same configuration
// carries on; one whose configuration changed restarts from its cursor; a
// new one starts after the newest record in the store (unless the store's
// cursors or the state file have a cursor for it); one left out is stopped
// and its file closed. If a destination is invalid, or the shared cursors
// cannot be read when one is new to this process, the error says so and
// nothing changes.
func (f *Forwarder) Configure(ctx context.Context, dests []v1alpha1.AuditDestination) error {
	parsed, err := f.env.parseDestinations(dests)
	if err != nil {
		return err
	}
	f.confMu.Lock()
	defer f.confMu.Unlock()
	if err := f.beginNew(ctx, parsed); err != nil {
		return err
	}
	next, added, stale := f.plan(parsed)
	f.stopAll(ctx, stale)
	for _, w := range added {
		seq, _ := f.env.cursors.get(w.name) // read after the worker it replaces stopped
		w.cursor.Store(seq)
	}
	f.mu.Lock()
	f.workers = next
	f.mu.Unlock()
	if f.runCtx != nil {
		for _, w := range next {
			w.start(f.runCtx)
		}
	}
	return nil
}

// beginNew gives the destinations that have no cursor yet the newest Seq
// in the store. A destination this process has no cursor for is looked up
// in the shared cursors first (another replica may have delivered to it).
// Called with confMu held.
func (f *Forwarder) beginNew(ctx context.Context, parsed []*destination) error {
	fresh := f.uncursored(parsed)
	if len(fresh) == 0 {
		return nil
	}
	if err := f.env.cursors.refresh(ctx); err != nil {
		return fmt.Errorf("audit destinations: %w", err)
	}
	if fresh = f.uncursored(parsed); len(fresh) == 0 {
		return nil
	}
	newest, err := f.refreshNewest(ctx)
	if err != nil {
		return err
	}
	if err := f.env.cursors.begin(ctx, fresh, newest); err != nil {
		return fmt.Errorf("audit destinations: %w", err)
	}
	return nil
}

// uncursored returns the names of the destinations of parsed that have no
// cursor in memory.
func (f *Forwarder) uncursored(parsed []*destination) []string {
	var out []string
	for _, d := range parsed {
		if _, ok := f.env.cursors.get(d.name); !ok {
			out = append(out, d.name)
		}
	}
	return out
}

// plan makes the next set of workers: the current ones whose configuration
// is unchanged, and new ones (added, not started) for the others; stale are
// the current ones to stop. Called with confMu held.
func (f *Forwarder) plan(parsed []*destination) (next map[string]*worker, added, stale []*worker) {
	next = make(map[string]*worker, len(parsed))
	for _, d := range parsed {
		if old, ok := f.workers[d.name]; ok && old.config == d.config {
			next[d.name] = old
			continue
		}
		w := newWorker(d, f.env, 0)
		next[d.name] = w
		added = append(added, w)
	}
	for name, old := range f.workers {
		if next[name] != old {
			stale = append(stale, old)
		}
	}
	return next, added, stale
}

// Run delivers records until ctx ends, each destination in its own
// goroutine, checking the store on each Notify and every PollInterval. On
// return every destination has stopped and its file is closed. It returns
// ctx's error, or ErrRunning if Run is already running.
func (f *Forwarder) Run(ctx context.Context) error {
	if err := f.begin(ctx); err != nil {
		return err
	}
	defer f.end(ctx)
	ticker := f.env.clock.NewTicker(f.env.poll)
	defer ticker.Stop()
	failing := false
	for {
		f.wakeBehind(ctx, &failing)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.notify:
		case <-ticker.C():
		}
	}
}

// begin starts the configured destinations under ctx.
func (f *Forwarder) begin(ctx context.Context) error {
	f.confMu.Lock()
	defer f.confMu.Unlock()
	if f.runCtx != nil {
		return ErrRunning
	}
	f.runCtx = ctx
	for _, w := range f.workers {
		w.start(ctx)
	}
	return nil
}

// end stops every destination.
func (f *Forwarder) end(ctx context.Context) {
	f.confMu.Lock()
	defer f.confMu.Unlock()
	f.runCtx = nil
	f.stopAll(ctx, slices.Collect(maps.Values(f.workers)))
}

// stopAll stops workers, logging a file that does not close.
func (f *Forwarder) stopAll(ctx context.Context, workers []*worker) {
	for _, w := range workers {
		if err := w.stop(); err != nil {
			f.env.log.WarnContext(ctx, "audit destination stopped", "destination", w.name, "error", err.Error())
		}
	}
}

// wakeBehind reads the newest Seq and pokes the destinations behind it. A
// failure to read is logged once per streak.
func (f *Forwarder) wakeBehind(ctx context.Context, failing *bool) {
	newest, err := f.refreshNewest(ctx)
	if err != nil {
		if !*failing && ctx.Err() == nil {
			f.env.log.WarnContext(ctx, "audit forwarder cannot read the store", "error", err.Error())
		}
		*failing = true
		return
	}
	*failing = false
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, w := range f.workers {
		if w.cursor.Load() < newest {
			w.poke()
		}
	}
}

// refreshNewest reads the newest Seq in the store (0 when empty) and
// remembers it for Stats.
func (f *Forwarder) refreshNewest(ctx context.Context) (int64, error) {
	recs, err := f.env.store.List(ctx, history.Filter{Limit: 1})
	if err != nil {
		return 0, fmt.Errorf("reading the newest audit record: %w", err)
	}
	var newest int64
	if len(recs) > 0 {
		newest = recs[0].Seq
	}
	for {
		old := f.newest.Load()
		if newest <= old || f.newest.CompareAndSwap(old, newest) {
			return max(old, newest), nil
		}
	}
}

// Stats returns what each destination has done, sorted by name. Lag is
// measured against the newest record the Forwarder has seen (it looks at
// least every PollInterval while Run runs).
func (f *Forwarder) Stats() []Stat {
	newest := f.newest.Load()
	f.mu.Lock()
	out := make([]Stat, 0, len(f.workers))
	for _, w := range f.workers {
		out = append(out, w.snapshot(newest))
	}
	f.mu.Unlock()
	slices.SortFunc(out, func(a, b Stat) int { return strings.Compare(a.Name, b.Name) })
	return out
}
