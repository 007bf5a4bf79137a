package github

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Names cairn writes on pull requests.
const (
	// CommentMarker is the hidden line that identifies cairn's sticky
	// comment.
	CommentMarker = "<!-- cairn:pr-check -->"
	// ContextValidate and ContextPlan are the commit status contexts.
	ContextValidate = "cairn/validate"
	ContextPlan     = "cairn/plan"
	// LabelHighRisk marks pull requests whose plan has a high-risk change.
	LabelHighRisk = "cairn:high-risk"
	// CommentLimit is GitHub's limit on a comment body (65,536 characters;
	// counted here in bytes, which is never less).
	CommentLimit = 65536
	// statusDescriptionLimit is GitHub's limit on a status description.
	statusDescriptionLimit = 140
)

// ErrFork refuses to check a pull request from a fork with cairn's
// credentials.
var ErrFork = errors.New("fork: not checked (a pull request from a fork is never checked with cairn's credentials)")

// PRAPI is what PRCheck writes to GitHub. Client implements it.
type PRAPI interface {
	Comments(ctx context.Context, owner, repo string, number int) ([]Comment, error)
	CreateComment(ctx context.Context, owner, repo string, number int, body string) (Comment, error)
	EditComment(ctx context.Context, owner, repo string, id int64, body string) (Comment, error)
	SetStatus(ctx context.Context, owner, repo, sha string, s StatusUpdate) error
	Labels(ctx context.Context, owner, repo string, number int) ([]string, error)
	AddLabel(ctx context.Context, owner, repo string, number int, label string) error
	RemoveLabel(ctx context.Context, owner, repo string, number int, label string) error
}

// StatusUpdate is a commit status to set.
type StatusUpdate struct {
	// State is success, failure, error or pending.
	State       string
	Context     string
	Description string
	TargetURL   string
}

// Result is the outcome of one part of the check (validation or plan).
type Result struct {
	OK bool
	// Summary is one line for the commit status (cut to 140 characters).
	Summary string
	// Markdown is the body shown in the comment (findings, or the plan).
	Markdown string
}

// PRReport is what `cairn pr check` found for one pull request.
type PRReport struct {
	Owner, Repo string
	// PullRequest is the pull request as read from GitHub (Client.PullRequest
	// or ParsePullRequestEvent): its number, head commit and repositories.
	PullRequest PullRequest
	Validation  Result
	Plan        Result
	// Risk is the plan's highest risk; "high" sets LabelHighRisk.
	Risk string
	// TargetURL is linked from the statuses (optional).
	TargetURL string
}

// PRCheckResult is what PRCheck wrote.
type PRCheckResult struct {
	Comment Comment
	// Created is true when no earlier cairn comment existed.
	Created bool
	// Truncated is true when the plan (or the findings) were cut to fit.
	Truncated bool
}

// PRCheck posts or updates cairn's sticky comment, sets the statuses
// cairn/validate and cairn/plan on the head commit, and adds or removes
// LabelHighRisk. A fork's pull request is refused with ErrFork before any
// request. It tries all three writes and returns their errors joined.
func PRCheck(ctx context.Context, api PRAPI, r PRReport) (PRCheckResult, error) {
	pr := r.PullRequest
	if pr.Fork() {
		return PRCheckResult{}, ErrFork
	}
	if r.Owner == "" || r.Repo == "" || pr.Number <= 0 || pr.HeadSHA == "" {
		return PRCheckResult{}, errors.New("pr check: owner, repository, number and head commit are required")
	}
	body, truncated := commentBody(r)
	res, err := upsertComment(ctx, api, r, body)
	res.Truncated = truncated
	errs := []error{err, setStatuses(ctx, api, r), syncLabel(ctx, api, r)}
	return res, errors.Join(errs...)
}

// upsertComment edits cairn's earlier comment (the first one that starts
// with the marker; a reply quoting it does not) or creates one.
func upsertComment(ctx context.Context, api PRAPI, r PRReport, body string) (PRCheckResult, error) {
	n := r.PullRequest.Number
	comments, err := api.Comments(ctx, r.Owner, r.Repo, n)
	if err != nil {
		return PRCheckResult{}, fmt.Errorf("pr check: %w", err)
	}
	for _, c := range comments {
		if !strings.HasPrefix(c.Body, CommentMarker) {
			continue
		}
		if c.Body == body {
			return PRCheckResult{Comment: c}, nil
		}
		edited, err := api.EditComment(ctx, r.Owner, r.Repo, c.ID, body)
		if err != nil {
			return PRCheckResult{}, fmt.Errorf("pr check: %w", err)
		}
		return PRCheckResult{Comment: edited}, nil
	}
	created, err := api.CreateComment(ctx, r.Owner, r.Repo, n, body)
	if err != nil {
		return PRCheckResult{}, fmt.Errorf("pr check: %w", err)
	}
	return PRCheckResult{Comment: created, Created: true}, nil
}

func setStatuses(ctx context.Context, api PRAPI, r PRReport) error {
	var errs []error
	for _, s := range []struct {
		context string
		res     Result
	}{{ContextValidate, r.Validation}, {ContextPlan, r.Plan}} {
		state := "failure"
		if s.res.OK {
			state = "success"
		}
		u := StatusUpdate{State: state, Context: s.context, TargetURL: r.TargetURL,
			Description: cutRunes(oneLine(s.res.Summary), statusDescriptionLimit)}
		if err := api.SetStatus(ctx, r.Owner, r.Repo, r.PullRequest.HeadSHA, u); err != nil {
			errs = append(errs, fmt.Errorf("pr check: %w", err))
		}
	}
	return errors.Join(errs...)
}

func syncLabel(ctx context.Context, api PRAPI, r PRReport) error {
	n := r.PullRequest.Number
	labels, err := api.Labels(ctx, r.Owner, r.Repo, n)
	if err != nil {
		return fmt.Errorf("pr check: %w", err)
	}
	has := slices.Contains(labels, LabelHighRisk)
	switch high := r.Risk == "high"; {
	case high && !has:
		err = api.AddLabel(ctx, r.Owner, r.Repo, n, LabelHighRisk)
	case !high && has:
		err = api.RemoveLabel(ctx, r.Owner, r.Repo, n, LabelHighRisk)
	}
	if err != nil {
		return fmt.Errorf("pr check: %w", err)
	}
	return nil
}

// commentBody renders the sticky comment within CommentLimit, cutting the
// plan first and the findings only when they alone would not fit.
func commentBody(r PRReport) (string, bool) {
	head := commentHead(r)
	const vTitle, pTitle = "\n### Validation\n\n", "\n\n### Plan\n\n"
	v, p := r.Validation.Markdown, r.Plan.Markdown
	fixed := len(head) + len(vTitle) + len(pTitle)
	if fixed+len(v)+len(p) <= CommentLimit {
		return head + vTitle + v + pTitle + p, false
	}
	if fixed+len(v) > CommentLimit/2 {
		v = truncate(v, CommentLimit/2-fixed, "findings", "`cairn validate`")
	}
	p = truncate(p, CommentLimit-fixed-len(v), "plan", "`cairn plan`")
	return head + vTitle + v + pTitle + p, true
}

func commentHead(r PRReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n## cairn check of `%s`\n\n| check | result |\n|---|---|\n",
		CommentMarker, short(r.PullRequest.HeadSHA))
	for _, s := range []struct {
		name string
		res  Result
	}{{ContextValidate, r.Validation}, {ContextPlan, r.Plan}} {
		mark := "❌"
		if s.res.OK {
			mark = "✅"
		}
		fmt.Fprintf(&b, "| %s | %s %s |\n", s.name, mark, strings.ReplaceAll(oneLine(s.res.Summary), "|", `\|`))
	}
	if r.Risk != "" {
		fmt.Fprintf(&b, "\nHighest risk: **%s**\n", r.Risk)
	}
	return b.String()
}

// truncate cuts s to at most budget bytes at a line boundary, closes an
// open code fence, and says what was left out.
func truncate(s string, budget int, what, command string) string {
	note := fmt.Sprintf("\n\n> The %s was cut to fit GitHub's comment limit: %%d of %d bytes shown. Run %s for all of it.\n",
		what, len(s), command)
	keep := max(budget-len(note)-len("\n```")-16, 0)
	if keep >= len(s) {
		return s
	}
	cut := s[:keep]
	for !utf8.ValidString(cut) {
		cut = cut[:len(cut)-1]
	}
	if i := strings.LastIndexByte(cut, '\n'); i > 0 {
		cut = cut[:i]
	}
	if strings.Count(cut, "```")%2 == 1 {
		cut += "\n```"
	}
	return cut + fmt.Sprintf(note, len(cut))
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
