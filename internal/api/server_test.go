package api

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// TestWebhook drives the receiver through a real HTTP server.
func TestWebhook(t *testing.T) {
	var triggers atomic.Int32
	srv := httptest.NewServer(New(Options{Branch: "main", Trigger: func() { triggers.Add(1) }, WebhookSecret: []byte("k3y")}))
	defer srv.Close()
	push := []byte(`{"ref":"refs/heads/main"}`)
	other := []byte(`{"ref":"refs/heads/feature"}`)
	for _, tc := range []struct {
		name      string
		event     string
		delivery  string
		body      []byte
		signature string
		// want is the status; triggered says whether a reconcile was asked for.
		want      int
		triggered bool
	}{
		{"signed push to the branch", "push", "d1", push, sign("k3y", push), 202, true},
		{"the same delivery again", "push", "d1", push, sign("k3y", push), 200, false},
		{"push to another branch", "push", "d2", other, sign("k3y", other), 202, false},
		{"no signature", "push", "d3", push, "", 401, false},
		{"signature with another secret", "push", "d4", push, sign("other", push), 401, false},
		{"signature not hex", "push", "d5", push, "sha256=zz", 401, false},
		{"sha1 signature", "push", "d6", push, "sha1=" + strings.Repeat("0", 40), 401, false},
		{"body changed after signing", "push", "d7", []byte(`{"ref":"refs/heads/main","x":1}`), sign("k3y", push), 401, false},
		{"malformed JSON, signed", "push", "d8", []byte(`{"ref":`), sign("k3y", []byte(`{"ref":`)), 400, false},
		{"ping", "ping", "d9", []byte(`{}`), sign("k3y", []byte(`{}`)), 200, false},
		{"another event", "issues", "d10", []byte(`{}`), sign("k3y", []byte(`{}`)), 202, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := triggers.Load()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/webhooks/github", bytes.NewReader(tc.body))
			req.Header.Set("X-GitHub-Event", tc.event)
			req.Header.Set("X-GitHub-Delivery", tc.delivery)
			if tc.signature != "" {
				req.Header.Set("X-Hub-Signature-256", tc.signature)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]string
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("answer is not JSON: %v", err)
			}
			if resp.StatusCode != tc.want || (triggers.Load() > before) != tc.triggered {
				t.Errorf("status %d (want %d), triggered %v (want %v), body %v", resp.StatusCode, tc.want, triggers.Load() > before, tc.triggered, body)
			}
			if resp.StatusCode >= 400 && (body["error"] == "" || body["message"] == "") {
				t.Errorf("error answer without the stable shape: %v", body)
			}
			if strings.Contains(body["message"], "k3y") {
				t.Error("the answer holds the secret")
			}
		})
	}
}

func TestWebhookLimitsAndDisabled(t *testing.T) {
	srv := httptest.NewServer(New(Options{Branch: "main", Trigger: func() {}, WebhookSecret: []byte("k")}))
	defer srv.Close()
	big := bytes.Repeat([]byte("x"), maxWebhookBody+1)
	resp, err := http.Post(srv.URL+"/api/v1/webhooks/github", "application/json", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over the limit: %d, want 413", resp.StatusCode)
	}
	off := httptest.NewServer(New(Options{Branch: "main", Trigger: func() { t.Error("triggered without a secret") }}))
	defer off.Close()
	resp, err = http.Post(off.URL+"/api/v1/webhooks/github", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("webhook with no secret configured: %d, want 403", resp.StatusCode)
	}
}

func TestHealthAndReady(t *testing.T) {
	var ready atomic.Bool
	srv := httptest.NewServer(New(Options{Ready: ready.Load}))
	defer srv.Close()
	for _, tc := range []struct {
		path  string
		ready bool
		want  int
	}{{"/healthz", false, 200}, {"/readyz", false, 503}, {"/readyz", true, 200}, {"/api/v1/status", true, 401}, {"/nowhere", true, 404}} {
		ready.Store(tc.ready)
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s (ready %v): %d, want %d", tc.path, tc.ready, resp.StatusCode, tc.want)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff header", tc.path)
		}
	}
}

// TestPullRequestWebhook: a signed pull_request delivery is handed to the
// pull request checker; an unsigned one is not.
func TestPullRequestWebhook(t *testing.T) {
	got := make(chan []byte, 2)
	srv := httptest.NewServer(New(Options{Branch: "main", Trigger: func() {}, WebhookSecret: []byte("k3y"),
		PullRequest: func(p []byte) { got <- p }}))
	defer srv.Close()
	body := []byte(`{"action":"opened","number":7}`)
	for _, sig := range []string{sign("other", body), sign("k3y", body)} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/webhooks/github", bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", "pull_request")
		req.Header.Set("X-Hub-Signature-256", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if n := len(got); n != 1 {
		t.Fatalf("the checker got %d deliveries, want the one signed", n)
	}
	if p := <-got; !bytes.Equal(p, body) {
		t.Errorf("the checker got %s", p)
	}
}
