package github_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cairn-gitops/cairn/internal/github"
	"github.com/cairn-gitops/cairn/internal/github/githubtest"
)

// report is a check of a pull request as read from GitHub.
func report(t *testing.T, e *env, number int, risk string) github.PRReport {
	t.Helper()
	pr, err := e.client.PullRequest(context.Background(), owner, repo, number)
	if err != nil {
		t.Fatal(err)
	}
	return github.PRReport{
		Owner: owner, Repo: repo, PullRequest: pr, Risk: risk,
		Validation: github.Result{OK: true, Summary: "valid: 14 files, 0 errors", Markdown: "No findings."},
		Plan: github.Result{OK: true, Summary: "2 adapters change; highest risk " + risk,
			Markdown: "| adapter | change |\n|---|---|\n| prod/lse | replicas 1 → 2 |\n"},
	}
}

func TestPRCheckUpdatesOneStickyComment(t *testing.T) {
	s := newScenario(t, githubtest.Options{})
	c := s.open("alice", adapterChange)
	// Someone else's comment stays untouched.
	if _, err := s.client.CreateComment(context.Background(), owner, repo, c.number, "looks good"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	first, err := github.PRCheck(ctx, s.client, report(t, s.env, c.number, "high"))
	if err != nil || !first.Created {
		t.Fatalf("first check = %+v, %v", first, err)
	}
	if got := s.srv.Labels(owner, repo, c.number); len(got) != 1 || got[0] != github.LabelHighRisk {
		t.Fatalf("labels = %v, want the high-risk label", got)
	}
	firstHead := c.head

	// A new push: the same comment is edited, the statuses land on the new
	// head, and the label goes when the risk drops.
	s.push(c, map[string]string{"adapters/dev/lse.json": "{}\n"})
	r := report(t, s.env, c.number, "low")
	r.Validation = github.Result{OK: false, Summary: "1 error", Markdown: "adapters/dev/lse.json:1:1: error"}
	second, err := github.PRCheck(ctx, s.client, r)
	if err != nil || second.Created || second.Comment.ID != first.Comment.ID {
		t.Fatalf("second check = %+v, %v; want the first comment edited", second, err)
	}
	comments := s.srv.Comments(owner, repo, c.number)
	if len(comments) != 2 {
		t.Fatalf("%d comments, want 2 (one of them cairn's)", len(comments))
	}
	body := comments[1].Body
	if !strings.Contains(body, github.CommentMarker) || !strings.Contains(body, c.head[:7]) ||
		strings.Contains(body, firstHead[:7]) || !strings.Contains(body, "adapters/dev/lse.json:1:1: error") {
		t.Fatalf("comment not updated for the new head:\n%s", body)
	}
	if got := s.srv.Labels(owner, repo, c.number); len(got) != 0 {
		t.Fatalf("labels = %v, want none", got)
	}
	want := map[string]string{github.ContextValidate: "failure", github.ContextPlan: "success"}
	for _, st := range s.srv.Statuses(owner, repo, c.head) {
		if want[st.Context] != st.State || st.Creator != "cairn-bot" {
			t.Fatalf("status %+v", st)
		}
		delete(want, st.Context)
	}
	if len(want) > 0 || len(s.srv.Statuses(owner, repo, firstHead)) != 2 {
		t.Fatalf("statuses missing: %v", want)
	}
}

func TestPRCheckTruncatesLongPlans(t *testing.T) {
	e := newEnv(t, githubtest.Options{}, nil)
	openOne(e)
	r := report(t, e, 1, "medium")
	r.Plan.Markdown = "```diff\n" + strings.Repeat("+ a line of a long rendered diff ✓\n", 4000) + "```\n"
	r.Validation.Summary = strings.Repeat("long summary ", 30)
	res, err := github.PRCheck(context.Background(), e.client, r)
	if err != nil || !res.Truncated {
		t.Fatalf("check = %+v, %v", res, err)
	}
	body := e.srv.Comments(owner, repo, 1)[0].Body
	if len(body) > github.CommentLimit || !utf8.ValidString(body) ||
		!strings.Contains(body, "The plan was cut to fit GitHub's comment limit") || strings.Count(body, "```")%2 != 0 {
		t.Fatalf("body of %d bytes, fence count %d:\n%s", len(body), strings.Count(body, "```"), body[len(body)-300:])
	}
	for _, st := range e.srv.Statuses(owner, repo, strings.Repeat("a", 40)) {
		if utf8.RuneCountInString(st.Description) > 140 {
			t.Fatalf("status description of %d characters", utf8.RuneCountInString(st.Description))
		}
	}
}

func TestForkPullRequestIsNotChecked(t *testing.T) {
	e := newEnv(t, githubtest.Options{}, nil)
	e.srv.OpenPullRequest(owner, repo, githubtest.PullRequest{Author: "mallory",
		HeadRepo: "mallory/config", HeadSHA: strings.Repeat("d", 40)})
	r := report(t, e, 1, "high")
	if !r.PullRequest.Fork() {
		t.Fatalf("pull request %+v not seen as a fork", r.PullRequest)
	}
	e.srv.ResetRequests()
	_, err := github.PRCheck(context.Background(), e.client, r)
	if !errors.Is(err, github.ErrFork) {
		t.Fatalf("err = %v, want ErrFork", err)
	}
	if reqs := e.srv.Requests(); len(reqs) != 0 {
		t.Fatalf("a fork's check made %d requests: %+v", len(reqs), reqs)
	}

	// A report that does not say where the head lives is treated as a fork.
	r.PullRequest.HeadRepo = ""
	if _, err := github.PRCheck(context.Background(), e.client, r); !errors.Is(err, github.ErrFork) {
		t.Fatalf("unknown head repository: %v", err)
	}
}
