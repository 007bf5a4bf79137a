package reconciler

import (
	"context"
	"slices"

	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/render"
)

// AuditLookup reads the audit store back. A reconciler that has one
// records, on its first pass, what a predecessor applied but was stopped
// (killed, say) before recording: see catchUp.
type AuditLookup interface {
	List(ctx context.Context, f history.Filter) ([]history.Stored, error)
}

// NoteRecovered is the Note of a record written after a restart for a
// change the process before it applied but did not record.
const NoteRecovered = "recorded after a restart: applied by a cairn process that stopped before recording it"

// versionEvents are the events whose records name a Helm version that
// deployed: the changes catchUp looks for.
var versionEvents = []history.Event{history.AdapterInstalled, history.AdapterUpgraded,
	history.AdapterRolledBack, history.DriftCorrected, history.AdapterUninstall}

// baseline returns the last applied revision as this process knows it or,
// on a first pass after a start, the revision the audit store last recorded
// as applied (Options.LastApplied), validated and rendered once, so that
// the first pass's records carry field-level changes too. nil when neither
// is known or the old revision no longer loads.
func (r *Reconciler) baseline(ctx context.Context) *revision {
	if r.applied != nil {
		return r.applied
	}
	if r.baseTried || r.opts.LastApplied == "" {
		return r.base
	}
	r.baseTried = true
	rev, err := r.load(ctx, r.opts.LastApplied)
	if err != nil {
		r.log.WarnContext(ctx, "the last applied revision does not load; the first records after this start carry no field-level changes",
			"revision", r.opts.LastApplied, "error", err)
		return nil
	}
	r.base = rev
	return rev
}

// load validates and renders the commit hash, stamping it on every release.
func (r *Reconciler) load(ctx context.Context, hash string) (*revision, error) {
	tree, err := r.opts.Source.Tree(ctx, hash)
	if err != nil {
		return nil, err
	}
	res, err := r.opts.Validator.Validate(ctx, tree)
	if err != nil {
		return nil, err
	}
	if !res.Valid() {
		return nil, invalidError(res.Findings)
	}
	var fsys = tree
	if c := res.Repository.Spec.Chart; c == nil || c.Path == "" {
		fsys = nil
	}
	rd, err := render.ForRepository(fsys, res.Repository)
	if err != nil {
		return nil, err
	}
	in := render.Input{Repository: res.Repository, Revision: func(string, string) string { return hash }}
	for _, a := range res.Adapters {
		in.Adapters = append(in.Adapters, a.Adapter)
	}
	releases, err := rd.Render(ctx, in)
	if err != nil {
		return nil, err
	}
	return &revision{commit: gitsource.Commit{Hash: hash}, result: res, releases: releases, renderer: rd}, nil
}

// catchUp runs on the first pass of a process that has an AuditLookup. A
// process killed between Helm's change and the transaction that records
// its pass leaves changes in the cluster that the trail lacks. For each
// release this pass did not touch whose revision label is a commit since
// the last applied revision (only those can have been changed by a pass
// that did not finish), and each adapter of the last applied revision now
// uninstalled, it reads the adapter's newest change record; where that does
// not name the Helm version deployed (or the uninstall), it returns the
// missing record, marked with NoteRecovered. A change is thus recorded once:
// by the pass that made it, or by this.
func (r *Reconciler) catchUp(ctx context.Context, p *pass, base *revision) []history.Record {
	if r.opts.Audit == nil || r.caughtUp || p.rev == nil || p.rev.releases == nil {
		return nil
	}
	r.caughtUp = true
	since := map[string]bool{}
	for _, c := range p.commits {
		since[c.Hash] = true
	}
	touched := map[string]bool{}
	for _, res := range p.results {
		touched[res.key] = true
	}
	var candidates []render.Release
	for _, rel := range p.rev.releases {
		d, ok := r.deployed[rel.Key()]
		if ok && !touched[rel.Key()] && since[d.Labels[LabelRevision]] && d.Status == "deployed" {
			candidates = append(candidates, rel)
		}
	}
	var out []history.Record
	var changes map[string]adapterChanges
	for _, rel := range candidates {
		if changes == nil {
			changes = changesOf(base, p)
		}
		if rec, missing := r.missingChange(ctx, p, rel, r.deployed[rel.Key()], changes[rel.Key()]); missing {
			out = append(out, rec)
		}
	}
	return append(out, r.missingUninstalls(ctx, p, base, touched)...)
}

// missingChange returns the record of d's deployed version when the trail
// lacks it.
func (r *Reconciler) missingChange(ctx context.Context, p *pass, rel render.Release, d deployedRelease, ch adapterChanges) (history.Record, bool) {
	last, ok := r.lastChange(ctx, rel.Name, rel.Environment)
	if !ok || last != nil && last.HelmVersion >= d.Version && last.Event != history.AdapterUninstall {
		return history.Record{}, false
	}
	event := history.AdapterUpgraded
	if last == nil || last.Event == history.AdapterUninstall {
		event = history.AdapterInstalled
	}
	return history.Record{Event: event, Adapter: rel.Name, Environment: rel.Environment,
		Release: d.Namespace + "/" + d.Name, Revision: d.Labels[LabelRevision], HelmVersion: d.Version,
		ValuesDigest: rel.ValuesDigest, Changes: ch.changes, Commits: touching(p.commits, ch.files),
		Outcome: history.Succeeded, Note: NoteRecovered}, true
}

// missingUninstalls returns the uninstall records the trail lacks: adapters
// of the base revision that the head no longer has and the cluster no
// longer runs, whose newest change record is not an uninstall.
func (r *Reconciler) missingUninstalls(ctx context.Context, p *pass, base *revision, touched map[string]bool) []history.Record {
	if base == nil {
		return nil
	}
	var out []history.Record
	for _, rel := range base.releases {
		key := rel.Key()
		if _, desired := p.adapters[key]; desired || touched[key] {
			continue
		}
		if _, running := r.deployed[key]; running {
			continue
		}
		last, ok := r.lastChange(ctx, rel.Name, rel.Environment)
		if !ok || last == nil || last.Event == history.AdapterUninstall {
			continue
		}
		out = append(out, history.Record{Event: history.AdapterUninstall, Adapter: rel.Name,
			Environment: rel.Environment, Release: rel.Namespace + "/" + rel.Name, Revision: p.head.Hash,
			Commits: touching(p.commits, filesOf(base, key)), Outcome: history.Succeeded, Note: NoteRecovered})
	}
	return out
}

// lastChange returns the newest change record of an adapter (nil when it
// has none); ok is false when the store cannot be read (then nothing is
// caught up, rather than something recorded twice).
func (r *Reconciler) lastChange(ctx context.Context, name, env string) (*history.Record, bool) {
	recs, err := r.opts.Audit.List(ctx, history.Filter{Adapter: name, Environment: env,
		Events: versionEvents, Limit: 1})
	if err != nil {
		r.log.WarnContext(ctx, "reading the audit store", "adapter", env+"/"+name, "error", err)
		return nil, false
	}
	if len(recs) == 0 {
		return nil, true
	}
	return &recs[0].Record, true
}

// filesOf returns the source files of an adapter of a revision.
func filesOf(rev *revision, key string) []string {
	for _, a := range rev.result.Adapters {
		if a.Metadata.Environment+"/"+a.Metadata.Name == key && a.Doc != nil {
			return slices.Clone(a.Doc.Sources)
		}
	}
	return nil
}
