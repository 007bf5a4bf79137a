// Package leader lets several replicas of cairn run while only one applies:
// the replica that holds a coordination.k8s.io Lease runs the work; the
// others wait and take over within a lease duration when it stops or loses
// the API server. It wraps client-go's leaderelection.
package leader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Options say which Lease to hold and as whom.
type Options struct {
	Config    *rest.Config
	Namespace string
	Name      string
	// Identity must differ between replicas (the pod name).
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod default to 15s, 10s, 2s.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	Logger                                    *slog.Logger
	// OnChange is told when this process gains or loses the lease.
	OnChange func(leading bool)
}

// Run runs work while this process holds the lease. When the lease is
// lost, work's context is cancelled; Run waits for work to return and then
// tries to acquire the lease again, until ctx ends. On ctx's end a held
// lease is released, so another replica takes over at once.
func Run(ctx context.Context, opts Options, work func(context.Context)) error {
	if opts.Namespace == "" || opts.Name == "" || opts.Identity == "" {
		return errors.New("leader election: namespace, name and identity are required")
	}
	opts = withDefaults(opts)
	cs, err := kubernetes.NewForConfig(opts.Config)
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metaOf(opts),
		Client:     cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: opts.Identity},
	}
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock: lock, LeaseDuration: opts.LeaseDuration, RenewDeadline: opts.RenewDeadline,
			RetryPeriod: opts.RetryPeriod, ReleaseOnCancel: true, Name: opts.Name,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(ctx context.Context) {
					opts.Logger.InfoContext(ctx, "leader: acquired the lease", "lease", opts.Namespace+"/"+opts.Name, "identity", opts.Identity)
					opts.OnChange(true)
					work(ctx)
				},
				OnStoppedLeading: func() {
					opts.Logger.Info("leader: lease lost or released", "identity", opts.Identity)
					opts.OnChange(false)
				},
			},
		})
		if err != nil {
			return fmt.Errorf("leader election: %w", err)
		}
		le.Run(ctx)
	}
	return ctx.Err()
}

func withDefaults(o Options) Options {
	if o.LeaseDuration <= 0 {
		o.LeaseDuration = 15 * time.Second
	}
	if o.RenewDeadline <= 0 {
		o.RenewDeadline = 10 * time.Second
	}
	if o.RetryPeriod <= 0 {
		o.RetryPeriod = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.OnChange == nil {
		o.OnChange = func(bool) {}
	}
	return o
}
