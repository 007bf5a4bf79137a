package github_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/github"
	"github.com/cairn-gitops/cairn/internal/github/githubtest"
	"github.com/cairn-gitops/cairn/internal/gittest"
)

const onePerWriter = `{"approvals": {"required": 1}}`

var adapterChange = map[string]string{"adapters/dev/lse.json": `{"spec": {"replicas": 2}}` + "\n"}

// approved sets up the common case: alice's change approved by bob (a
// writer) on its final commit and merged by carol.
func approved(t *testing.T, files map[string]string) (*scenario, *change, string) {
	s := newScenario(t, githubtest.Options{})
	c := s.open("alice", files)
	s.srv.SetPermission(owner, repo, "bob", "write")
	s.srv.AddReview(owner, repo, c.number, "bob", github.ReviewApproved, c.head)
	return s, c, s.merge(c, "carol")
}

func TestGateApprovedPullRequestApplies(t *testing.T) {
	s, c, merge := approved(t, adapterChange)
	v := s.evaluate(policy(t, onePerWriter), "low", []string{"dev"}, saturday)
	if !v.Allowed || len(v.Missing) > 0 || v.Wait != nil {
		t.Fatalf("verdict = %+v, want allowed", v)
	}
	a, ok := v.Approval(merge)
	if !ok || a.PullRequest != c.number || !slices.Equal(a.Approvers, []string{"bob"}) || a.Merger != "carol" || a.DirectPush {
		t.Fatalf("approval of the merge commit = %+v, want #%d by bob merged by carol", a, c.number)
	}
}

func TestGateStaleApprovalDoesNotCount(t *testing.T) {
	s := newScenario(t, githubtest.Options{})
	c := s.open("alice", adapterChange)
	first := c.head
	s.srv.SetPermission(owner, repo, "bob", "write")
	s.srv.AddReview(owner, repo, c.number, "bob", github.ReviewApproved, first)
	s.push(c, map[string]string{"adapters/dev/lse.json": `{"spec": {"replicas": 3}}` + "\n"})
	s.merge(c, "carol")

	v := s.evaluate(policy(t, onePerWriter), "low", nil, saturday)
	if v.Allowed || !slices.Equal(kinds(v), []string{github.KindApprovals}) {
		t.Fatalf("verdict = %+v, want refused for approvals", v)
	}
	msg := v.Missing[0].Message
	for _, want := range []string{"needs 1 approval on its final commit " + c.head[:7], "it has 0", "bob (approved " + first[:7]} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}

	// With dismissStale off, the earlier approval counts.
	v = s.evaluate(policy(t, `{"approvals": {"required": 1, "dismissStale": false}}`), "low", nil, saturday)
	if !v.Allowed {
		t.Fatalf("with dismissStale false: %v", v.Reason())
	}
}

func TestGateSelfApprovalDoesNotCount(t *testing.T) {
	s := newScenario(t, githubtest.Options{})
	c := s.open("alice", adapterChange)
	s.srv.SetPermission(owner, repo, "alice", "admin")
	s.srv.AddReview(owner, repo, c.number, "alice", github.ReviewApproved, c.head)
	s.merge(c, "alice")

	v := s.evaluate(policy(t, `{"approvals": {"required": 1, "requireWritePermission": false}}`), "low", nil, saturday)
	if v.Allowed || !strings.Contains(v.Reason(), "alice (the author)") {
		t.Fatalf("verdict = %q, want the author's approval not counted", v.Reason())
	}
}

func TestGateReadOnlyApprovalDoesNotCount(t *testing.T) {
	s := newScenario(t, githubtest.Options{})
	c := s.open("alice", adapterChange)
	s.srv.SetPermission(owner, repo, "dave", "triage")
	s.srv.SetPermission(owner, repo, "erin", "maintain")
	s.srv.AddReview(owner, repo, c.number, "dave", github.ReviewApproved, c.head)
	s.merge(c, "carol")

	v := s.evaluate(policy(t, onePerWriter), "low", nil, saturday)
	if v.Allowed || !strings.Contains(v.Reason(), "dave (no write permission)") {
		t.Fatalf("verdict = %q, want dave's approval not counted", v.Reason())
	}

	s.srv.AddReview(owner, repo, c.number, "erin", github.ReviewApproved, c.head) // maintain is write
	if v = s.evaluate(policy(t, onePerWriter), "low", nil, saturday); !v.Allowed {
		t.Fatalf("with a maintainer's approval: %s", v.Reason())
	}
}

func TestGateDirectPushIsRefused(t *testing.T) {
	s := newScenario(t, githubtest.Options{})
	s.g.Write("adapters/dev/lse.json", "{}\n")
	pushed := s.g.Commit("hotfix straight to main")

	v := s.evaluate(policy(t, onePerWriter), "low", nil, saturday)
	if v.Allowed || !slices.Equal(kinds(v), []string{github.KindDirectPush}) ||
		!strings.Contains(v.Missing[0].Message, pushed[:7]) || !strings.Contains(v.Missing[0].Message, "hotfix straight to main") {
		t.Fatalf("verdict = %+v, want a refused direct push", v)
	}
	if a, _ := v.Approval(pushed); !a.DirectPush || a.PullRequest != 0 {
		t.Fatalf("approval = %+v, want a direct push", a)
	}

	v = s.evaluate(policy(t, `{"directPush": {"allowed": true}}`), "low", nil, saturday)
	if !v.Allowed {
		t.Fatalf("with directPush allowed: %s", v.Reason())
	}
}

func TestGateSecurityChangeWaitsForSecondApproval(t *testing.T) {
	p := policy(t, `{"approvals": {"required": 1},
		"paths": [{"pattern": "security.json", "approvals": 2, "teams": ["acme/security"]}]}`)
	s, c, _ := approved(t, map[string]string{"security.json": `{"spec": {}}` + "\n"})
	s.srv.AddTeamMember("acme/security", "sam", false)

	v := s.evaluate(p, "low", nil, saturday)
	if v.Allowed || !slices.Equal(kinds(v), []string{github.KindApprovals, github.KindTeam}) {
		t.Fatalf("verdict = %+v, want approvals and team missing", v)
	}
	want := "pull request #1 needs 2 approvals on its final commit " + c.head[:7] + " (for files matching security.json); it has 1 (bob)"
	if v.Missing[0].Message != want {
		t.Errorf("message = %q\nwant      %q", v.Missing[0].Message, want)
	}

	// The second approval arrives after the merge: the next pass applies.
	s.srv.SetPermission(owner, repo, "sam", "write")
	s.srv.AddReview(owner, repo, c.number, "sam", github.ReviewApproved, c.head)
	v = s.evaluate(p, "low", nil, saturday)
	if !v.Allowed {
		t.Fatalf("after the second approval: %s", v.Reason())
	}
	if a := v.Commits[0]; !slices.Equal(a.Approvers, []string{"bob", "sam"}) {
		t.Fatalf("approvers = %v", a.Approvers)
	}
}

func TestGateHighRiskNeedsRiskRule(t *testing.T) {
	p := policy(t, `{"risk": {"high": {"approvals": 2}, "medium": {"approvals": 1, "teams": ["acme/platform"]}}}`)
	s, _, _ := approved(t, adapterChange)
	s.srv.AddTeamMember("acme/platform", "bob", false)

	if v := s.evaluate(p, "medium", nil, saturday); !v.Allowed {
		t.Fatalf("medium risk: %s", v.Reason())
	}
	v := s.evaluate(p, "high", nil, saturday)
	if v.Allowed || !slices.Equal(kinds(v), []string{github.KindApprovals}) ||
		!strings.Contains(v.Reason(), "needs 2 approvals") || !strings.Contains(v.Reason(), "high-risk change") {
		t.Fatalf("high risk: %+v", v)
	}
}

func TestGateChangesRequestedBlocks(t *testing.T) {
	s := newScenario(t, githubtest.Options{})
	c := s.open("alice", adapterChange)
	for _, u := range []string{"bob", "carol", "frank"} {
		s.srv.SetPermission(owner, repo, u, "write")
	}
	s.srv.AddReview(owner, repo, c.number, "frank", github.ReviewApproved, c.head)
	s.srv.AddReview(owner, repo, c.number, "bob", github.ReviewApproved, c.head)
	s.srv.AddReview(owner, repo, c.number, "carol", github.ReviewChangesRequested, c.head)
	s.srv.AddReview(owner, repo, c.number, "carol", github.ReviewCommented, c.head) // a comment changes nothing
	s.merge(c, "frank")

	v := s.evaluate(policy(t, onePerWriter), "low", nil, saturday)
	if v.Allowed || !slices.Equal(kinds(v), []string{github.KindChangesRequested}) ||
		!strings.Contains(v.Reason(), "changes requested by carol") {
		t.Fatalf("verdict = %+v, want blocked by carol", v)
	}
	s.srv.AddReview(owner, repo, c.number, "carol", github.ReviewApproved, c.head)
	if v = s.evaluate(policy(t, onePerWriter), "low", nil, saturday); !v.Allowed {
		t.Fatalf("after carol approves: %s", v.Reason())
	}
}

func TestGateRequiredChecks(t *testing.T) {
	p := policy(t, `{"checks": {"required": ["ci/test", "cairn/validate"]}}`)
	s, c, merge := approved(t, adapterChange)

	v := s.evaluate(p, "low", nil, saturday)
	if v.Allowed || !slices.Equal(kinds(v), []string{github.KindCheck, github.KindCheck}) {
		t.Fatalf("no checks: %+v", v)
	}

	s.srv.AddCheckRun(owner, repo, merge, "ci/test", "completed", "failure")
	s.srv.AddStatus(owner, repo, c.head, "cairn/validate", "success", "cairn-bot") // on the PR head
	v = s.evaluate(p, "low", nil, saturday)
	if v.Allowed || !strings.Contains(v.Reason(), "required check ci/test did not succeed on commit "+merge[:7]+" (failure)") {
		t.Fatalf("failed check: %q", v.Reason())
	}

	s.srv.AddCheckRun(owner, repo, merge, "ci/test", "in_progress", "") // the re-run
	if v = s.evaluate(p, "low", nil, saturday); !strings.Contains(v.Reason(), "ci/test is still in progress") {
		t.Fatalf("running check: %q", v.Reason())
	}

	s.srv.AddCheckRun(owner, repo, merge, "ci/test", "completed", "success")
	if v = s.evaluate(p, "low", nil, saturday); !v.Allowed {
		t.Fatalf("green checks: %s", v.Reason())
	}

	s.srv.AddStatus(owner, repo, merge, "cairn/validate", "failure", "cairn-bot") // the merge commit decides
	if v = s.evaluate(p, "low", nil, saturday); v.Allowed {
		t.Fatal("a failed status on the merge commit was overridden by the head's")
	}
}

func TestGateClosedWindowWaitsThenAllows(t *testing.T) {
	p := policy(t, `{"windows": {"prod": {"timezone": "Europe/London",
		"deny": [{"days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "start": "07:00", "end": "17:30"}]}}}`)
	s, _, _ := approved(t, map[string]string{"adapters/prod/lse.json": "{}\n"})
	monday := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC) // 09:00 in London

	v := s.evaluate(p, "low", []string{"prod"}, monday)
	if v.Allowed || len(v.Missing) > 0 || v.Wait == nil {
		t.Fatalf("verdict = %+v, want a wait", v)
	}
	if want := time.Date(2026, 1, 5, 17, 30, 0, 0, time.UTC); !v.Wait.Until.Equal(want) {
		t.Fatalf("wait until %v, want %v", v.Wait.Until, want)
	}
	if want := "the change window of prod is closed until Mon 2026-01-05 17:30 GMT"; v.Wait.Message != want {
		t.Errorf("message = %q, want %q", v.Wait.Message, want)
	}
	if v := s.evaluate(p, "low", []string{"dev"}, monday); !v.Allowed {
		t.Fatalf("dev has no window: %s", v.Reason())
	}

	// The clock moves to the opening: the same revision applies.
	if v = s.evaluate(p, "low", []string{"prod"}, v.Wait.Until); !v.Allowed {
		t.Fatalf("at the opening: %s", v.Reason())
	}
}

func TestGateRebaseMergeAndSeveralPullRequests(t *testing.T) {
	s := newScenario(t, githubtest.Options{})
	s.srv.SetPermission(owner, repo, "bob", "write")
	first := s.open("alice", adapterChange)
	s.srv.AddReview(owner, repo, first.number, "bob", github.ReviewApproved, first.head)
	m1 := s.merge(first, "carol")

	// A second change lands as two commits on main (a rebase merge): the
	// earlier commit is associated with the pull request, the later is its
	// merge commit.
	s.g.Write("adapters/dev/a.json", "{}\n")
	c1 := s.g.Commit("rebased 1", gittest.Author("dana", "dana@example.com"))
	s.g.Write("adapters/dev/b.json", "{}\n")
	c2 := s.g.Commit("rebased 2", gittest.Author("dana", "dana@example.com"))
	n := s.srv.OpenPullRequest(owner, repo, githubtest.PullRequest{Author: "dana", HeadSHA: "f00d" + strings.Repeat("0", 36),
		Commits: []string{c1, c2}})
	s.srv.AddReview(owner, repo, n, "bob", github.ReviewApproved, "f00d"+strings.Repeat("0", 36))
	s.srv.Merge(owner, repo, n, c2, "carol")

	v := s.evaluate(policy(t, onePerWriter), "low", nil, saturday)
	if !v.Allowed {
		t.Fatalf("verdict: %s", v.Reason())
	}
	got := map[string]int{}
	for _, a := range v.Commits {
		got[a.Commit] = a.PullRequest
	}
	if got[m1] != first.number || got[c1] != n || got[c2] != n || len(got) != 3 {
		t.Fatalf("pull requests by commit = %v", got)
	}
}

func TestGateExamplePolicy(t *testing.T) {
	b, err := os.ReadFile("../../examples/config-repo/policy.json")
	if err != nil {
		t.Fatal(err)
	}
	p := &v1.ChangePolicy{}
	if err := json.Unmarshal(b, p); err != nil {
		t.Fatal(err)
	}
	s, c, _ := approved(t, map[string]string{"adapters/prod/lse.json": "{}\n"})
	s.srv.AddTeamMember("acme/venue-connectivity", "bob", false)
	s.srv.AddStatus(owner, repo, c.head, github.ContextValidate, "success", "cairn-bot")
	s.srv.AddStatus(owner, repo, c.head, github.ContextPlan, "success", "cairn-bot")

	v := s.evaluate(p, "low", []string{"prod"}, saturday)
	if !v.Allowed {
		t.Fatalf("verdict: %s", v.Reason())
	}
	v = s.evaluate(p, "high", []string{"prod"}, saturday)
	if v.Allowed || !strings.Contains(v.Reason(), "needs 2 approvals") {
		t.Fatalf("high risk with the example policy: %q", v.Reason())
	}
}

func TestGateSignatures(t *testing.T) {
	p := policy(t, `{"signatures": {"required": true, "allowedSigners": ["noreply@github.com"]}}`)
	s, _, merge := approved(t, adapterChange)
	v := s.evaluate(p, "low", nil, saturday)
	if v.Allowed || !strings.Contains(v.Reason(), "commit "+merge[:7]+" has no verified signature (unsigned)") {
		t.Fatalf("unsigned: %q", v.Reason())
	}
	s.srv.SetVerification(owner, repo, merge, true, "valid")
	v = s.evaluate(p, "low", nil, saturday)
	if v.Allowed || !strings.Contains(v.Reason(), "not an allowed signer") {
		t.Fatalf("signer not allowed: %q", v.Reason())
	}
	p.Spec.Signatures.AllowedSigners = []string{gittest.DefaultEmail} // the committer
	if v = s.evaluate(p, "low", nil, saturday); !v.Allowed {
		t.Fatalf("verified and allowed: %s", v.Reason())
	}
}

func TestGateRefusesBadRequest(t *testing.T) {
	e := newEnv(t, githubtest.Options{}, nil)
	for name, req := range map[string]github.Request{
		"no branch":    {Owner: owner, Repo: repo},
		"unknown risk": {Owner: owner, Repo: repo, Branch: "main", Risk: "severe"},
		"no time":      {Owner: owner, Repo: repo, Branch: "main", Environments: []string{"prod"}},
	} {
		if _, err := github.Evaluate(context.Background(), e.client, req); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
