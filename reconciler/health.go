package reconciler

import (
	"context"
	"fmt"
	"slices"

	"github.com/cairn-gitops/cairn/internal/status"
)

// RefreshHealth reads the health of every adapter's objects (one list per
// namespace) into the status. It waits for a reconcile in progress.
func (r *Reconciler) RefreshHealth(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refreshHealthLocked(ctx)
}

func (r *Reconciler) refreshHealthLocked(ctx context.Context) error {
	snap := r.status.Snapshot()
	var namespaces []string
	for _, a := range snap.Adapters {
		if !slices.Contains(namespaces, a.Namespace) {
			namespaces = append(namespaces, a.Namespace)
		}
	}
	if len(namespaces) == 0 {
		return nil
	}
	h, err := r.opts.Applier.Health(ctx, namespaces)
	if err != nil {
		if ctx.Err() == nil {
			r.log.WarnContext(ctx, "health not read", "error", err)
		}
		return err
	}
	r.status.Update(func(s *status.Snapshot) {
		for i := range s.Adapters {
			a := &s.Adapters[i]
			if a.AppliedRevision == "" && a.Phase != status.Applied {
				continue
			}
			res, ok := h[a.Namespace+"/"+a.Name]
			if !ok {
				a.Health, a.HealthMessage = "Missing", "no workload found for the release"
				continue
			}
			a.Health, a.HealthMessage = string(res.Status), res.Message
		}
	})
	if healthy, total := Healthy(r.status.Snapshot()); r.noteOnce("health", fmt.Sprint(healthy, "/", total)) {
		r.log.InfoContext(ctx, "health", "healthy", healthy, "adapters", total)
	}
	return nil
}

// Healthy reports whether every adapter of the status is applied and
// Healthy, and how many are.
func Healthy(s status.Snapshot) (healthy, total int) {
	for _, a := range s.Adapters {
		if a.Phase == status.Applied && a.Health == "Healthy" {
			healthy++
		}
	}
	return healthy, len(s.Adapters)
}
