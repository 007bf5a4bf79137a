package github_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/cairn-gitops/cairn/internal/github"
)

// pullRequestPayload is a pull_request webhook as GitHub documents it
// (trimmed to the fields that matter and a few that do not).
func pullRequestPayload(action, headRepo, state string) []byte {
	return fmt.Appendf(nil, `{
  "action": %q,
  "number": 12,
  "pull_request": {
    "url": "https://api.github.com/repos/acme/config/pulls/12",
    "id": 1, "node_id": "PR_1", "number": 12, "state": %q, "locked": false,
    "title": "Widen LSE ranges",
    "user": {"login": "alice", "id": 2, "type": "User"},
    "created_at": "2026-01-05T09:00:00Z", "updated_at": "2026-01-05T09:00:00Z",
    "merged_at": null, "merge_commit_sha": null, "draft": false,
    "head": {"label": "x:change", "ref": "change", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
      "repo": {"id": 3, "name": "config", "full_name": %q, "fork": true}},
    "base": {"label": "acme:main", "ref": "main", "sha": "9049f1265b7d61be4a8904a9a27120d2064dab3b",
      "repo": {"id": 4, "name": "config", "full_name": "acme/config", "owner": {"login": "acme"}}},
    "merged": false, "merged_by": null
  },
  "repository": {"id": 4, "name": "config", "full_name": "acme/config", "owner": {"login": "acme", "id": 5}},
  "sender": {"login": "alice", "id": 2}
}`, action, state, headRepo)
}

func TestPullRequestEvents(t *testing.T) {
	cases := []struct {
		name, action, headRepo, state string
		// check is whether cairn checks it; reason why not.
		check  bool
		reason string
	}{
		{"opened", "opened", "acme/config", "open", true, ""},
		{"new push", "synchronize", "acme/config", "open", true, ""},
		{"reopened", "reopened", "acme/config", "open", true, ""},
		{"fork", "opened", "mallory/config", "open", false, "fork: not checked"},
		{"fork push", "synchronize", "mallory/config", "open", false, "fork: not checked"},
		{"closed", "closed", "acme/config", "closed", false, `action "closed": nothing to check`},
		{"labeled", "labeled", "acme/config", "open", false, `action "labeled": nothing to check`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := github.ParsePullRequestEvent(pullRequestPayload(tc.action, tc.headRepo, tc.state))
			if err != nil {
				t.Fatal(err)
			}
			pr := ev.PullRequest
			if ev.Owner != "acme" || ev.Repo != "config" || pr.Number != 12 || pr.Author != "alice" ||
				pr.HeadSHA != "6dcb09b5b57875f334f61aebed695e2e4193db5e" || pr.BaseRef != "main" {
				t.Fatalf("event = %+v", ev)
			}
			if d := github.Decide(ev); d.Check != tc.check || d.Reason != tc.reason {
				t.Fatalf("decision = %+v, want check %v (%q)", d, tc.check, tc.reason)
			}
		})
	}
}

func TestParsePullRequestEventRefusesGarbage(t *testing.T) {
	for _, p := range []string{``, `[]`, `{"action": "opened"}`, `{"action": "opened", "pull_request": {"number": 1}, "repository": {"name": "x"}}`} {
		if _, err := github.ParsePullRequestEvent([]byte(p)); err == nil {
			t.Errorf("%q: no error", p)
		}
	}
}

func TestVerifyWebhook(t *testing.T) {
	secret := []byte("webhook-secret")
	payload := pullRequestPayload("opened", "acme/config", "open")
	mac := hmac.New(sha256.New, secret)
	mac.Write(payload)
	sign := func(sig string) (string, string, []byte, error) {
		r := httptest.NewRequest("POST", "/webhook", bytes.NewReader(payload))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-GitHub-Event", "pull_request")
		r.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
		r.Header.Set("X-Hub-Signature-256", sig)
		return github.VerifyWebhook(r, secret)
	}
	event, delivery, got, err := sign("sha256=" + hex.EncodeToString(mac.Sum(nil)))
	if err != nil || event != "pull_request" || delivery == "" || !bytes.Equal(got, payload) {
		t.Fatalf("VerifyWebhook = %q, %q, %d bytes, %v", event, delivery, len(got), err)
	}
	if _, _, _, err := sign("sha256=" + hex.EncodeToString(make([]byte, 32))); err == nil {
		t.Fatal("a forged signature was accepted")
	}
}

func FuzzParsePullRequestEvent(f *testing.F) {
	f.Add(pullRequestPayload("opened", "acme/config", "open"))
	f.Add(pullRequestPayload("synchronize", "mallory/config", "open"))
	f.Add([]byte(`{"action": 1}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := github.ParsePullRequestEvent(payload)
		if err != nil {
			return
		}
		if ev.PullRequest.Number <= 0 || ev.PullRequest.HeadSHA == "" {
			t.Fatalf("accepted an event without number or head: %+v", ev)
		}
		if d := github.Decide(ev); d.Check && ev.PullRequest.Fork() {
			t.Fatalf("would check a fork: %+v", ev)
		}
	})
}
