package history

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// MinRetention is the shortest retention a Retainer applies: a shorter
// period (a typo in security.json, "7s" for "7y") is refused, not obeyed.
const MinRetention = 24 * time.Hour

// Retainer prunes a store to a retention period, under signed checkpoints.
// The period comes from the security configuration and may change at any
// time; zero keeps everything.
type Retainer struct {
	Store  Store
	Signer *Signer
	Logger *slog.Logger
	// Actor names who prunes in the history.pruned records.
	Actor string
	// Now tells the time (default time.Now).
	Now func() time.Time

	mu     sync.Mutex
	period time.Duration
	wake   chan struct{}
}

// SetPeriod sets the retention period and, when it changed, asks Run to
// prune at once.
func (r *Retainer) SetPeriod(d time.Duration) {
	r.mu.Lock()
	changed := d != r.period
	r.period = d
	if r.wake == nil {
		r.wake = make(chan struct{}, 1)
	}
	wake := r.wake
	r.mu.Unlock()
	if changed {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

// Prune removes the records older than the period now. ok is false when
// there was nothing to remove, or no period.
func (r *Retainer) Prune(ctx context.Context) (Checkpoint, bool, error) {
	r.mu.Lock()
	period := r.period
	r.mu.Unlock()
	if period == 0 {
		return Checkpoint{}, false, nil
	}
	if period < MinRetention {
		return Checkpoint{}, false, fmt.Errorf("audit retention %s is shorter than the minimum %s: nothing pruned", period, MinRetention)
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	t := now()
	return r.Store.Prune(ctx, Pruning{Before: t.Add(-period), Signer: r.Signer, Record: Record{Time: t, Actor: r.Actor}})
}

// Run prunes when the period is set or changes and then every interval,
// until ctx ends.
func (r *Retainer) Run(ctx context.Context, interval time.Duration) {
	r.SetPeriod(r.currentPeriod()) // make sure wake exists
	r.mu.Lock()
	wake := r.wake
	r.mu.Unlock()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-wake:
		}
		cp, ok, err := r.Prune(ctx)
		switch {
		case err != nil:
			r.Logger.ErrorContext(ctx, "audit retention", "error", err)
		case ok:
			r.Logger.InfoContext(ctx, "audit records removed under a signed checkpoint", "first", cp.First, "last", cp.Seq,
				"before", cp.Before.UTC().Format(time.RFC3339), "key", Fingerprint(r.Signer.PublicKey()))
		}
	}
}

func (r *Retainer) currentPeriod() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.period
}

// ParseRetention reads security.json's audit.retention ("7y", "365d"); ""
// is zero (keep everything).
func ParseRetention(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := v1.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("audit retention: %w", err)
	}
	return d, nil
}
