package reconciler

import (
	"context"
	"errors"
	"time"

	"github.com/cairn-gitops/cairn/internal/diag"
	"github.com/cairn-gitops/cairn/internal/helm"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/render"
)

// finish is the only writer of status and history for a pass: it reports
// the verdict err (nil when the head applied in full) and returns it.
func (r *Reconciler) finish(ctx context.Context, p *pass, err error) error {
	dur := r.opts.Clock.Since(p.started)
	phase, reason := classify(err)
	rs := r.revisionStatus(p, phase, reason, err, dur)
	base := r.baseline(ctx)
	var stalled *StalledError
	if p.rev != nil && errors.As(err, &stalled) && !stalled.Retry {
		p.rev.verdict, r.rendered = err, p.rev
	}
	if err == nil {
		if r.opts.OnApplied != nil && (r.applied == nil || r.applied.commit.Hash != p.head.Hash) {
			r.opts.OnApplied(ctx, p.head.Hash, p.rev.result)
		}
		r.applied, r.pending = p.rev, 0
	} else {
		r.announceBaseline(ctx)
		r.pending = len(p.toApply) + len(p.toRemove)
	}
	now := r.opts.Clock.Now()
	if o := r.opts.Observer; o != nil {
		o.ReconcileDone(string(phase), dur)
		if err == nil {
			o.AppliedRevisionTimestamp(now)
		}
	}
	r.status.Update(func(s *status.Snapshot) {
		s.Last = &rs
		if err == nil {
			s.Applied, s.AppliedAt = p.head.Hash, now
		}
		if p.rev != nil && p.rev.stalled == nil && p.rev.releases != nil {
			s.Adapters = r.adapterStatuses(s.Adapters, p, now)
		}
	})
	if p.rev != nil && p.rev.stalled == nil && p.rev.releases != nil {
		r.publishReleases(p.rev.releases)
	}
	r.record(ctx, p, base, rs, err, dur)
	return err
}

// announceBaseline tells OnApplied, once, about the revision the audit
// store last recorded as applied, when the first pass of a process does not
// apply its head: what reloads with a revision (the API's access rules)
// then follows what the cluster runs rather than nothing.
func (r *Reconciler) announceBaseline(ctx context.Context) {
	if r.opts.OnApplied == nil || r.applied != nil || r.announced {
		return
	}
	r.announced = true
	if b := r.baseline(ctx); b != nil {
		r.opts.OnApplied(ctx, b.commit.Hash, b.result)
	}
}

// publishReleases makes the rendered releases of the last pass readable
// by Rendered without the reconcile lock.
func (r *Reconciler) publishReleases(releases []render.Release) {
	m := make(map[string]render.Release, len(releases))
	for _, rel := range releases {
		m[rel.Key()] = rel
	}
	r.releases.Store(&m)
}

// Rendered returns the release of an adapter ("environment/name") as the
// last pass rendered it: its values (Secret references, never contents)
// and objects.
func (r *Reconciler) Rendered(key string) (render.Release, bool) {
	m := r.releases.Load()
	if m == nil {
		return render.Release{}, false
	}
	rel, ok := (*m)[key]
	return rel, ok
}

// classify maps a verdict to a phase and a reason.
func classify(err error) (status.Phase, string) {
	var s *StalledError
	var w *WaitingError
	switch {
	case err == nil:
		return status.Applied, ReasonApplied
	case errors.As(err, &s):
		return status.Stalled, s.Reason
	case errors.As(err, &w):
		return status.Waiting, w.Reason
	}
	return status.Failed, ReasonApplyFailed
}

func (r *Reconciler) revisionStatus(p *pass, phase status.Phase, reason string, err error, dur time.Duration) status.Revision {
	rs := status.Revision{Revision: p.head.Hash, Subject: p.head.Subject(), Phase: phase, Reason: reason,
		StartedAt: p.started, Duration: dur, Unchanged: p.unchanged}
	if err != nil {
		rs.Message = err.Error()
	}
	if p.rev != nil && p.rev.stalled != nil && p.rev.result != nil {
		for _, f := range p.rev.result.Findings {
			if f.Severity == diag.Error {
				rs.Findings = append(rs.Findings, f)
			}
		}
	}
	for _, res := range p.results {
		switch {
		case res.err != nil:
			rs.Failed++
		case len(res.missing) > 0:
			rs.Waiting++
		default:
			switch res.outcome.Action {
			case helm.Installed:
				rs.Installed++
			case helm.Upgraded:
				rs.Upgraded++
			case helm.Uninstalled:
				rs.Uninstalled++
			}
		}
	}
	return rs
}

// adapterStatuses rebuilds the adapter list for the pass's revision: the
// adapters it renders, each with what the pass did to it or, if nothing,
// what it was before.
func (r *Reconciler) adapterStatuses(old []status.Adapter, p *pass, now time.Time) []status.Adapter {
	prev := map[string]status.Adapter{}
	for _, a := range old {
		prev[a.Key] = a
	}
	byKey := map[string]result{}
	for _, res := range p.results {
		if res.release != nil {
			byKey[res.key] = res
		}
	}
	out := make([]status.Adapter, 0, len(p.rev.releases))
	for _, rel := range p.rev.releases {
		a, ok := prev[rel.Key()]
		if !ok {
			a = status.Adapter{Key: rel.Key(), Name: rel.Name, Environment: rel.Environment, Health: "Unknown"}
			if d, ok := r.deployed[rel.Key()]; ok {
				a.AppliedRevision, a.HelmVersion, a.Phase = d.Labels[LabelRevision], d.Version, status.Applied
				a.Digest = rel.Digest
			}
		}
		a.Namespace = rel.Namespace
		if ad := p.adapters[rel.Key()]; ad != nil {
			a.Protocol, a.Role, a.Labels = ad.Spec.Protocol, ad.Spec.Role, ad.Metadata.Labels
		}
		if res, ok := byKey[rel.Key()]; ok {
			applyResult(&a, res, p.head.Hash, now)
		} else if a.Phase == "" || a.Phase == status.Pending {
			a.Phase = status.Applied
		}
		out = append(out, a)
	}
	return out
}

// applyResult sets an adapter's status from what the pass did to it.
func applyResult(a *status.Adapter, res result, head string, now time.Time) {
	a.Reason, a.LastError = "", ""
	switch {
	case res.err != nil:
		a.Phase, a.Reason, a.LastError = status.Failed, ReasonApplyFailed, res.err.Error()
		var ue *helm.UpgradeError
		if errors.As(res.err, &ue) {
			a.Reason = ReasonUpgradeRollback
		}
	case len(res.missing) > 0:
		a.Phase, a.Reason = status.Waiting, ReasonSecretMissing
		for i, m := range res.missing {
			if i > 0 {
				a.LastError += "; "
			}
			a.LastError += m.Reason
		}
	default:
		a.Phase, a.AppliedRevision, a.AppliedAt = status.Applied, head, now
		a.Digest, a.HelmVersion = res.release.Digest, res.outcome.Version
		a.Health, a.HealthMessage = "Progressing", "applied; waiting for health"
	}
}
