package github

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// needs is what one pull request must have, with the rule that asked for
// each extra requirement.
type needs struct {
	approvals int
	because   string // the rule that set the approval count, "" for the base
	teams     []named
	reviewers []named
}

// named is a team or a login and the rule that requires it.
type named struct{ name, because string }

// needs computes a unit's requirements: the base count, every path rule
// matching a file of its commits (or Request.Files), and the risk rules at
// or below the revision's risk. The highest count wins; teams and
// reviewers add up.
func (e *evaluator) needs(u *unit) needs {
	n := needs{approvals: e.spec.Approvals.RequiredApprovals()}
	files := e.files(u)
	for _, r := range e.spec.Paths {
		if !matchesAny(r.Pattern, files) {
			continue
		}
		why := "files matching " + r.Pattern
		n.raise(r.Approvals, why)
		n.teams = addNamed(n.teams, r.Teams, why)
		n.reviewers = addNamed(n.reviewers, r.Reviewers, why)
	}
	level, _ := riskLevel(e.req.Risk)
	if rk := e.spec.Risk; rk != nil {
		for _, rr := range []struct {
			level int
			name  string
			rule  *v1.RiskRule
		}{{2, "medium", rk.Medium}, {3, "high", rk.High}} {
			if rr.rule == nil || level < rr.level {
				continue
			}
			why := e.req.Risk + "-risk change"
			n.raise(rr.rule.Approvals, why)
			n.teams = addNamed(n.teams, rr.rule.Teams, why)
		}
	}
	return n
}

func (n *needs) raise(count *int, why string) {
	if count != nil && *count > n.approvals {
		n.approvals, n.because = *count, why
	}
}

func addNamed(list []named, names []string, why string) []named {
	for _, name := range names {
		if !slices.ContainsFunc(list, func(x named) bool { return strings.EqualFold(x.name, name) }) {
			list = append(list, named{name, why})
		}
	}
	return list
}

func (e *evaluator) files(u *unit) []string {
	files := slices.Clone(e.req.Files)
	for _, c := range u.commits {
		for _, f := range c.Files {
			files = append(files, f.Path)
			if f.From != "" {
				files = append(files, f.From)
			}
		}
	}
	return files
}

// matchesAny reports whether a path glob (* within a directory, ** across)
// matches one of files. A malformed pattern matches nothing; validation
// refuses it before the gate runs.
func matchesAny(pattern string, files []string) bool {
	for _, f := range files {
		if ok, err := doublestar.Match(pattern, f); err == nil && ok {
			return true
		}
	}
	return false
}

// tally is the reviews of a pull request after the policy's filters.
type tally struct {
	counted []string
	ignored []string // "login (why)"
	blocked []string // logins with changes requested
}

// approvals counts a merged pull request's approvals, records what it
// lacks, and returns the logins counted.
func (e *evaluator) approvals(ctx context.Context, pr PullRequest, n needs) ([]string, error) {
	reviews, err := e.api.Reviews(ctx, e.req.Owner, e.req.Repo, pr.Number)
	if err != nil {
		return nil, fmt.Errorf("gate: %w", err)
	}
	t, err := e.tally(ctx, pr, latestStates(reviews))
	if err != nil {
		return nil, err
	}
	e.judgeTally(pr, n, t)
	if err := e.judgeTeams(ctx, pr, n, t.counted); err != nil {
		return nil, err
	}
	e.judgeReviewers(pr, n, t.counted)
	return t.counted, nil
}

// latestStates keeps each user's last review that set a state (approved,
// changes requested or dismissed); comments and pending reviews change
// nothing, as on GitHub.
func latestStates(reviews []Review) []Review {
	sorted := slices.Clone(reviews)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if !a.SubmittedAt.Equal(b.SubmittedAt) {
			return a.SubmittedAt.Before(b.SubmittedAt)
		}
		return a.ID < b.ID
	})
	last := map[string]Review{}
	var order []string
	for _, r := range sorted {
		switch r.State {
		case ReviewApproved, ReviewChangesRequested, ReviewDismissed:
		default:
			continue
		}
		key := strings.ToLower(r.User)
		if _, ok := last[key]; !ok {
			order = append(order, key)
		}
		last[key] = r
	}
	out := make([]Review, 0, len(order))
	for _, k := range order {
		out = append(out, last[k])
	}
	return out
}

func (e *evaluator) tally(ctx context.Context, pr PullRequest, latest []Review) (tally, error) {
	var t tally
	for _, r := range latest {
		if r.User == "" || r.State == ReviewDismissed || strings.EqualFold(r.User, pr.Author) {
			if r.State == ReviewApproved {
				t.ignored = append(t.ignored, r.User+" (the author)")
			}
			continue
		}
		writer, err := e.writer(ctx, r.User)
		if err != nil {
			return tally{}, err
		}
		switch {
		case !writer:
			if r.State == ReviewApproved {
				t.ignored = append(t.ignored, r.User+" (no write permission)")
			}
		case r.State == ReviewChangesRequested:
			t.blocked = append(t.blocked, r.User)
		case e.spec.Approvals.OnlyFinalHead() && r.CommitID != pr.HeadSHA:
			t.ignored = append(t.ignored, fmt.Sprintf("%s (approved %s, not the final commit)", r.User, short(r.CommitID)))
		default:
			t.counted = append(t.counted, r.User)
		}
	}
	sort.Strings(t.counted)
	return t, nil
}

// writer reports whether a user's approval may count: with
// requireWritePermission, only admin, maintain or write.
func (e *evaluator) writer(ctx context.Context, user string) (bool, error) {
	if !e.spec.Approvals.OnlyWriters() {
		return true, nil
	}
	key := strings.ToLower(user)
	p, ok := e.perms[key]
	if !ok {
		var err error
		if p, err = e.api.Permission(ctx, e.req.Owner, e.req.Repo, user); err != nil {
			return false, fmt.Errorf("gate: %w", err)
		}
		e.perms[key] = p
	}
	return p == "admin" || p == "maintain" || p == "write", nil
}

func (e *evaluator) judgeTally(pr PullRequest, n needs, t tally) {
	if len(t.blocked) > 0 {
		e.miss(KindChangesRequested, pr.MergeCommitSHA, pr.Number,
			"pull request #%d has changes requested by %s; they must approve or their review must be dismissed",
			pr.Number, strings.Join(t.blocked, ", "))
	}
	if len(t.counted) >= n.approvals {
		return
	}
	msg := fmt.Sprintf("pull request #%d needs %s on its final commit %s", pr.Number,
		plural(n.approvals, "approval"), short(pr.HeadSHA))
	if n.because != "" {
		msg += " (for " + n.because + ")"
	}
	msg += fmt.Sprintf("; it has %d", len(t.counted))
	if len(t.counted) > 0 {
		msg += " (" + strings.Join(t.counted, ", ") + ")"
	}
	if len(t.ignored) > 0 {
		msg += "; not counted: " + strings.Join(t.ignored, ", ")
	}
	e.miss(KindApprovals, pr.MergeCommitSHA, pr.Number, "%s", msg)
}

func (e *evaluator) judgeTeams(ctx context.Context, pr PullRequest, n needs, approvers []string) error {
	for _, team := range n.teams {
		ok, err := e.anyMember(ctx, team.name, approvers)
		if err != nil {
			return err
		}
		if !ok {
			e.miss(KindTeam, pr.MergeCommitSHA, pr.Number,
				"pull request #%d needs an approval from a member of %s (for %s)", pr.Number, team.name, team.because)
		}
	}
	return nil
}

func (e *evaluator) anyMember(ctx context.Context, team string, users []string) (bool, error) {
	org, slug, ok := strings.Cut(team, "/")
	if !ok {
		return false, fmt.Errorf("gate: team %q is not organization/team", team)
	}
	for _, u := range users {
		key := strings.ToLower(team + " " + u)
		member, seen := e.teams[key]
		if !seen {
			var err error
			if member, err = e.api.TeamMember(ctx, org, slug, u); err != nil {
				return false, fmt.Errorf("gate: %w", err)
			}
			e.teams[key] = member
		}
		if member {
			return true, nil
		}
	}
	return false, nil
}

func (e *evaluator) judgeReviewers(pr PullRequest, n needs, approvers []string) {
	for _, r := range n.reviewers {
		if slices.ContainsFunc(approvers, func(a string) bool { return strings.EqualFold(a, r.name) }) {
			continue
		}
		note := ""
		if strings.EqualFold(r.name, pr.Author) {
			note = "; they authored it, and an author's approval never counts"
		}
		e.miss(KindReviewer, pr.MergeCommitSHA, pr.Number,
			"pull request #%d needs an approval from %s on its final commit %s (for %s)%s",
			pr.Number, r.name, short(pr.HeadSHA), r.because, note)
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
