package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-gitops/cairn/internal/history"
)

// Stat is what one destination has done since the Forwarder was made. It
// never holds a header value or a URL's userinfo.
type Stat struct {
	// Name is the destination's identity: "stdout", "file PATH" or
	// "http URL" (without userinfo).
	Name string `json:"name"`
	Type string `json:"type"`
	// Cursor is the Seq of the last record delivered; Lag how many records
	// the store holds after it.
	Cursor int64 `json:"cursor"`
	Lag    int64 `json:"lag"`
	// Delivered counts records delivered, a record sent again counting
	// again; Failures counts failed attempts, ConsecutiveFailures those
	// since the last success.
	Delivered           int64 `json:"delivered"`
	Failures            int64 `json:"failures"`
	ConsecutiveFailures int   `json:"consecutiveFailures"`
	// LastError is the last failure's message, kept after a success.
	LastError     string    `json:"lastError,omitempty"`
	LastErrorTime time.Time `json:"lastErrorTime,omitzero"`
}

// errBatchFull stops a Scan once a batch is full.
var errBatchFull = errors.New("batch full")

// worker delivers the records after its cursor to one destination, in its
// own goroutine.
type worker struct {
	*destination
	env    *env
	cursor atomic.Int64
	// wake holds one pending "the store has more records".
	wake chan struct{}
	// cancel and done are set while the goroutine runs; start and stop are
	// called with Forwarder.confMu held.
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	stat Stat
}

// newWorker makes the worker of d, starting after seq.
func newWorker(d *destination, e *env, seq int64) *worker {
	w := &worker{destination: d, env: e, wake: make(chan struct{}, 1)}
	w.cursor.Store(seq)
	w.stat = Stat{Name: d.name, Type: d.kind}
	return w
}

// start runs the worker until ctx ends or stop is called.
func (w *worker) start(ctx context.Context) {
	if w.cancel != nil {
		return
	}
	ctx, w.cancel = context.WithCancel(ctx)
	w.done = make(chan struct{})
	go w.run(ctx)
}

// stop ends the goroutine, waits for it, and closes the sink.
func (w *worker) stop() error {
	if w.cancel != nil {
		w.cancel()
		<-w.done
		w.cancel, w.done = nil, nil
	}
	return w.sink.close()
}

// poke tells the worker there are records after its cursor.
func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run resumes from the shared cursor, delivers, waits for more records,
// and backs off after a failure.
func (w *worker) run(ctx context.Context) {
	defer close(w.done)
	failures, loggedError, resumed := 0, false, false
	for {
		err := w.catchUp(ctx, &resumed)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			if failures > 0 {
				w.env.log.InfoContext(ctx, "audit destination delivering again", "destination", w.name, "failures", failures)
			}
			failures, loggedError = 0, false
			if !w.idle(ctx) {
				return
			}
			continue
		}
		failures++
		w.failed(err)
		w.logFailure(ctx, err, failures, &loggedError)
		if !w.sleep(ctx, w.delay(err, failures)) {
			return
		}
	}
}

// catchUp resumes the cursor, unless resumed says it did since the worker
// started, and drains.
func (w *worker) catchUp(ctx context.Context, resumed *bool) error {
	if !*resumed {
		if err := w.resume(ctx); err != nil {
			return err
		}
		*resumed = true
	}
	return w.drain(ctx)
}

// resume moves the cursor up to the shared one, when another replica
// delivered further while it led; it never moves it back. With cursors in
// the state file it changes nothing.
func (w *worker) resume(ctx context.Context) error {
	if err := w.env.cursors.refresh(ctx); err != nil {
		return err
	}
	if seq, ok := w.env.cursors.get(w.name); ok && seq > w.cursor.Load() {
		w.cursor.Store(seq)
	}
	return nil
}

// drain delivers batches until the store has no more records after the
// cursor, or a delivery fails.
func (w *worker) drain(ctx context.Context) error {
	for {
		batch, err := w.read(ctx)
		if err != nil || len(batch) == 0 {
			return err
		}
		n, err := w.sink.deliver(ctx, batch)
		if n > 0 {
			w.delivered(ctx, batch[n-1].seq, n)
		}
		if err != nil || len(batch) < w.env.batch {
			return err
		}
	}
}

// read returns up to a batch of records after the cursor, encoded.
func (w *worker) read(ctx context.Context) ([]entry, error) {
	var batch []entry
	err := w.env.store.Scan(ctx, w.cursor.Load(), func(st history.Stored) error {
		line, err := json.Marshal(st)
		if err != nil {
			return fmt.Errorf("encoding audit record %d: %w", st.Seq, err)
		}
		batch = append(batch, entry{seq: st.Seq, line: line})
		if len(batch) >= w.env.batch {
			return errBatchFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errBatchFull) {
		return nil, fmt.Errorf("reading the audit store: %w", err)
	}
	return batch, nil
}

// delivered moves the cursor to seq and saves it. If saving fails the
// records are delivered all the same; after a restart they may be sent
// again.
func (w *worker) delivered(ctx context.Context, seq int64, n int) {
	w.cursor.Store(seq)
	w.mu.Lock()
	w.stat.Delivered += int64(n)
	w.stat.ConsecutiveFailures = 0
	w.mu.Unlock()
	if err := w.env.cursors.advance(ctx, w.name, seq); err != nil {
		w.env.log.WarnContext(ctx, "audit destination cursor not saved", "destination", w.name, "seq", seq, "error", err.Error())
	}
}

// failed counts a failed attempt.
func (w *worker) failed(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stat.Failures++
	w.stat.ConsecutiveFailures++
	w.stat.LastError = err.Error()
	w.stat.LastErrorTime = w.env.clock.Now()
}

// logFailure logs the first failure of a streak at Warn, and the first one
// that needs an operator at Error; the others at Debug.
func (w *worker) logFailure(ctx context.Context, err error, failures int, loggedError *bool) {
	level := slog.LevelDebug
	switch {
	case needsOperator(err) && !*loggedError:
		level, *loggedError = slog.LevelError, true
	case failures == 1:
		level = slog.LevelWarn
	}
	w.env.log.Log(ctx, level, "audit destination failing; retrying", "destination", w.name,
		"failures", failures, "cursor", w.cursor.Load(), "error", err.Error())
}

// delay is the wait before the next attempt: what a 429 or 503 asked for,
// or exponential backoff with jitter.
func (w *worker) delay(err error, failures int) time.Duration {
	if d, ok := retryAfterOf(err); ok {
		return max(d, w.env.backoffMin)
	}
	return backoff(failures, w.env.backoffMin, w.env.backoffMax, rand.Float64())
}

// backoff is lo doubled for each failure after the first, at most hi, then
// scaled by a factor between 0.5 and 1 (r in [0, 1)), never below lo.
func backoff(failures int, lo, hi time.Duration, r float64) time.Duration {
	d := lo
	for i := 1; i < failures && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return max(lo, time.Duration(float64(d)*(0.5+r/2)))
}

// idle waits for more records; false when ctx ends.
func (w *worker) idle(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-w.wake:
		return true
	}
}

// sleep waits d, ignoring pokes; false when ctx ends.
func (w *worker) sleep(ctx context.Context, d time.Duration) bool {
	t := w.env.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	}
}

// snapshot returns the worker's Stat, with Lag measured against newest.
func (w *worker) snapshot(newest int64) Stat {
	w.mu.Lock()
	s := w.stat
	w.mu.Unlock()
	s.Cursor = w.cursor.Load()
	s.Lag = max(0, newest-s.Cursor)
	return s
}
