package github_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/github"
	"github.com/cairn-gitops/cairn/internal/github/githubtest"
	"github.com/cairn-gitops/cairn/internal/gitsource"
	testingclock "k8s.io/utils/clock/testing"
)

// fakeClock is a clock that moves by itself whenever someone waits on it,
// so that rate-limit waits take no real time but are measured.
func fakeClock(t *testing.T) *testingclock.FakeClock {
	fc := testingclock.NewFakeClock(time.Now().Truncate(time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if fc.HasWaiters() {
				fc.Step(time.Second)
				continue
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	return fc
}

// withClock sets the client's clock.
func withClock(fc *testingclock.FakeClock) func(*github.Config) {
	return func(c *github.Config) { c.Clock = fc }
}

// requestsTo lists the statuses answered to calls of path (with prefix).
func requestsTo(srv *githubtest.Server, path string) []int {
	var out []int
	for _, r := range srv.Requests() {
		if r.Path == path {
			out = append(out, r.Status)
		}
	}
	return out
}

func openOne(e *env) {
	e.srv.OpenPullRequest(owner, repo, githubtest.PullRequest{Author: "alice", HeadSHA: strings.Repeat("a", 40)})
}

func TestSecondaryLimitIsRetriedAfterRetryAfter(t *testing.T) {
	for _, status := range []int{403, 429} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			fc := fakeClock(t)
			e := newEnv(t, githubtest.Options{}, withClock(fc))
			openOne(e)
			e.srv.Inject(githubtest.Fault{Path: "/repos/acme/config/pulls/1", Status: status, RetryAfter: "7", Times: 2})
			start := fc.Now()
			pr, err := e.client.PullRequest(context.Background(), owner, repo, 1)
			if err != nil || pr.Number != 1 {
				t.Fatalf("PullRequest = %+v, %v", pr, err)
			}
			if got := requestsTo(e.srv, "/repos/acme/config/pulls/1"); fmt.Sprint(got) != fmt.Sprintf("[%d %d 200]", status, status) {
				t.Fatalf("answers = %v", got)
			}
			if waited := fc.Since(start); waited < 14*time.Second || waited > 20*time.Second {
				t.Fatalf("waited %v, want twice Retry-After (14s)", waited)
			}
			if !strings.Contains(e.logs.String(), "github rate limit: waiting") {
				t.Fatalf("no log of the wait:\n%s", e.logs)
			}
		})
	}
}

func TestSecondaryLimitWithoutRetryAfterBacksOff(t *testing.T) {
	fc := fakeClock(t)
	e := newEnv(t, githubtest.Options{}, func(c *github.Config) { c.Clock = fc; c.MaxRateWait = 5 * time.Minute })
	openOne(e)
	e.srv.Inject(githubtest.Fault{Path: "/repos/acme/config/pulls/1"})
	start := fc.Now()
	if _, err := e.client.PullRequest(context.Background(), owner, repo, 1); err != nil {
		t.Fatal(err)
	}
	if waited := fc.Since(start); waited < time.Minute {
		t.Fatalf("waited %v, want at least a minute", waited)
	}
}

func TestRateLimitGivesUp(t *testing.T) {
	cases := []struct {
		name  string
		fault githubtest.Fault
		// secondary is the kind of limit the error must name; calls how
		// many requests reach the server.
		secondary bool
		calls     int
	}{
		{"retries run out", githubtest.Fault{RetryAfter: "1", Times: 100}, true, 4},
		{"Retry-After too long", githubtest.Fault{RetryAfter: "3600"}, true, 1},
		{"quota resets too late", githubtest.Fault{Primary: true, Reset: time.Now().Add(2 * time.Hour)}, false, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, githubtest.Options{}, withClock(fakeClock(t)))
			openOne(e)
			tc.fault.Path = "/repos/acme/config/pulls/1"
			e.srv.Inject(tc.fault)
			_, err := e.client.PullRequest(context.Background(), owner, repo, 1)
			var rl *github.RateLimitError
			if !errors.As(err, &rl) || rl.Secondary != tc.secondary {
				t.Fatalf("error = %v, want a RateLimitError (secondary %v)", err, tc.secondary)
			}
			if n := len(requestsTo(e.srv, "/repos/acme/config/pulls/1")); n != tc.calls {
				t.Fatalf("%d calls, want %d", n, tc.calls)
			}
		})
	}
}

func TestPrimaryLimitIsWaitedOut(t *testing.T) {
	fc := fakeClock(t)
	e := newEnv(t, githubtest.Options{}, withClock(fc))
	openOne(e)
	path := "/repos/acme/config/pulls/1"

	// A 403 for the exhausted quota, reset in 30 seconds.
	e.srv.Inject(githubtest.Fault{Path: path, Primary: true, Reset: fc.Now().Add(30 * time.Second)})
	start := fc.Now()
	if _, err := e.client.PullRequest(context.Background(), owner, repo, 1); err != nil {
		t.Fatal(err)
	}
	if waited := fc.Since(start); waited < 30*time.Second || waited > 35*time.Second {
		t.Fatalf("waited %v, want until the reset", waited)
	}

	// A success that uses the last call: the next call waits before it is
	// sent, instead of failing at once inside go-github.
	e.srv.SetQuota(0, fc.Now().Add(20*time.Second))
	if _, err := e.client.PullRequest(context.Background(), owner, repo, 1); err != nil {
		t.Fatal(err)
	}
	e.srv.SetQuota(5000, fc.Now().Add(time.Hour))
	e.srv.ResetRequests()
	start = fc.Now()
	if _, err := e.client.Reviews(context.Background(), owner, repo, 1); err != nil {
		t.Fatal(err)
	}
	if waited := fc.Since(start); waited < 20*time.Second {
		t.Fatalf("waited %v before the call, want until the reset", waited)
	}
	if got := len(e.srv.Requests()); got != 1 {
		t.Fatalf("%d requests, want 1", got)
	}
}

func TestConditionalRequestsUseTheCache(t *testing.T) {
	e := newEnv(t, githubtest.Options{}, nil)
	openOne(e)
	ctx := context.Background()
	first, err := e.client.PullRequest(ctx, owner, repo, 1)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.client.PullRequest(ctx, owner, repo, 1)
	if err != nil {
		t.Fatal(err)
	}
	reqs := e.srv.Requests()
	if len(reqs) != 2 || reqs[0].Conditional || !reqs[1].Conditional || reqs[1].Status != 304 {
		t.Fatalf("requests = %+v, want a plain GET then a conditional one answered 304", reqs)
	}
	if fmt.Sprint(first) != fmt.Sprint(second) || second.Author != "alice" {
		t.Fatalf("cached answer %+v differs from %+v", second, first)
	}

	// A change on GitHub is seen at once: the cache never answers alone.
	e.srv.Merge(owner, repo, 1, strings.Repeat("b", 40), "carol")
	third, err := e.client.PullRequest(ctx, owner, repo, 1)
	if err != nil || !third.Merged || third.MergedBy != "carol" {
		t.Fatalf("after the merge: %+v, %v", third, err)
	}
	if last := e.srv.Requests()[2]; !last.Conditional || last.Status != 200 {
		t.Fatalf("third request = %+v", last)
	}
}

func TestPaginationFollowsLinks(t *testing.T) {
	e := newEnv(t, githubtest.Options{MaxPerPage: 2}, nil)
	openOne(e)
	for i := range 5 {
		e.srv.AddReview(owner, repo, 1, fmt.Sprintf("user%d", i), github.ReviewCommented, "x")
	}
	rs, err := e.client.Reviews(context.Background(), owner, repo, 1)
	if err != nil || len(rs) != 5 || rs[4].User != "user4" {
		t.Fatalf("reviews = %+v, %v", rs, err)
	}
	if n := len(requestsTo(e.srv, "/repos/acme/config/pulls/1/reviews")); n != 3 {
		t.Fatalf("%d pages fetched, want 3", n)
	}
}

func TestEnterpriseBaseURL(t *testing.T) {
	s := newScenario(t, githubtest.Options{Prefix: "/api/v3"})
	if !strings.HasSuffix(s.srv.URL(), "/api/v3/") {
		t.Fatalf("URL = %s", s.srv.URL())
	}
	c := s.open("alice", adapterChange)
	s.srv.SetPermission(owner, repo, "bob", "write")
	s.srv.AddReview(owner, repo, c.number, "bob", github.ReviewApproved, c.head)
	s.merge(c, "carol")
	if v := s.evaluate(policy(t, onePerWriter), "low", nil, saturday); !v.Allowed {
		t.Fatalf("verdict: %s", v.Reason())
	}
	reqs := s.srv.Requests()
	for _, r := range reqs {
		if !strings.HasPrefix(r.Path, "/api/v3/") || r.Status >= 400 {
			t.Fatalf("request %+v outside /api/v3/ or failed", r)
		}
	}
	if len(reqs) < 4 {
		t.Fatalf("only %d requests", len(reqs))
	}
}

// appKey writes a new App private key and returns its file and public key.
func appKey(t *testing.T) (string, *rsa.PublicKey) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "app.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(file, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return file, &key.PublicKey
}

func TestAppInstallationTokens(t *testing.T) {
	keyFile, pub := appKey(t)
	cases := []struct {
		name string
		ttl  time.Duration
		// issued is how many tokens two calls fetch.
		issued int
	}{
		{"reused while valid", time.Hour, 1},
		{"refreshed near expiry", 30 * time.Second, 2}, // ghinstallation refreshes a minute early
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, prefix := range []string{"", "/api/v3"} {
				e := newEnv(t, githubtest.Options{Prefix: prefix}, func(c *github.Config) {
					c.Token, c.App = "", &github.App{ID: 4242, InstallationID: 99, PrivateKeyFile: keyFile}
				})
				e.srv.EnableApp(githubtest.App{ID: 4242, InstallationID: 99, PublicKey: pub, TokenTTL: tc.ttl})
				openOne(e)
				for range 2 {
					if _, err := e.client.PullRequest(context.Background(), owner, repo, 1); err != nil {
						t.Fatal(err)
					}
				}
				if got := e.srv.IssuedTokens(); got != tc.issued {
					t.Fatalf("prefix %q: %d tokens issued, want %d", prefix, got, tc.issued)
				}
				checkAppRequests(t, e.srv.Requests(), prefix, tc.issued)
			}
		})
	}
}

// checkAppRequests asserts that tokens were fetched with the App's JWT and
// that API calls used the newest token, as the bot.
func checkAppRequests(t *testing.T, reqs []githubtest.Request, prefix string, issued int) {
	t.Helper()
	tokens := map[string]bool{}
	for _, r := range reqs {
		switch {
		case r.Path == prefix+"/app/installations/99/access_tokens":
			if r.Token != "jwt" || r.Status != 201 {
				t.Fatalf("token request %+v", r)
			}
		case r.Login != "cairn[bot]" || !strings.HasPrefix(r.Token, "ghs_") || r.Status != 200 && r.Status != 304:
			t.Fatalf("API request %+v not made with an installation token", r)
		default:
			tokens[r.Token] = true
		}
	}
	if len(tokens) != issued {
		t.Fatalf("%d distinct tokens used, want %d", len(tokens), issued)
	}
}

func TestAppWithWrongIDIsRefused(t *testing.T) {
	keyFile, pub := appKey(t)
	e := newEnv(t, githubtest.Options{}, func(c *github.Config) {
		c.Token, c.App = "", &github.App{ID: 4243, InstallationID: 99, PrivateKeyFile: keyFile}
	})
	e.srv.EnableApp(githubtest.App{ID: 4242, InstallationID: 99, PublicKey: pub})
	openOne(e)
	_, err := e.client.PullRequest(context.Background(), owner, repo, 1)
	if err == nil || e.srv.IssuedTokens() != 0 {
		t.Fatalf("err = %v, %d tokens issued; want the JWT of another App refused", err, e.srv.IssuedTokens())
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]github.Config{
		"no credential":    {},
		"two credentials":  {Token: "a", TokenFile: empty},
		"empty token file": {TokenFile: empty},
		"bad base URL":     {Token: "a", BaseURL: "ftp://example.com/"},
		"app without key":  {App: &github.App{ID: 1, InstallationID: 2}},
		"app key not PEM":  {App: &github.App{ID: 1, InstallationID: 2, PrivateKeyFile: empty}},
	} {
		if _, err := github.New(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestTokenNeverLeaks drives failures with a token and looks for it in
// every error, log line and formatted configuration.
func TestTokenNeverLeaks(t *testing.T) {
	fc := fakeClock(t)
	e := newEnv(t, githubtest.Options{}, withClock(fc))
	openOne(e)
	ctx := context.Background()
	var errs []error
	e.srv.Inject(githubtest.Fault{RetryAfter: "3600"})
	_, err := e.client.PullRequest(ctx, owner, repo, 1)
	errs = append(errs, err)
	e.srv.Inject(githubtest.Fault{RetryAfter: "2"})
	_, err = e.client.Reviews(ctx, owner, repo, 404)
	errs = append(errs, err)

	wrong := github.Secret("ghp_WrongT0kenAlsoNeverLogged987654321")
	bad, err := github.New(github.Config{BaseURL: e.srv.URL(), Token: wrong,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.PullRequest(ctx, owner, repo, 1)
	errs = append(errs, err)
	_, err = github.Evaluate(ctx, bad, github.Request{Owner: owner, Repo: repo, Branch: "main",
		Commits: []gitsource.CommitInfo{{Commit: gitsource.Commit{Hash: strings.Repeat("c", 40)}}}})
	errs = append(errs, err)

	cfg := github.Config{Token: testToken}
	slog.New(slog.NewJSONHandler(e.logs, nil)).Info("config", "config", cfg, "token", cfg.Token)
	texts := []string{e.logs.String(), fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg)}
	for i, err := range errs {
		if err == nil {
			t.Fatalf("call %d did not fail", i)
		}
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err))
	}
	for _, text := range texts {
		for _, tok := range []string{testToken, string(wrong)} {
			if strings.Contains(text, tok) {
				t.Fatalf("a token leaked into %q", text)
			}
		}
	}
}
