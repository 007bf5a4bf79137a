package github_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/github"
	"github.com/cairn-gitops/cairn/internal/github/githubtest"
	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/gittest"
	"github.com/cairn-gitops/cairn/internal/testenv"
)

const (
	owner = "acme"
	repo  = "config"
	// testToken is distinctive so that a leak is easy to find.
	testToken = "ghp_T0pS3cr3tT0kenNeverLogged0123456789"
)

// saturday is a time no test window closes.
var saturday = time.Date(2026, 1, 3, 12, 0, 0, 0, time.UTC)

// env is a fake GitHub and a real client of it.
type env struct {
	t      *testing.T
	srv    *githubtest.Server
	client *github.Client
	logs   *syncBuffer
}

// syncBuffer collects log lines from concurrent goroutines.
type syncBuffer = testenv.Buffer

// newEnv starts a fake GitHub and a client with a personal token; mod may
// change the client's configuration.
func newEnv(t *testing.T, opts githubtest.Options, mod func(*github.Config)) *env {
	t.Helper()
	e := &env{t: t, srv: githubtest.New(t, opts), logs: &syncBuffer{}}
	e.srv.AddToken(testToken, "cairn-bot")
	cfg := github.Config{BaseURL: e.srv.URL(), Token: testToken,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if mod != nil {
		mod(&cfg)
	}
	c, err := github.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	return e
}

// scenario is a real Git repository whose history the fake GitHub knows
// about: branches become pull requests, merges merge them.
type scenario struct {
	*env
	g       *gittest.Repo
	base    string
	changes int
}

// change is a pull request of a scenario.
type change struct {
	number int
	branch string
	head   string
}

func newScenario(t *testing.T, opts githubtest.Options) *scenario {
	t.Helper()
	s := &scenario{env: newEnv(t, opts, nil), g: gittest.New(t)}
	s.srv.AddRepo(owner, repo)
	s.g.Write("cairn.json", "{}\n")
	s.base = s.g.Commit("initial")
	return s
}

// open commits files on a new branch as author and opens its pull request.
func (s *scenario) open(author string, files map[string]string) *change {
	s.t.Helper()
	s.changes++
	branch := fmt.Sprintf("change-%d", s.changes)
	s.g.Git("checkout", "-q", "-b", branch)
	for p, c := range files {
		s.g.Write(p, c)
	}
	head := s.g.Commit("change by "+author, gittest.Author(author, author+"@example.com"))
	s.g.Git("checkout", "-q", "main")
	n := s.srv.OpenPullRequest(owner, repo, githubtest.PullRequest{Author: author, HeadRef: branch, HeadSHA: head})
	return &change{number: n, branch: branch, head: head}
}

// push adds a commit to a change's branch.
func (s *scenario) push(c *change, files map[string]string) {
	s.t.Helper()
	s.g.Git("checkout", "-q", c.branch)
	for p, content := range files {
		s.g.Write(p, content)
	}
	c.head = s.g.Commit("more")
	s.g.Git("checkout", "-q", "main")
	s.srv.Push(owner, repo, c.number, c.head)
}

// merge merges a change into main with a merge commit, as login.
func (s *scenario) merge(c *change, login string) string {
	s.t.Helper()
	sha := s.g.Merge(c.branch, "Merge pull request")
	s.srv.Merge(owner, repo, c.number, sha, login)
	return sha
}

// commits lists what main brought since the initial commit, as the
// reconciler does.
func (s *scenario) commits() []gitsource.CommitInfo {
	s.t.Helper()
	r, err := gitsource.Open(s.g.Path())
	if err != nil {
		s.t.Fatal(err)
	}
	defer r.Close()
	cs, _, err := r.Commits(context.Background(), s.base, "main", gitsource.HistoryOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	return cs
}

// evaluate runs the gate over the scenario's new commits.
func (s *scenario) evaluate(p *v1.ChangePolicy, risk string, envs []string, now time.Time) github.Verdict {
	s.t.Helper()
	v, err := github.Evaluate(context.Background(), s.client, github.Request{
		Owner: owner, Repo: repo, Branch: "main", Commits: s.commits(), Policy: p,
		Risk: risk, Environments: envs, Now: now,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return v
}

// policy reads a ChangePolicy spec.
func policy(t *testing.T, spec string) *v1.ChangePolicy {
	t.Helper()
	p := &v1.ChangePolicy{}
	if err := json.Unmarshal([]byte(spec), &p.Spec); err != nil {
		t.Fatal(err)
	}
	return p
}

// kinds lists the kinds of what a verdict misses.
func kinds(v github.Verdict) []string {
	var out []string
	for _, m := range v.Missing {
		out = append(out, m.Kind)
	}
	return out
}
