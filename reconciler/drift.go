package reconciler

import (
	"context"
	"fmt"
	"strings"

	"github.com/cairn-gitops/cairn/internal/helm"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/render"
)

// DriftMode says what a drift check does about live objects that differ
// from the render.
type DriftMode string

// Drift modes.
const (
	// DriftWarn reports drift in the status and the audit trail.
	DriftWarn DriftMode = "warn"
	// DriftCorrect also upgrades the release again with the same values,
	// which restores the drifted fields and recreates deleted objects.
	DriftCorrect DriftMode = "correct"
)

// ParseDriftMode checks a mode given by a user.
func ParseDriftMode(s string) (DriftMode, error) {
	switch m := DriftMode(s); m {
	case DriftWarn, DriftCorrect:
		return m, nil
	}
	return "", fmt.Errorf("drift mode %q: want warn or correct", s)
}

// CheckDrift compares the live objects of every release of the applied
// revision with its render, reports what differs, and in DriftCorrect mode
// applies the release again. Releases not applied in full are skipped.
func (r *Reconciler) CheckDrift(ctx context.Context, mode DriftMode) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	rev := r.rendered
	if rev == nil || rev.releases == nil {
		return nil
	}
	var firstErr error
	for i := range rev.releases {
		rel := &rev.releases[i]
		d, ok := r.deployed[rel.Key()]
		if !ok || !d.matches(rel.Digest) {
			continue
		}
		if err := r.driftOne(ctx, rev, rel, mode); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// driftOne checks one release.
func (r *Reconciler) driftOne(ctx context.Context, rev *revision, rel *render.Release, mode DriftMode) error {
	objs, err := r.opts.Applier.Drift(ctx, rel.Namespace, rel.Objects)
	if err != nil {
		return fmt.Errorf("drift of %s: %w", rel.Key(), err)
	}
	summary := driftSummary(objs)
	now := r.opts.Clock.Now()
	r.status.Update(func(s *status.Snapshot) {
		for i := range s.Adapters {
			if s.Adapters[i].Key == rel.Key() {
				s.Adapters[i].Drift, s.Adapters[i].DriftCheckedAt = summary, now
			}
		}
	})
	if summary == "" {
		r.noteOnce("drift/"+rel.Key(), "")
		return nil
	}
	rec := history.Record{Event: history.DriftDetected, Adapter: rel.Name, Environment: rel.Environment,
		Release: rel.Namespace + "/" + rel.Name, Revision: rev.commit.Hash, ValuesDigest: rel.ValuesDigest,
		Outcome: history.Succeeded, Error: summary, Changes: driftChanges(objs)}
	if mode != DriftCorrect {
		if r.noteOnce("drift/"+rel.Key(), summary) {
			r.append(ctx, rec)
		}
		return nil
	}
	r.append(ctx, rec)
	return r.correct(ctx, rev, rel, summary)
}

// correct applies a drifted release again with the same values.
func (r *Reconciler) correct(ctx context.Context, rev *revision, rel *render.Release, summary string) error {
	out, err := r.opts.Applier.Apply(ctx, helm.Release{
		Name: rel.Name, Namespace: rel.Namespace, Chart: rev.renderer.Chart(), Values: rel.Values, Digest: rel.Digest,
		Labels: map[string]string{LabelEnvironment: rel.Environment, LabelInstance: r.opts.Instance, LabelRevision: rev.commit.Hash},
	})
	rec := history.Record{Event: history.DriftCorrected, Adapter: rel.Name, Environment: rel.Environment,
		Release: rel.Namespace + "/" + rel.Name, Revision: rev.commit.Hash, ValuesDigest: rel.ValuesDigest,
		HelmVersion: out.Version, Duration: out.Duration, Outcome: history.Succeeded, Error: summary}
	if err != nil {
		rec.Outcome, rec.Error = history.Failed, err.Error()
	}
	r.append(ctx, rec)
	if err != nil {
		return fmt.Errorf("correct drift of %s: %w", rel.Key(), err)
	}
	r.status.Update(func(s *status.Snapshot) {
		for i := range s.Adapters {
			if s.Adapters[i].Key == rel.Key() {
				s.Adapters[i].Drift, s.Adapters[i].HelmVersion = "", out.Version
			}
		}
	})
	return nil
}

// driftSummary says in one line which objects differ, "" when none.
func driftSummary(objs []helm.ObjectDrift) string {
	var parts []string
	for _, o := range objs {
		switch o.State {
		case helm.Missing:
			parts = append(parts, fmt.Sprintf("%s/%s missing", o.Kind, o.Name))
		case helm.Changed:
			var ptrs []string
			for _, c := range o.Changes {
				ptrs = append(ptrs, c.Pointer)
			}
			parts = append(parts, fmt.Sprintf("%s/%s changed at %s", o.Kind, o.Name, strings.Join(first3(ptrs), ", ")+more(len(ptrs))))
		}
	}
	return strings.Join(parts, "; ")
}

// driftChanges lists the drifted fields as audit changes: Before is the
// rendered value, After the live one.
func driftChanges(objs []helm.ObjectDrift) []history.Change {
	var out []history.Change
	for _, o := range objs {
		for _, c := range o.Changes {
			out = append(out, history.Change{Pointer: o.Kind + "/" + o.Name + c.Pointer, Kind: "drift",
				Before: c.Want, After: c.Got, Risk: "medium"})
		}
	}
	return out
}
