package reconciler

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// LoopOptions tune Run.
type LoopOptions struct {
	// Interval is how often the branch is polled (default 1m), with up to
	// Jitter (default 10%) added at random so that replicas and instances
	// do not poll in step.
	Interval time.Duration
	Jitter   float64
	// DriftInterval is how often live objects are compared with the
	// render (default 10m; negative turns drift checks off). DriftMode is
	// DriftWarn or DriftCorrect.
	DriftInterval time.Duration
	DriftMode     DriftMode
	// HealthInterval is how often health is read while an adapter is not
	// Healthy (default 2s), and at most every Interval otherwise.
	HealthInterval time.Duration
	// MinBackoff and MaxBackoff bound the retry delay after a transient
	// failure (defaults 1s and 5m); it doubles with each failure in a row.
	MinBackoff, MaxBackoff time.Duration
}

func (o LoopOptions) withDefaults() LoopOptions {
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.Jitter <= 0 {
		o.Jitter = 0.1
	}
	if o.DriftInterval == 0 {
		o.DriftInterval = 10 * time.Minute
	}
	if o.DriftMode == "" {
		o.DriftMode = DriftWarn
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = 2 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	return o
}

// Trigger asks Run for a reconcile now (a webhook arrived). Triggers that
// arrive while one is pending are coalesced into it.
func (r *Reconciler) Trigger() {
	select {
	case r.triggers <- struct{}{}:
	default:
	}
}

// Run reconciles until ctx ends: at once, then after each delay the last
// verdict asks for, on every Trigger, and checks drift and health on their
// own intervals. It returns ctx's error.
func (r *Reconciler) Run(ctx context.Context, opts LoopOptions) error {
	opts = opts.withDefaults()
	failures := 0
	clk := r.opts.Clock
	nextDrift := clk.Now().Add(opts.DriftInterval)
	for {
		err := r.Reconcile(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		delay := r.delay(err, &failures, opts)
		if err != nil {
			r.log.WarnContext(ctx, "reconcile", "error", err, "retry", delay.Round(time.Millisecond))
		}
		if err := r.idle(ctx, delay, opts, &nextDrift); err != nil {
			return err
		}
	}
}

// delay is how long to wait after a verdict.
func (r *Reconciler) delay(err error, failures *int, opts LoopOptions) time.Duration {
	var w *WaitingError
	var s *StalledError
	switch {
	case err == nil, errors.As(err, &s):
		*failures = 0
		return jitter(opts.Interval, opts.Jitter)
	case errors.As(err, &w):
		*failures = 0
		return min(w.RetryAfter, jitter(opts.Interval, opts.Jitter))
	}
	*failures++
	d := opts.MinBackoff << min(*failures-1, 20)
	return jitter(min(d, opts.MaxBackoff), opts.Jitter)
}

func jitter(d time.Duration, frac float64) time.Duration {
	return d + time.Duration(rand.Float64()*frac*float64(d))
}

// idle waits for the next reconcile, doing health and drift checks that
// fall due in the meantime. It returns early on a Trigger.
func (r *Reconciler) idle(ctx context.Context, delay time.Duration, opts LoopOptions, nextDrift *time.Time) error {
	clk := r.opts.Clock
	if opts.DriftInterval > 0 && !clk.Now().Before(*nextDrift) {
		_ = r.CheckDrift(ctx, opts.DriftMode)
		*nextDrift = clk.Now().Add(opts.DriftInterval)
	}
	wake := clk.NewTimer(delay)
	defer wake.Stop()
	for {
		healthEvery := opts.Interval
		if h, n := Healthy(r.status.Snapshot()); h < n {
			healthEvery = opts.HealthInterval
		}
		tick := clk.NewTimer(healthEvery)
		select {
		case <-ctx.Done():
			tick.Stop()
			return ctx.Err()
		case <-r.triggers:
			tick.Stop()
			return nil
		case <-wake.C():
			tick.Stop()
			return nil
		case <-tick.C():
			_ = r.RefreshHealth(ctx)
			if opts.DriftInterval > 0 && !clk.Now().Before(*nextDrift) {
				_ = r.CheckDrift(ctx, opts.DriftMode)
				*nextDrift = clk.Now().Add(opts.DriftInterval)
			}
		}
	}
}
