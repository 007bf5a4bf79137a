// Package changereq plans a change: it validates two revisions of a config
// repository and compares them, rendering only the adapters the change
// touches. `cairn plan`, the API's change-request plan and `cairn pr check`
// share it.
package changereq

import (
	"context"
	"errors"
	"fmt"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/diag"
	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/plan"
	"github.com/cairn-gitops/cairn/internal/validate"
	"github.com/cairn-gitops/cairn/render"
)

// Revision is a validated commit and the renderer of its chart.
type Revision struct {
	plan.Revision
	renderer *render.Renderer
}

// InvalidError is returned by Load for a commit whose documents do not
// validate; Result holds the findings.
type InvalidError struct {
	Commit gitsource.Commit
	Result *validate.Result
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("revision %s does not validate: %d errors", e.Commit.Short(), diag.Errors(e.Result.Findings))
}

// Load validates commit c of repo (ref is how the user named it) and loads
// the chart it names; an *InvalidError when it does not validate.
func Load(ctx context.Context, repo *gitsource.Repo, v *validate.Validator, ref string, c gitsource.Commit) (*Revision, error) {
	tree, err := repo.Tree(c.Hash)
	if err != nil {
		return nil, err
	}
	res, err := v.Validate(ctx, tree)
	if err != nil {
		return nil, err
	}
	if !res.Valid() {
		return nil, &InvalidError{Commit: c, Result: res}
	}
	r, err := render.ForRepository(tree, res.Repository)
	if err != nil {
		return nil, err
	}
	return &Revision{Revision: plan.Revision{Ref: ref, Commit: c, Result: res}, renderer: r}, nil
}

// Compare renders what the change touches on both sides (everything when
// the chart changed) and compares them.
func Compare(ctx context.Context, base, head *Revision) (*plan.Plan, error) {
	only, all := plan.Affected(base.Result, head.Result)
	if base.renderer.ChartDigest() != head.renderer.ChartDigest() {
		all = true
	}
	for _, r := range []*Revision{base, head} {
		if err := r.render(ctx, only, all); err != nil {
			return nil, err
		}
	}
	return plan.Compare(base.Revision, head.Revision), nil
}

// render renders the adapters in only, or every adapter when all.
func (r *Revision) render(ctx context.Context, only map[string]bool, all bool) error {
	var adapters []*v1.Adapter
	for _, a := range r.Result.Adapters {
		if all || only[a.Metadata.Environment+"/"+a.Metadata.Name] {
			adapters = append(adapters, a.Adapter)
		}
	}
	releases, err := r.renderer.Render(ctx, render.Input{Repository: r.Result.Repository, Adapters: adapters})
	if err != nil {
		return fmt.Errorf("revision %s: %w", r.Commit.Short(), err)
	}
	r.Releases = releases
	return nil
}

// Result is a change request's plan: what validating the head found and,
// when it is valid, the plan against the base.
type Result struct {
	Base, Head gitsource.Commit
	// Findings are the head's errors and warnings.
	Findings []diag.Finding
	Valid    bool
	Plan     *plan.Plan
}

// Plan validates head and plans it against base. An invalid base is an
// error (there is nothing to compare with); an invalid head is a Result
// that is not Valid, with its findings.
func Plan(ctx context.Context, repo *gitsource.Repo, v *validate.Validator, base, head gitsource.Commit) (Result, error) {
	out := Result{Base: base, Head: head}
	h, err := Load(ctx, repo, v, head.Hash, head)
	var inv *InvalidError
	if errors.As(err, &inv) {
		out.Findings = inv.Result.Findings
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("head %s: %w", head.Short(), err)
	}
	out.Findings, out.Valid = h.Result.Findings, true
	b, err := Load(ctx, repo, v, base.Hash, base)
	if err != nil {
		return out, fmt.Errorf("base %s: %w", base.Short(), err)
	}
	out.Plan, err = Compare(ctx, b, h)
	return out, err
}
