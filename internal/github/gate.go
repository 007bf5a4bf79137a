package github

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/gitsource"
)

// GateAPI is what the gate reads from GitHub. Client implements it; tests
// use fakes.
type GateAPI interface {
	PullRequestsForCommit(ctx context.Context, owner, repo, sha string) ([]PullRequest, error)
	PullRequest(ctx context.Context, owner, repo string, number int) (PullRequest, error)
	Reviews(ctx context.Context, owner, repo string, number int) ([]Review, error)
	Permission(ctx context.Context, owner, repo, user string) (string, error)
	TeamMember(ctx context.Context, org, team, user string) (bool, error)
	CheckRuns(ctx context.Context, owner, repo, sha string) ([]CheckRun, error)
	Statuses(ctx context.Context, owner, repo, sha string) ([]Status, error)
	Verification(ctx context.Context, owner, repo, sha string) (Verification, error)
}

// Request is one revision for the gate to judge.
type Request struct {
	// Owner and Repo name the config repository on GitHub.
	Owner, Repo string
	// Branch is the followed branch: only pull requests merged into it count.
	Branch string
	// Commits are what the revision brings: first-parent from the last
	// applied revision, oldest first, with their files
	// (gitsource.Repo.Commits).
	Commits []gitsource.CommitInfo
	// Policy is policy.json at the new revision; nil means the defaults
	// (one approval, on the final head, by a writer).
	Policy *v1.ChangePolicy
	// Risk is the plan's highest risk: "none", "low", "medium" or "high"
	// ("" is "none"). The risk rules apply to every pull request of the
	// revision, since the plan is per revision.
	Risk string
	// Environments are those the revision changes; their change windows
	// apply.
	Environments []string
	// Files are extra paths the path rules match for every pull request,
	// besides the files of its own commits (optional).
	Files []string
	// Now is the time the windows are judged at.
	Now time.Time
}

// Kinds of Requirement.
const (
	KindDirectPush       = "direct-push"
	KindApprovals        = "approvals"
	KindChangesRequested = "changes-requested"
	KindTeam             = "team"
	KindReviewer         = "reviewer"
	KindCheck            = "check"
	KindSignature        = "signature"
	KindWindow           = "window"
)

// Requirement is one thing a revision lacks.
type Requirement struct {
	// Kind is one of the Kind* constants.
	Kind string
	// Commit is the commit concerned (full hash).
	Commit string
	// PullRequest is the pull request concerned, 0 for none.
	PullRequest int
	// Message says what is missing, for the status and the audit trail.
	Message string
}

func (r Requirement) String() string { return r.Message }

// Wait says the revision is otherwise allowed but a change window is
// closed: retry at Until.
type Wait struct {
	Until time.Time
	// Environments are the closed ones.
	Environments []string
	Message      string
}

// CommitApproval is what the audit record of a commit carries.
type CommitApproval struct {
	Commit string
	// PullRequest is 0 for a direct push.
	PullRequest int
	// Approvers are the logins whose approvals counted, sorted.
	Approvers  []string
	Merger     string
	DirectPush bool
}

// Verdict is the gate's answer for a revision.
type Verdict struct {
	// Allowed is true when nothing is missing and no window is closed.
	Allowed bool
	// Missing is what the revision lacks; the reconciler refuses it (and
	// judges it again on the next pass: a late approval or a check that
	// finishes can still satisfy it).
	Missing []Requirement
	// Wait is set when a change window is closed.
	Wait *Wait
	// Commits are per commit, in the request's order.
	Commits []CommitApproval
}

// Reason joins what is missing (and the wait) in one line.
func (v Verdict) Reason() string {
	var parts []string
	for _, m := range v.Missing {
		parts = append(parts, m.Message)
	}
	if v.Wait != nil {
		parts = append(parts, v.Wait.Message)
	}
	return strings.Join(parts, "; ")
}

// Approval returns the CommitApproval of a commit, if the verdict has one.
func (v Verdict) Approval(commit string) (CommitApproval, bool) {
	for _, c := range v.Commits {
		if c.Commit == commit {
			return c, true
		}
	}
	return CommitApproval{}, false
}

// Evaluate judges a revision against its change policy, reading pull
// requests, reviews, permissions, teams and checks through api. It returns
// an error only when GitHub could not be read (a *RateLimitError among
// them); a revision that falls short is a Verdict with Missing set.
func Evaluate(ctx context.Context, api GateAPI, req Request) (Verdict, error) {
	if err := req.check(); err != nil {
		return Verdict{}, err
	}
	e := newEvaluator(api, req)
	units, err := e.group(ctx)
	if err != nil {
		return Verdict{}, err
	}
	for _, u := range units {
		if err := e.judge(ctx, u); err != nil {
			return Verdict{}, err
		}
	}
	if err := e.signatures(ctx); err != nil {
		return Verdict{}, err
	}
	wait, missing := windowWait(e.spec.Windows, req.Environments, req.Now)
	e.missing = append(e.missing, missing...)
	v := Verdict{Missing: e.missing, Wait: wait, Commits: e.commitApprovals()}
	v.Allowed = len(v.Missing) == 0 && v.Wait == nil
	return v, nil
}

func (r Request) check() error {
	if r.Owner == "" || r.Repo == "" || r.Branch == "" {
		return errors.New("gate: owner, repository and branch are required")
	}
	if _, ok := riskLevel(r.Risk); !ok {
		return fmt.Errorf("gate: unknown risk %q", r.Risk)
	}
	if r.Now.IsZero() && len(r.Environments) > 0 {
		return errors.New("gate: the time to judge change windows at is required")
	}
	return nil
}

func riskLevel(r string) (int, bool) {
	i := slices.Index([]string{"none", "low", "medium", "high"}, r)
	if r == "" {
		i = 0
	}
	return i, i >= 0
}

// unit is the commits one pull request brought (or one directly pushed
// commit, with pr nil).
type unit struct {
	pr      *PullRequest
	commits []gitsource.CommitInfo
}

// evaluator holds one evaluation's state and memoized lookups.
type evaluator struct {
	api     GateAPI
	req     Request
	spec    v1.ChangePolicySpec
	missing []Requirement
	perms   map[string]string
	teams   map[string]bool
	byHash  map[string]CommitApproval
}

func newEvaluator(api GateAPI, req Request) *evaluator {
	e := &evaluator{api: api, req: req, perms: map[string]string{}, teams: map[string]bool{},
		byHash: map[string]CommitApproval{}}
	if req.Policy != nil {
		e.spec = req.Policy.Spec
	}
	return e
}

func (e *evaluator) miss(kind, commit string, pr int, format string, args ...any) {
	e.missing = append(e.missing, Requirement{Kind: kind, Commit: commit, PullRequest: pr,
		Message: fmt.Sprintf(format, args...)})
}

func (e *evaluator) commitApprovals() []CommitApproval {
	out := make([]CommitApproval, 0, len(e.req.Commits))
	for _, c := range e.req.Commits {
		if a, ok := e.byHash[c.Hash]; ok {
			out = append(out, a)
		}
	}
	return out
}

// group assigns each commit to the merged pull request that brought it.
// A commit is brought by a pull request merged into the branch whose merge
// commit is that commit (merge or squash), or a later commit of the same
// revision (the earlier commits of a rebase merge).
func (e *evaluator) group(ctx context.Context) ([]*unit, error) {
	later := map[string]int{}
	for i, c := range e.req.Commits {
		later[c.Hash] = i
	}
	var units []*unit
	byPR := map[int]*unit{}
	for i, c := range e.req.Commits {
		pr, err := e.mergedPR(ctx, c.Hash, i, later)
		if err != nil {
			return nil, err
		}
		if pr == nil {
			units = append(units, &unit{commits: []gitsource.CommitInfo{c}})
			continue
		}
		u, ok := byPR[pr.Number]
		if !ok {
			u = &unit{pr: pr}
			byPR[pr.Number] = u
			units = append(units, u)
		}
		u.commits = append(u.commits, c)
	}
	return units, nil
}

func (e *evaluator) mergedPR(ctx context.Context, sha string, idx int, index map[string]int) (*PullRequest, error) {
	prs, err := e.api.PullRequestsForCommit(ctx, e.req.Owner, e.req.Repo, sha)
	if err != nil {
		return nil, fmt.Errorf("gate: %w", err)
	}
	var rebased *PullRequest
	for i := range prs {
		p := &prs[i]
		if !p.Merged || p.BaseRef != e.req.Branch || !e.sameRepo(p.BaseRepo) {
			continue
		}
		if p.MergeCommitSHA == sha {
			return p, nil
		}
		if j, ok := index[p.MergeCommitSHA]; ok && j > idx && rebased == nil {
			rebased = p
		}
	}
	return rebased, nil
}

func (e *evaluator) sameRepo(full string) bool {
	return full == "" || strings.EqualFold(full, e.req.Owner+"/"+e.req.Repo)
}

// judge checks one unit and records its commits' approvals.
func (e *evaluator) judge(ctx context.Context, u *unit) error {
	if u.pr == nil {
		return e.directPush(ctx, u.commits[0])
	}
	pr, err := e.api.PullRequest(ctx, e.req.Owner, e.req.Repo, u.pr.Number)
	if err != nil {
		return fmt.Errorf("gate: %w", err)
	}
	if pr.MergeCommitSHA == "" {
		pr.MergeCommitSHA = u.pr.MergeCommitSHA
	}
	approvers, err := e.approvals(ctx, pr, e.needs(u))
	if err != nil {
		return err
	}
	if err := e.checks(ctx, pr.MergeCommitSHA, pr.HeadSHA, pr.Number); err != nil {
		return err
	}
	for _, c := range u.commits {
		e.byHash[c.Hash] = CommitApproval{Commit: c.Hash, PullRequest: pr.Number,
			Approvers: approvers, Merger: pr.MergedBy}
	}
	return nil
}

func (e *evaluator) directPush(ctx context.Context, c gitsource.CommitInfo) error {
	e.byHash[c.Hash] = CommitApproval{Commit: c.Hash, DirectPush: true}
	if !e.spec.DirectPush.IsAllowed() {
		e.miss(KindDirectPush, c.Hash, 0,
			"commit %s (%q) reached %s without a merged pull request; direct pushes are not allowed",
			short(c.Hash), c.Subject(), e.req.Branch)
		return nil
	}
	return e.checks(ctx, c.Hash, "", 0)
}

// Gate binds Evaluate to one repository and branch, for a reconciler that
// follows them.
type Gate struct {
	API                 GateAPI
	Owner, Repo, Branch string
}

// Evaluate judges req with the Gate's repository and branch filled in.
func (g Gate) Evaluate(ctx context.Context, req Request) (Verdict, error) {
	req.Owner, req.Repo, req.Branch = g.Owner, g.Repo, g.Branch
	return Evaluate(ctx, g.API, req)
}

// Messages lists what is missing, one sentence each.
func (v Verdict) Messages() []string {
	out := make([]string, 0, len(v.Missing))
	for _, m := range v.Missing {
		out = append(out, m.Message)
	}
	return out
}
