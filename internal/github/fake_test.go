package github_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cairn-gitops/cairn/internal/github"
	"github.com/cairn-gitops/cairn/internal/gitsource"
)

// fakeAPI is a GateAPI made of function fields; a nil field answers
// nothing.
type fakeAPI struct {
	pulls     func(sha string) []github.PullRequest
	pull      func(n int) github.PullRequest
	reviews   func(n int) []github.Review
	perm      func(user string) string
	member    func(team, user string) bool
	runs      func(sha string) []github.CheckRun
	statuses  func(sha string) []github.Status
	verify    func(sha string) github.Verification
	failPulls error
}

var _ github.GateAPI = (*fakeAPI)(nil)

func (f *fakeAPI) PullRequestsForCommit(_ context.Context, _, _, sha string) ([]github.PullRequest, error) {
	if f.failPulls != nil {
		return nil, f.failPulls
	}
	return f.pulls(sha), nil
}

func (f *fakeAPI) PullRequest(_ context.Context, _, _ string, n int) (github.PullRequest, error) {
	return f.pull(n), nil
}

func (f *fakeAPI) Reviews(_ context.Context, _, _ string, n int) ([]github.Review, error) {
	return f.reviews(n), nil
}

func (f *fakeAPI) Permission(_ context.Context, _, _, user string) (string, error) {
	return f.perm(user), nil
}

func (f *fakeAPI) TeamMember(_ context.Context, org, team, user string) (bool, error) {
	return f.member(org+"/"+team, user), nil
}

func (f *fakeAPI) CheckRuns(_ context.Context, _, _, sha string) ([]github.CheckRun, error) {
	if f.runs == nil {
		return nil, nil
	}
	return f.runs(sha), nil
}

func (f *fakeAPI) Statuses(_ context.Context, _, _, sha string) ([]github.Status, error) {
	if f.statuses == nil {
		return nil, nil
	}
	return f.statuses(sha), nil
}

func (f *fakeAPI) Verification(_ context.Context, _, _, sha string) (github.Verification, error) {
	return f.verify(sha), nil
}

const (
	mergeSHA = "1111111111111111111111111111111111111111"
	headSHA  = "2222222222222222222222222222222222222222"
)

// mergedPR is pull request #7 by alice, merged by carol as mergeSHA, with
// the given reviewers' approvals on its head; everyone writes.
func mergedPR(approvers ...string) *fakeAPI {
	pr := github.PullRequest{Number: 7, Author: "alice", HeadSHA: headSHA, BaseRef: "main",
		BaseRepo: "acme/config", HeadRepo: "acme/config", Merged: true, MergeCommitSHA: mergeSHA, MergedBy: "carol"}
	return &fakeAPI{
		pulls: func(string) []github.PullRequest { return []github.PullRequest{pr} },
		pull:  func(int) github.PullRequest { return pr },
		reviews: func(int) []github.Review {
			var out []github.Review
			for i, a := range approvers {
				out = append(out, github.Review{ID: int64(i), User: a, State: github.ReviewApproved, CommitID: headSHA})
			}
			return out
		},
		perm:   func(string) string { return "write" },
		member: func(string, string) bool { return false },
	}
}

func gateRequest(spec string, t *testing.T, files ...string) github.Request {
	c := gitsource.CommitInfo{Commit: gitsource.Commit{Hash: mergeSHA, Message: "Merge"}}
	for _, f := range files {
		c.Files = append(c.Files, gitsource.FileChange{Path: f, Action: gitsource.ActionModify})
	}
	return github.Request{Owner: owner, Repo: repo, Branch: "main", Commits: []gitsource.CommitInfo{c},
		Policy: policy(t, spec), Now: saturday}
}

func TestGateRequiredReviewers(t *testing.T) {
	spec := `{"paths": [{"pattern": "lib/**", "reviewers": ["lead", "alice"]}]}`
	v, err := github.Evaluate(context.Background(), mergedPR("bob"), gateRequest(spec, t, "lib/fix.libsonnet"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := v.Messages()
	if len(msgs) != 2 || !strings.Contains(msgs[0], "needs an approval from lead on its final commit 2222222 (for files matching lib/**)") ||
		!strings.Contains(msgs[1], "they authored it") {
		t.Fatalf("missing = %q", msgs)
	}
	v, _ = github.Evaluate(context.Background(), mergedPR("bob"), gateRequest(spec, t, "adapters/dev/x.json"))
	if !v.Allowed {
		t.Fatalf("the rule applied to an unmatched file: %s", v.Reason())
	}
}

func TestGatePendingTeamMemberDoesNotCount(t *testing.T) {
	api := mergedPR("bob", "sam")
	api.member = func(team, user string) bool { return team == "acme/security" && user == "bob" }
	spec := `{"paths": [{"pattern": "security.json", "teams": ["acme/security", "acme/sre"]}]}`
	v, err := github.Evaluate(context.Background(), api, gateRequest(spec, t, "security.json"))
	if err != nil {
		t.Fatal(err)
	}
	if msgs := v.Messages(); len(msgs) != 1 || !strings.Contains(msgs[0], "a member of acme/sre") {
		t.Fatalf("missing = %q", msgs)
	}
}

func TestGateLocalSignatureCounts(t *testing.T) {
	req := gateRequest(`{"signatures": {"required": true, "allowedSigners": ["ops@acme.example"]}}`, t)
	req.Commits[0].Signature = gitsource.SignatureInfo{Kind: gitsource.SignaturePGP, Verified: true, Signer: "Ops <ops@acme.example>"}
	api := mergedPR("bob")
	api.verify = func(string) github.Verification {
		t.Fatal("asked GitHub about a verified signature")
		return github.Verification{}
	}
	if v, err := github.Evaluate(context.Background(), api, req); err != nil || !v.Allowed {
		t.Fatalf("verdict = %+v, %v", v, err)
	}
}

func TestGateReportsGitHubErrors(t *testing.T) {
	api := mergedPR()
	boom := errors.New("boom")
	api.failPulls = boom
	_, err := github.Evaluate(context.Background(), api, gateRequest(`{}`, t))
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap the API's", err)
	}
}

func TestGateIgnoresPullRequestsIntoOtherBranches(t *testing.T) {
	api := mergedPR("bob")
	pull := api.pull(7)
	pull.BaseRef = "release"
	api.pulls = func(string) []github.PullRequest { return []github.PullRequest{pull} }
	v, err := github.Evaluate(context.Background(), api, gateRequest(`{}`, t))
	if err != nil || v.Allowed || v.Missing[0].Kind != github.KindDirectPush {
		t.Fatalf("verdict = %+v, %v; want a direct push", v, err)
	}
}

func TestGateForkPullRequests(t *testing.T) {
	// A fork's pull request merged by a maintainer counts like any other.
	api := mergedPR("bob")
	pull := api.pull(7)
	pull.HeadRepo = "mallory/config"
	api.pull = func(int) github.PullRequest { return pull }
	api.pulls = func(string) []github.PullRequest { return []github.PullRequest{pull} }
	v, err := github.Evaluate(context.Background(), api, gateRequest(`{}`, t))
	if err != nil || !v.Allowed || v.Commits[0].PullRequest != 7 || v.Commits[0].Merger != "carol" {
		t.Fatalf("merged fork: %+v, %v", v, err)
	}

	// A fork's commit that reached the branch without the merge (its pull
	// request still open) is a direct push.
	pull.Merged, pull.MergeCommitSHA, pull.MergedBy, pull.State = false, "", "", "open"
	v, err = github.Evaluate(context.Background(), api, gateRequest(`{}`, t))
	if err != nil || v.Allowed || v.Missing[0].Kind != github.KindDirectPush {
		t.Fatalf("unmerged fork commit: %+v, %v", v, err)
	}
}
