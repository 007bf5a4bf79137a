package reconciler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/diag"
	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/helm"
	"github.com/cairn-gitops/cairn/internal/plan"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/render"
)

// pass is the state of one reconcile, filled in by the phases in turn.
type pass struct {
	started time.Time
	force   bool

	head      gitsource.Commit
	commits   []gitsource.CommitInfo
	rewritten *gitsource.RewrittenError
	rev       *revision
	adapters  map[string]*v1.Adapter // by key, for Secret references

	// The gate's verdict: what to apply and what to uninstall.
	toApply   []render.Release
	toRemove  []deployedRelease
	unchanged int
	results   []result
	// approvals are the gate's, by commit hash, for the audit records.
	approvals map[string]Approval
}

// result is what happened to one adapter in a pass.
type result struct {
	key, name, env, namespace string
	release                   *render.Release // nil for an uninstall
	outcome                   helm.Outcome
	missing                   []helm.MissingSecret
	err                       error
}

// fetch brings the branch up to date and decides whether there is work.
func (r *Reconciler) fetch(ctx context.Context, p *pass) error {
	head, err := r.opts.Source.Fetch(ctx)
	if err != nil {
		if errors.Is(err, gitsource.ErrAuth) || errors.Is(err, gitsource.ErrHostKey) {
			return &WaitingError{Reason: ReasonAuthFailed, RetryAfter: r.opts.WaitRetry, Err: err}
		}
		return err
	}
	p.head = head
	now := r.opts.Clock.Now()
	r.status.Update(func(s *status.Snapshot) { s.Fetched, s.FetchedAt = head.Hash, now })
	if !p.force && r.applied != nil && r.applied.commit.Hash == head.Hash && r.pending == 0 {
		return errUpToDate
	}
	if r.rendered != nil && r.rendered.commit.Hash == head.Hash && r.rendered.verdict != nil {
		p.rev = r.rendered
		return errRepeated // the same stalled revision: nothing new to say
	}
	return r.listCommits(ctx, p)
}

// listCommits lists what the head brings since the last applied revision.
func (r *Reconciler) listCommits(ctx context.Context, p *pass) error {
	from := r.opts.LastApplied
	if r.applied != nil {
		from = r.applied.commit.Hash
	}
	if from == p.head.Hash {
		return nil
	}
	commits, err := r.opts.Source.Commits(ctx, from, p.head.Hash)
	var rw *gitsource.RewrittenError
	switch {
	case errors.As(err, &rw):
		p.rewritten = rw
		commits, err = r.opts.Source.Commits(ctx, "", p.head.Hash)
	case errors.Is(err, gitsource.ErrNotFound) && from != "":
		// The last applied commit is in no history cairn has fetched.
		p.rewritten = &gitsource.RewrittenError{From: from, To: p.head.Hash}
		commits, err = r.opts.Source.Commits(ctx, "", p.head.Hash)
	}
	if err != nil {
		return fmt.Errorf("commits since %s: %w", short(from), err)
	}
	p.commits = commits
	return nil
}

// validate loads and checks every document of the head.
func (r *Reconciler) validate(ctx context.Context, p *pass) error {
	if r.rendered != nil && r.rendered.commit.Hash == p.head.Hash {
		p.rev = r.rendered
		return nil
	}
	tree, err := r.opts.Source.Tree(ctx, p.head.Hash)
	if err != nil {
		return err
	}
	res, err := r.opts.Validator.Validate(ctx, tree)
	if err != nil {
		return err
	}
	p.rev = &revision{commit: p.head, result: res}
	if !res.Valid() {
		p.rev.stalled = &StalledError{Reason: ReasonValidation, Err: invalidError(res.Findings)}
		r.rendered = p.rev
		return p.rev.stalled
	}
	return nil
}

// invalidError says how many documents are invalid and names the first.
func invalidError(findings []diag.Finding) error {
	n := diag.Errors(findings)
	for _, f := range findings {
		if f.Severity == diag.Error {
			return fmt.Errorf("%d errors in the revision; first: %s:%d %s: %s", n, f.File, f.Line, f.Pointer, f.Message)
		}
	}
	return fmt.Errorf("%d errors in the revision", n)
}

// render renders one release per adapter, stamping the head revision.
func (r *Reconciler) render(ctx context.Context, p *pass) error {
	p.adapters = map[string]*v1.Adapter{}
	for _, a := range p.rev.result.Adapters {
		p.adapters[a.Metadata.Environment+"/"+a.Metadata.Name] = a.Adapter
	}
	if p.rev.releases != nil {
		return nil
	}
	rd, err := r.rendererFor(ctx, p)
	if err != nil {
		return &StalledError{Reason: ReasonRenderFailed, Err: err}
	}
	if err := r.loadDeployed(ctx); err != nil {
		return err
	}
	// An unchanged release keeps the revision that last changed it, so
	// that its objects (and a drift check) stay as they were applied.
	in := render.Input{Repository: p.rev.result.Repository, Revision: func(key, digest string) string {
		if d, ok := r.deployed[key]; ok && d.matches(digest) && d.Labels[LabelRevision] != "" {
			return d.Labels[LabelRevision]
		}
		return p.head.Hash
	}}
	reuse := r.reusable(p, rd)
	for key, a := range p.adapters {
		if _, ok := reuse[key]; !ok {
			in.Adapters = append(in.Adapters, a)
		}
	}
	releases, err := rd.Render(ctx, in)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return &StalledError{Reason: ReasonRenderFailed, Err: err}
	}
	for _, rel := range reuse {
		releases = append(releases, rel)
	}
	slices.SortFunc(releases, func(a, b render.Release) int { return strings.Compare(a.Key(), b.Key()) })
	p.rev.releases, p.rev.renderer = releases, rd
	r.rendered = p.rev
	return nil
}

// reusable returns the releases of the last rendered revision that the
// head cannot have changed: rendering is pure, so an adapter whose manifest
// is the same, with the same cairn.json and the same (embedded) chart,
// renders the same. A one-adapter commit then renders one adapter.
func (r *Reconciler) reusable(p *pass, rd *render.Renderer) map[string]render.Release {
	base := r.rendered
	if base == nil || base.releases == nil || base.renderer != rd || rd != r.embedded {
		return nil
	}
	changed, all := plan.Affected(base.result, p.rev.result)
	if all {
		return nil
	}
	out := map[string]render.Release{}
	for _, rel := range base.releases {
		if _, ok := p.adapters[rel.Key()]; ok && !changed[rel.Key()] {
			out[rel.Key()] = rel
		}
	}
	return out
}

// rendererFor returns the renderer for the revision's chart; the embedded
// chart's is loaded once.
func (r *Reconciler) rendererFor(ctx context.Context, p *pass) (*render.Renderer, error) {
	repo := p.rev.result.Repository
	if c := repo.Spec.Chart; c != nil && c.Path != "" {
		tree, err := r.opts.Source.Tree(ctx, p.head.Hash)
		if err != nil {
			return nil, err
		}
		return render.ForRepository(tree, repo)
	}
	if r.embedded == nil {
		rd, err := render.ForRepository(nil, repo)
		if err != nil {
			return nil, err
		}
		r.embedded = rd
	}
	return r.embedded, nil
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	if hash == "" {
		return "the start"
	}
	return hash
}
