package reconciler

import (
	"context"
	"errors"
	"time"

	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/helm"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/plan"
	"github.com/cairn-gitops/cairn/internal/status"
)

// record writes the audit records of a pass: one per adapter that was
// changed, failed or started waiting, one for the revision, and one for a
// rewritten branch history, appended together (all or none). A verdict
// repeated on the next pass of the same revision (still waiting, still
// invalid) is not recorded again.
func (r *Reconciler) record(ctx context.Context, p *pass, base *revision, rs status.Revision, err error, dur time.Duration) {
	if p.rev == nil && err != nil && errors.Is(err, context.Canceled) {
		return
	}
	recs := append(r.catchUp(ctx, p, base), r.passRecords(p, base, rs, dur)...)
	withApprovals(recs, p.approvals)
	r.append(ctx, recs...)
}

// withApprovals fills in each commit's pull request, approvers and merger
// from the gate's verdict.
func withApprovals(recs []history.Record, approvals map[string]Approval) {
	if len(approvals) == 0 {
		return
	}
	for i := range recs {
		for j := range recs[i].Commits {
			c := &recs[i].Commits[j]
			if a, ok := approvals[c.Hash]; ok {
				c.PullRequest, c.Approvers, c.Merger = a.PullRequest, a.Approvers, a.Merger
			}
		}
	}
}

// passRecords returns the records of a pass, the revision's last.
func (r *Reconciler) passRecords(p *pass, base *revision, rs status.Revision, dur time.Duration) []history.Record {
	previous := r.opts.LastApplied
	if base != nil {
		previous = base.commit.Hash
	}
	var out []history.Record
	commits := commitsOf(p.commits)
	if p.rewritten != nil && r.noteOnce("rewritten", p.head.Hash) {
		out = append(out, history.Record{Event: history.HistoryRewritten, Revision: p.head.Hash, Previous: previous,
			Outcome: history.Succeeded, Error: p.rewritten.Error(), Commits: commits})
	}
	var changes map[string]adapterChanges
	if len(p.results) > 0 {
		changes = changesOf(base, p)
	}
	for _, res := range p.results {
		if rec, ok := r.adapterRecord(p, res, changes); ok {
			rec.Commits = touching(p.commits, changes[res.key].files)
			out = append(out, rec)
		}
	}
	event, outcome := history.RevisionApplied, history.Succeeded
	switch rs.Phase {
	case status.Applied:
	case status.Stalled:
		event, outcome = history.RevisionRefused, history.Refused
	case status.Waiting:
		event, outcome = history.RevisionApplied, history.Waiting
	default:
		event, outcome = history.RevisionFailed, history.Failed
	}
	if !r.noteOnce("revision", p.head.Hash+"\x00"+string(rs.Phase)+"\x00"+rs.Reason) {
		return out
	}
	return append(out, history.Record{Event: event, Revision: p.head.Hash, Previous: previous, Commits: commits,
		Outcome: outcome, Error: rs.Message, Duration: dur})
}

// noteOnce reports whether this (kind, value) differs from the last one
// noted for kind, and notes it.
func (r *Reconciler) noteOnce(kind, value string) bool {
	if r.noted == nil {
		r.noted = map[string]string{}
	}
	if r.noted[kind] == value {
		return false
	}
	r.noted[kind] = value
	return true
}

// adapterRecord builds the record of one adapter's result.
func (r *Reconciler) adapterRecord(p *pass, res result, changes map[string]adapterChanges) (history.Record, bool) {
	rec := history.Record{Adapter: res.name, Environment: res.env, Release: res.namespace + "/" + res.name,
		Revision: p.head.Hash, Outcome: history.Succeeded, HelmVersion: res.outcome.Version,
		Duration: res.outcome.Duration, Changes: changes[res.key].changes}
	if res.release != nil {
		rec.ValuesDigest = res.release.ValuesDigest
	}
	var ue *helm.UpgradeError
	switch {
	case errors.As(res.err, &ue):
		rec.Event, rec.Outcome, rec.Error = history.AdapterRolledBack, history.Failed, res.err.Error()
	case res.err != nil:
		rec.Event, rec.Outcome, rec.Error = history.AdapterFailed, history.Failed, res.err.Error()
	case len(res.missing) > 0:
		rec.Event, rec.Outcome, rec.Error = history.AdapterWaiting, history.Waiting, res.missing[0].Reason
		if !r.noteOnce("wait/"+res.key, p.head.Hash+"\x00"+rec.Error) {
			return rec, false
		}
	case res.outcome.Action == helm.Installed:
		rec.Event = history.AdapterInstalled
	case res.outcome.Action == helm.Upgraded:
		rec.Event = history.AdapterUpgraded
	case res.outcome.Action == helm.Uninstalled:
		rec.Event = history.AdapterUninstall
	default:
		return rec, false
	}
	return rec, true
}

// append stamps records with the time and actor and appends them at once.
func (r *Reconciler) append(ctx context.Context, recs ...history.Record) {
	if len(recs) == 0 {
		return
	}
	now := r.opts.Clock.Now()
	for i := range recs {
		recs[i].Time, recs[i].Actor = now, r.opts.Actor
	}
	if err := history.AppendAll(ctx, r.rec, recs); err != nil {
		r.log.ErrorContext(ctx, "audit records not written", "records", len(recs), "event", recs[0].Event,
			"adapter", recs[0].Adapter, "error", err)
	}
}

// adapterChanges are one adapter's field-level changes and source files.
type adapterChanges struct {
	changes []history.Change
	files   []string
}

// changesOf compares the pass's revision with the last applied one, when
// this process knows it (base), adapter by adapter.
func changesOf(base *revision, p *pass) map[string]adapterChanges {
	out := map[string]adapterChanges{}
	if base == nil || p.rev == nil || p.rev.releases == nil {
		return out
	}
	pl := plan.Compare(
		plan.Revision{Commit: base.commit, Result: base.result, Releases: base.releases},
		plan.Revision{Commit: p.head, Result: p.rev.result, Releases: p.rev.releases})
	for _, ac := range pl.Adapters {
		c := adapterChanges{files: ac.Files}
		for _, ch := range ac.Changes {
			c.changes = append(c.changes, history.Change{Pointer: ch.Pointer, Kind: ch.Kind,
				Before: ch.Before, After: ch.After, Risk: ch.Risk.String()})
		}
		out[ac.Key] = c
	}
	return out
}

// commitsOf turns Git commits into audit commits.
func commitsOf(cs []gitsource.CommitInfo) []history.Commit {
	out := make([]history.Commit, 0, len(cs))
	for _, c := range cs {
		hc := history.Commit{Hash: c.Hash, Subject: c.Subject(), Signature: signatureOf(c),
			Author:    history.Person{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When},
			Committer: history.Person{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When}}
		for _, f := range c.Files {
			hc.Files = append(hc.Files, f.Path)
		}
		out = append(out, hc)
	}
	return out
}

func signatureOf(c gitsource.CommitInfo) string {
	switch {
	case c.Signature.Kind == "":
		return "unsigned"
	case c.Signature.Verified:
		return "verified"
	}
	return "unverified"
}

// touching returns the commits that changed any of files; all commits when
// files is empty (an adapter whose sources are unknown).
func touching(cs []gitsource.CommitInfo, files []string) []history.Commit {
	if len(files) == 0 {
		return commitsOf(cs)
	}
	want := map[string]bool{"cairn.json": true} // it shapes every release
	for _, f := range files {
		want[f] = true
	}
	var hit []gitsource.CommitInfo
	for _, c := range cs {
		for _, f := range c.Files {
			if want[f.Path] || want[f.From] {
				hit = append(hit, c)
				break
			}
		}
	}
	return commitsOf(hit)
}
