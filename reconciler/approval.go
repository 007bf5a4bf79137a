package reconciler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/plan"
)

// Gate judges a revision against its change policy before anything of it
// applies: the pull requests that brought its commits, their approvals,
// checks and change windows (package github implements it).
type Gate interface {
	Judge(ctx context.Context, r GateRequest) (GateVerdict, error)
}

// GateRequest is a revision as the gate sees it.
type GateRequest struct {
	// Commits are the commits the revision brings since the last applied
	// one, oldest first.
	Commits []gitsource.CommitInfo
	Policy  *v1.ChangePolicy
	// Risk is the plan's highest risk ("none", "low", "medium", "high");
	// Environments those the revision changes.
	Risk         string
	Environments []string
	Now          time.Time
}

// GateVerdict is the gate's answer.
type GateVerdict struct {
	Allowed bool
	// Missing says what the revision lacks (empty when only a window is
	// closed); WaitUntil is when a closed change window opens.
	Missing   []string
	WaitUntil time.Time
	Wait      string
	// Approvals are per commit hash: the pull request, its counted
	// approvers and its merger, for the audit records.
	Approvals map[string]Approval
}

// Approval is what the audit record of a commit carries.
type Approval struct {
	PullRequest int
	Approvers   []string
	Merger      string
}

// Reasons of the gate.
const (
	ReasonApprovalMissing = "ApprovalMissing"
	ReasonChangeWindow    = "ChangeWindowClosed"
	ReasonGateUnavailable = "GateUnavailable"
)

// judge asks the gate about the pass's revision. A refusal is a
// *StalledError judged again on every pass (approvals and checks can still
// arrive); a closed window a *WaitingError until it opens; GitHub not
// answering a *WaitingError.
func (r *Reconciler) judge(ctx context.Context, p *pass) error {
	if r.opts.Gate == nil || len(p.commits) == 0 {
		return nil
	}
	req := GateRequest{Commits: p.commits, Policy: p.rev.result.Policy, Now: r.opts.Clock.Now()}
	req.Risk, req.Environments = r.riskOf(ctx, p)
	v, err := r.opts.Gate.Judge(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return &WaitingError{Reason: ReasonGateUnavailable, RetryAfter: r.opts.WaitRetry,
			Err: fmt.Errorf("the approval gate could not read GitHub: %w", err)}
	}
	p.approvals = v.Approvals
	switch {
	case v.Allowed:
		return nil
	case len(v.Missing) > 0:
		return &StalledError{Reason: ReasonApprovalMissing, Retry: true,
			Err: errors.New("the change policy refuses the revision: " + joinSentences(v.Missing))}
	}
	return &WaitingError{Reason: ReasonChangeWindow, RetryAfter: max(time.Until(v.WaitUntil), time.Second),
		Err: errors.New(v.Wait)}
}

// riskOf plans the revision against the last applied one for the gate: its
// highest risk and the environments it changes (every environment of the
// head, at the highest risk, when there is nothing to compare with).
func (r *Reconciler) riskOf(ctx context.Context, p *pass) (string, []string) {
	base := r.baseline(ctx)
	var envs []string
	if base == nil || base.releases == nil {
		for _, a := range p.rev.result.Adapters {
			if !slices.Contains(envs, a.Metadata.Environment) {
				envs = append(envs, a.Metadata.Environment)
			}
		}
		return plan.RiskHigh.String(), envs
	}
	pl := plan.Compare(plan.Revision{Commit: base.commit, Result: base.result, Releases: base.releases},
		plan.Revision{Commit: p.head, Result: p.rev.result, Releases: p.rev.releases})
	for _, a := range pl.Adapters {
		if !slices.Contains(envs, a.Environment) {
			envs = append(envs, a.Environment)
		}
	}
	return pl.Risk.String(), envs
}

func joinSentences(s []string) string { return strings.Join(s, "; ") }
