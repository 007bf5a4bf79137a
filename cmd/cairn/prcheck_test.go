package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-gitops/cairn/internal/github/githubtest"
	"github.com/cairn-gitops/cairn/internal/gittest"
)

// TestPRCheck runs `cairn pr check` as CI would, against a local GitHub:
// one comment with the plan and statuses on the head; a new push updates
// the same comment and fails the validation status; a fork's pull request
// is not checked.
func TestPRCheck(t *testing.T) {
	g := gittest.New(t)
	g.CopyDir("../../examples/config-repo")
	g.Commit("Import the example configuration")
	g.Git("checkout", "-q", "-b", "heartbeat")
	g.Write("adapters/prod/lse-fix-primary.json", strings.Replace(g.Read("adapters/prod/lse-fix-primary.json"),
		`"heartbeatSeconds": 30`, `"heartbeatSeconds": 45`, 1))
	head := g.Commit("Heartbeat 45 s")
	gh := githubtest.New(t, githubtest.Options{})
	gh.AddToken("ghp_pr_check_token", "cairn-bot")
	n := gh.OpenPullRequest("acme", "config", githubtest.PullRequest{Author: "carol", HeadSHA: head, HeadRef: "heartbeat"})
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("ghp_pr_check_token"), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(pr int) result {
		return cairn(t, "pr", "check", "--repo", g.Path(), "--pr", strconv.Itoa(pr), "--base", "main",
			"--github-repo", "acme/config", "--github-api-url", gh.URL(), "--github-token-file", tokenFile)
	}
	r := check(n)
	if r.code != 0 || !strings.Contains(r.stdout, "valid; 0 added, 1 changed") {
		t.Fatalf("pr check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	comments := gh.Comments("acme", "config", n)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "heartbeatSeconds") {
		t.Fatalf("comments after the first check: %+v", comments)
	}
	if got := states(gh.Statuses("acme", "config", head)); got != "cairn/plan=success cairn/validate=success" {
		t.Errorf("statuses on the head: %s", got)
	}
	// A new push with a broken document: the same comment, now with the
	// finding; the validation status fails; exit 1.
	g.Write("adapters/prod/broken.json", `{"apiVersion": "cairn.dev/v1alpha1", "kind": "Adapter"}`)
	next := g.Commit("Add a broken document")
	gh.Push("acme", "config", n, next)
	r = check(n)
	if r.code != 1 {
		t.Errorf("pr check of a broken head: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	comments = gh.Comments("acme", "config", n)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "adapters/prod/broken.json") {
		t.Errorf("comments after the second check (want the one comment, updated): %d\n%+v", len(comments), comments)
	}
	if got := states(gh.Statuses("acme", "config", next)); !strings.Contains(got, "cairn/validate=failure") {
		t.Errorf("statuses on the new head: %s", got)
	}
	fork := gh.OpenPullRequest("acme", "config", githubtest.PullRequest{Author: "mallory", HeadSHA: head, HeadRepo: "mallory/config"})
	if r := check(fork); r.code != 0 || !strings.Contains(r.stdout, "fork: not checked") || len(gh.Comments("acme", "config", fork)) != 0 {
		t.Errorf("a fork's pull request: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr+r.stdout, "ghp_pr_check_token") {
		t.Error("the token is in the output")
	}
}

// states lists the latest state of each status context, sorted.
func states(sts []githubtest.Status) string {
	last := map[string]string{}
	for _, s := range sts {
		last[s.Context] = s.State
	}
	var out []string
	for c, s := range last {
		out = append(out, c+"="+s)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}
