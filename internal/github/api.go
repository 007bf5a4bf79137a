package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// PullRequest is what cairn reads of a pull request.
type PullRequest struct {
	Number int
	// Author is the login that opened it.
	Author string
	// HeadSHA is its head commit: after a merge, the final one reviewed.
	HeadSHA string
	HeadRef string
	// HeadRepo and BaseRepo are owner/name; HeadRepo is "" when the head
	// repository was deleted.
	HeadRepo string
	BaseRepo string
	BaseRef  string
	State    string
	// Merged is true once merged; MergedAt is zero before.
	Merged         bool
	MergedAt       time.Time
	MergeCommitSHA string
	// MergedBy is the login that merged it (read from the single pull
	// request, not from lists).
	MergedBy string
}

// Fork reports whether the head repository is not the base repository (or
// is gone): such a pull request's code is never checked with cairn's
// credentials.
func (p PullRequest) Fork() bool {
	return p.HeadRepo == "" || !strings.EqualFold(p.HeadRepo, p.BaseRepo)
}

// Review states as GitHub writes them.
const (
	ReviewApproved         = "APPROVED"
	ReviewChangesRequested = "CHANGES_REQUESTED"
	ReviewCommented        = "COMMENTED"
	ReviewDismissed        = "DISMISSED"
	ReviewPending          = "PENDING"
)

// Review is one submitted review of a pull request.
type Review struct {
	ID   int64
	User string
	// State is one of the Review* constants.
	State string
	// CommitID is the head commit the review was submitted on.
	CommitID    string
	SubmittedAt time.Time
}

// CheckRun is one check run on a commit.
type CheckRun struct {
	ID   int64
	Name string
	// Status is queued, in_progress or completed; Conclusion (success,
	// failure, neutral, ...) is set once completed.
	Status     string
	Conclusion string
}

// Status is the latest commit status of one context.
type Status struct {
	Context string
	// State is success, pending, failure or error.
	State       string
	Description string
}

// Verification is GitHub's verdict on a commit's signature.
type Verification struct {
	Verified bool
	// Reason is GitHub's reason code (valid, unsigned, unknown_key, ...).
	Reason string
}

// Comment is an issue (pull request conversation) comment.
type Comment struct {
	ID      int64
	User    string
	Body    string
	HTMLURL string
}

const perPage = 100

// PullRequestsForCommit lists the pull requests associated with a commit
// (GET /repos/{owner}/{repo}/commits/{sha}/pulls).
func (c *Client) PullRequestsForCommit(ctx context.Context, owner, repo, sha string) ([]PullRequest, error) {
	var out []PullRequest
	opts := &gh.ListOptions{PerPage: perPage}
	for {
		prs, resp, err := c.gh.PullRequests.ListPullRequestsWithCommit(ctx, owner, repo, sha, opts)
		if err != nil {
			return nil, fmt.Errorf("pull requests of commit %s: %w", short(sha), err)
		}
		for _, p := range prs {
			out = append(out, pullRequest(p))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// PullRequest reads one pull request (GET /repos/{owner}/{repo}/pulls/{n}).
func (c *Client) PullRequest(ctx context.Context, owner, repo string, number int) (PullRequest, error) {
	p, _, err := c.gh.PullRequests.Get(ctx, owner, repo, number)
	if err != nil {
		return PullRequest{}, fmt.Errorf("pull request #%d: %w", number, err)
	}
	return pullRequest(p), nil
}

func pullRequest(p *gh.PullRequest) PullRequest {
	out := PullRequest{
		Number: p.GetNumber(), Author: p.GetUser().GetLogin(), State: p.GetState(),
		HeadSHA: p.GetHead().GetSHA(), HeadRef: p.GetHead().GetRef(),
		HeadRepo: p.GetHead().GetRepo().GetFullName(),
		BaseRef:  p.GetBase().GetRef(), BaseRepo: p.GetBase().GetRepo().GetFullName(),
		MergeCommitSHA: p.GetMergeCommitSHA(), MergedBy: p.GetMergedBy().GetLogin(),
		MergedAt: p.GetMergedAt().Time,
	}
	out.Merged = p.GetMerged() || !out.MergedAt.IsZero()
	return out
}

// Reviews lists every review of a pull request, oldest first
// (GET /repos/{owner}/{repo}/pulls/{n}/reviews).
func (c *Client) Reviews(ctx context.Context, owner, repo string, number int) ([]Review, error) {
	var out []Review
	opts := &gh.ListOptions{PerPage: perPage}
	for {
		rs, resp, err := c.gh.PullRequests.ListReviews(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("reviews of pull request #%d: %w", number, err)
		}
		for _, r := range rs {
			out = append(out, Review{ID: r.GetID(), User: r.GetUser().GetLogin(), State: r.GetState(),
				CommitID: r.GetCommitID(), SubmittedAt: r.GetSubmittedAt().Time})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// Permission returns a user's permission on the repository as GitHub's
// permission field gives it: admin, write (which includes maintain), read
// (which includes triage) or none
// (GET /repos/{owner}/{repo}/collaborators/{user}/permission).
func (c *Client) Permission(ctx context.Context, owner, repo, user string) (string, error) {
	p, _, err := c.gh.Repositories.GetPermissionLevel(ctx, owner, repo, user)
	if notFound(err) {
		return "none", nil
	}
	if err != nil {
		return "", fmt.Errorf("permission of %s: %w", user, err)
	}
	return p.GetPermission(), nil
}

// TeamMember reports whether user is an active member of org/team
// (GET /orgs/{org}/teams/{team}/memberships/{user}; the token needs
// read:org, the App members:read).
func (c *Client) TeamMember(ctx context.Context, org, team, user string) (bool, error) {
	m, _, err := c.gh.Teams.GetTeamMembershipBySlug(ctx, org, team, user)
	if notFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("membership of %s in %s/%s: %w", user, org, team, err)
	}
	return m.GetState() == "active", nil
}

// CheckRuns lists the latest check runs on a commit
// (GET /repos/{owner}/{repo}/commits/{sha}/check-runs).
func (c *Client) CheckRuns(ctx context.Context, owner, repo, sha string) ([]CheckRun, error) {
	var out []CheckRun
	opts := &gh.ListCheckRunsOptions{ListOptions: gh.ListOptions{PerPage: perPage}}
	for {
		res, resp, err := c.gh.Checks.ListCheckRunsForRef(ctx, owner, repo, sha, opts)
		if err != nil {
			return nil, fmt.Errorf("check runs of %s: %w", short(sha), err)
		}
		for _, r := range res.CheckRuns {
			out = append(out, CheckRun{ID: r.GetID(), Name: r.GetName(), Status: r.GetStatus(),
				Conclusion: r.GetConclusion()})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// Statuses lists the latest status of each context on a commit
// (GET /repos/{owner}/{repo}/commits/{sha}/status).
func (c *Client) Statuses(ctx context.Context, owner, repo, sha string) ([]Status, error) {
	var out []Status
	opts := &gh.ListOptions{PerPage: perPage}
	for {
		cs, resp, err := c.gh.Repositories.GetCombinedStatus(ctx, owner, repo, sha, opts)
		if err != nil {
			return nil, fmt.Errorf("statuses of %s: %w", short(sha), err)
		}
		for _, s := range cs.Statuses {
			out = append(out, Status{Context: s.GetContext(), State: s.GetState(), Description: s.GetDescription()})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// Verification reads GitHub's verdict on a commit's signature
// (GET /repos/{owner}/{repo}/commits/{sha}).
func (c *Client) Verification(ctx context.Context, owner, repo, sha string) (Verification, error) {
	rc, _, err := c.gh.Repositories.GetCommit(ctx, owner, repo, sha, &gh.ListOptions{PerPage: 1})
	if err != nil {
		return Verification{}, fmt.Errorf("commit %s: %w", short(sha), err)
	}
	v := rc.GetCommit().GetVerification()
	return Verification{Verified: v.GetVerified(), Reason: v.GetReason()}, nil
}

// Comments lists a pull request's conversation comments, oldest first
// (GET /repos/{owner}/{repo}/issues/{n}/comments).
func (c *Client) Comments(ctx context.Context, owner, repo string, number int) ([]Comment, error) {
	var out []Comment
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: perPage}}
	for {
		cs, resp, err := c.gh.Issues.ListComments(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("comments of #%d: %w", number, err)
		}
		for _, cm := range cs {
			out = append(out, comment(cm))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

func comment(c *gh.IssueComment) Comment {
	return Comment{ID: c.GetID(), User: c.GetUser().GetLogin(), Body: c.GetBody(), HTMLURL: c.GetHTMLURL()}
}

// CreateComment adds a comment to a pull request's conversation.
func (c *Client) CreateComment(ctx context.Context, owner, repo string, number int, body string) (Comment, error) {
	cm, _, err := c.gh.Issues.CreateComment(ctx, owner, repo, number, &gh.IssueComment{Body: &body})
	if err != nil {
		return Comment{}, fmt.Errorf("comment on #%d: %w", number, err)
	}
	return comment(cm), nil
}

// EditComment replaces a comment's body.
func (c *Client) EditComment(ctx context.Context, owner, repo string, id int64, body string) (Comment, error) {
	cm, _, err := c.gh.Issues.EditComment(ctx, owner, repo, id, &gh.IssueComment{Body: &body})
	if err != nil {
		return Comment{}, fmt.Errorf("edit comment %d: %w", id, err)
	}
	return comment(cm), nil
}

// SetStatus sets a commit status (POST /repos/{owner}/{repo}/statuses/{sha}).
func (c *Client) SetStatus(ctx context.Context, owner, repo, sha string, s StatusUpdate) error {
	_, _, err := c.gh.Repositories.CreateStatus(ctx, owner, repo, sha, &gh.RepoStatus{
		State: &s.State, Context: &s.Context, Description: &s.Description, TargetURL: nilIfEmpty(s.TargetURL),
	})
	if err != nil {
		return fmt.Errorf("status %s on %s: %w", s.Context, short(sha), err)
	}
	return nil
}

// Labels lists the labels of a pull request.
func (c *Client) Labels(ctx context.Context, owner, repo string, number int) ([]string, error) {
	var out []string
	opts := &gh.ListOptions{PerPage: perPage}
	for {
		ls, resp, err := c.gh.Issues.ListLabelsByIssue(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("labels of #%d: %w", number, err)
		}
		for _, l := range ls {
			out = append(out, l.GetName())
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// AddLabel adds a label to a pull request (GitHub creates a missing label).
func (c *Client) AddLabel(ctx context.Context, owner, repo string, number int, label string) error {
	if _, _, err := c.gh.Issues.AddLabelsToIssue(ctx, owner, repo, number, []string{label}); err != nil {
		return fmt.Errorf("add label %s to #%d: %w", label, number, err)
	}
	return nil
}

// RemoveLabel removes a label from a pull request; a label it does not
// carry is not an error.
func (c *Client) RemoveLabel(ctx context.Context, owner, repo string, number int, label string) error {
	_, err := c.gh.Issues.RemoveLabelForIssue(ctx, owner, repo, number, label)
	if err != nil && !notFound(err) {
		return fmt.Errorf("remove label %s from #%d: %w", label, number, err)
	}
	return nil
}

func notFound(err error) bool {
	var e *gh.ErrorResponse
	return errors.As(err, &e) && e.Response != nil && e.Response.StatusCode == http.StatusNotFound
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
