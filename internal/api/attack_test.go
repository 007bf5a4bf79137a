package api

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/oidctest"
)

// attack is one request and what must come of it: the status, and the
// access record (event and reason) written for it, if any.
type attack struct {
	name   string
	method string
	path   string
	bearer func(w *world) string
	body   string
	// huge is the size of a body to stream instead of body (a JSON string
	// that goes on); negative sends it without a Content-Length.
	huge    int64
	headers []string
	status  int
	event   history.Event // "" when no access record is expected
	reason  string
}

func key(name string) func(*world) string { return func(w *world) string { return w.keys[name] } }

func jwt(user string, edit func(map[string]any)) func(*world) string {
	return func(w *world) string { return w.token(user, edit) }
}

func signed(user string, s oidctest.Signing) func(*world) string {
	return func(w *world) string {
		tok, err := w.idp.SignWith(w.idp.Claims(user), s)
		if err != nil {
			w.t.Fatal(err)
		}
		return tok
	}
}

func lit(s string) func(*world) string { return func(*world) string { return s } }

// attacks: every way in that must fail, and the controls that must pass.
func attacks(t *testing.T) []attack {
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const status, adapters, sync = "/api/v1/status", "/api/v1/adapters", "/api/v1/sync"
	reason := `{"reason": "venue asked for a resend"}`
	past := func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }
	return []attack{
		{name: "no credentials", method: "GET", path: status, status: 401, event: history.AccessUnauthenticated, reason: "no-credentials"},
		{name: "expired token", method: "GET", path: status, bearer: jwt("alice", past), status: 401, event: history.AccessUnauthenticated, reason: "expired"},
		{name: "token not yet valid", method: "GET", path: status, bearer: jwt("alice", func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() }),
			status: 401, event: history.AccessUnauthenticated, reason: "not-yet-valid"},
		{name: "wrong issuer", method: "GET", path: status, bearer: jwt("alice", func(c map[string]any) { c["iss"] = "https://evil.example" }),
			status: 401, event: history.AccessUnauthenticated, reason: "bad-issuer"},
		{name: "wrong audience", method: "GET", path: status, bearer: jwt("alice", func(c map[string]any) { c["aud"] = []string{"other-app"} }),
			status: 401, event: history.AccessUnauthenticated, reason: "bad-audience"},
		{name: "no expiry", method: "GET", path: status, bearer: jwt("alice", func(c map[string]any) { delete(c, "exp") }),
			status: 401, event: history.AccessUnauthenticated, reason: "missing-claim"},
		{name: "alg none", method: "GET", path: status, bearer: func(w *world) string {
			h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
			b := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"iss":%q,"aud":"cairn","sub":"u-alice","email":"alice@acme.example","exp":%d}`,
				w.idp.Issuer, time.Now().Add(time.Hour).Unix())))
			return h + "." + b + "."
		}, status: 401, event: history.AccessUnauthenticated, reason: "bad-alg"},
		{name: "RS256 public key as an HS256 secret", method: "GET", path: status, bearer: func(w *world) string {
			return signed("alice", oidctest.Signing{Key: w.idp.PublicKeyPEM(), Algorithm: "HS256"})(w)
		}, status: 401, event: history.AccessUnauthenticated, reason: "bad-alg"},
		{name: "unknown key id", method: "GET", path: status, bearer: signed("alice", oidctest.Signing{Key: otherKey, KeyID: "kid-nobody-knows"}),
			status: 401, event: history.AccessUnauthenticated, reason: "unknown-key"},
		{name: "another key under the provider's key id", method: "GET", path: status, bearer: func(w *world) string {
			return signed("alice", oidctest.Signing{Key: otherKey, KeyID: w.idp.SigningKeyID()})(w)
		}, status: 401, event: history.AccessUnauthenticated, reason: "bad-signature"},
		{name: "tampered signature", method: "GET", path: status, bearer: func(w *world) string {
			tok := w.token("alice", nil)
			i := strings.LastIndexByte(tok, '.') + 5
			flip := map[byte]byte{'A': 'B', 'B': 'A'}[tok[i]]
			if flip == 0 {
				flip = 'A'
			}
			return tok[:i] + string(flip) + tok[i+1:]
		}, status: 401, event: history.AccessUnauthenticated, reason: "bad-signature"},
		{name: "tampered claims", method: "GET", path: status, bearer: func(w *world) string {
			parts := strings.Split(w.token("carol", nil), ".")
			parts[1] = base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"iss":%q,"aud":"cairn","sub":"u-alice","email":"alice@acme.example","groups":["venue-connectivity"],"exp":%d}`,
				w.idp.Issuer, time.Now().Add(time.Hour).Unix())))
			return strings.Join(parts, ".")
		}, status: 401, event: history.AccessUnauthenticated, reason: "bad-signature"},
		{name: "20 KB token", method: "GET", path: status, bearer: lit(strings.Repeat("eyJh", 5000)), status: 401,
			event: history.AccessUnauthenticated, reason: "too-large"},
		{name: "1 MB token", method: "GET", path: status, bearer: lit(strings.Repeat("eyJh", 1<<18)), status: 431},
		{name: "malformed token", method: "GET", path: status, bearer: lit("not.a.jwt"), status: 401, event: history.AccessUnauthenticated, reason: "malformed"},
		{name: "Basic scheme", method: "GET", path: status, headers: []string{"Authorization", "Basic YWxpY2U6cHc="}, status: 401,
			event: history.AccessUnauthenticated, reason: "bad-scheme"},
		{name: "two Authorization headers", method: "GET", path: status, bearer: key("viewer-bot"), headers: []string{"Authorization+", "Bearer x"},
			status: 401, event: history.AccessUnauthenticated, reason: "malformed"},
		{name: "unknown session cookie", method: "GET", path: status, headers: []string{"Cookie", "__Host-cairn-session=forged-session-id"}, status: 401,
			event: history.AccessUnauthenticated, reason: "unknown-session"},
		{name: "API key not configured (revoked)", method: "GET", path: status, bearer: lit("cairn_k_0123456789abcdef_" + strings.Repeat("A", 43)), status: 401,
			event: history.AccessUnauthenticated, reason: "revoked"},
		{name: "API key expired", method: "GET", path: status, bearer: key("lapsed"), status: 401, event: history.AccessUnauthenticated, reason: "expired"},
		{name: "API key with the right id and a wrong secret", method: "GET", path: status, bearer: func(w *world) string {
			k := w.keys["viewer-bot"]
			last := map[byte]byte{'A': 'B'}[k[len(k)-1]]
			if last == 0 {
				last = 'A'
			}
			return k[:len(k)-1] + string(last)
		}, status: 401, event: history.AccessUnauthenticated, reason: "bad-secret"},
		{name: "API key malformed", method: "GET", path: status, bearer: lit("cairn_k_zz"), status: 401, event: history.AccessUnauthenticated, reason: "malformed"},
		{name: "viewer calls sync", method: "POST", path: sync, bearer: key("viewer-bot"), body: reason, status: 403, event: history.AccessDenied, reason: "not-permitted"},
		{name: "operator of uat syncs everything", method: "POST", path: sync, bearer: key("uat-operator"), body: reason, status: 403, event: history.AccessDenied},
		{name: "key scopes exclude the adapter list", method: "GET", path: adapters, bearer: key("narrow"), status: 403, event: history.AccessDenied, reason: "key-scope"},
		{name: "user with no binding", method: "GET", path: status, bearer: jwt("bob", nil), status: 403, event: history.AccessDenied, reason: "no-binding"},
		{name: "label-scoped viewer reads another venue", method: "GET", path: adapters + "/prod/eurex-fix-derivatives", bearer: jwt("carol", nil),
			status: 403, event: history.AccessDenied, reason: "out-of-scope"},
		{name: "label-scoped viewer reads another venue's history", method: "GET", path: adapters + "/prod/eurex-fix-derivatives/history", bearer: jwt("carol", nil),
			status: 403, event: history.AccessDenied, reason: "out-of-scope"},
		{name: "viewer exports the trail", method: "GET", path: "/api/v1/history/export", bearer: key("viewer-bot"), status: 403, event: history.AccessDenied},
		{name: "sync without a reason", method: "POST", path: sync, bearer: key("admin-bot"), body: `{}`, status: 400, event: history.AccessAllowed},
		{name: "sync with malformed JSON", method: "POST", path: sync, bearer: key("admin-bot"), body: `{"reason": `, status: 400, event: history.AccessAllowed},
		{name: "sync with unknown fields", method: "POST", path: sync, bearer: key("admin-bot"), body: `{"reason": "ok ok", "force": true}`, status: 400, event: history.AccessAllowed},
		{name: "100 MB body", method: "POST", path: sync, bearer: key("admin-bot"), huge: 100 << 20, status: 413},
		{name: "100 MB body without a length", method: "POST", path: sync, bearer: key("admin-bot"), huge: -(100 << 20), status: 413,
			event: history.AccessAllowed},
		{name: "sync as text/plain", method: "POST", path: sync, bearer: key("admin-bot"), body: reason, headers: []string{"Content-Type", "text/plain"}, status: 415},
		{name: "bad limit", method: "GET", path: adapters + "?limit=abc", bearer: key("viewer-bot"), status: 400, event: history.AccessAllowed},
		{name: "bad time", method: "GET", path: "/api/v1/history?since=yesterday", bearer: key("viewer-bot"), status: 400, event: history.AccessAllowed},
		{name: "webhook without signature", method: "POST", path: "/api/v1/webhooks/github", body: `{"ref":"refs/heads/main"}`, status: 401},
		{name: "webhook with a bad signature", method: "POST", path: "/api/v1/webhooks/github", body: `{"ref":"refs/heads/main"}`,
			headers: []string{"X-Hub-Signature-256", "sha256=" + strings.Repeat("ab", 32)}, status: 401},
		{name: "unknown route", method: "GET", path: "/api/v1/secrets", bearer: key("admin-bot"), status: 404},
		{name: "wrong method", method: "DELETE", path: status, bearer: key("admin-bot"), status: 405},
		{name: "path traversal in an adapter name", method: "GET", path: adapters + "/prod/..%2f..%2fetc", bearer: key("admin-bot"), status: 404, event: history.AccessAllowed},
		// Controls: the same doors with the right keys.
		{name: "viewer reads the status", method: "GET", path: status, bearer: key("viewer-bot"), status: 200, event: history.AccessAllowed, reason: ""},
		{name: "operator group member reads adapters", method: "GET", path: adapters, bearer: jwt("alice", nil), status: 200, event: history.AccessAllowed},
		{name: "label-scoped viewer reads its venue", method: "GET", path: adapters + "/prod/lse-fix-primary", bearer: jwt("carol", nil), status: 200, event: history.AccessAllowed},
		{name: "uat operator reads a prod adapter", method: "GET", path: adapters + "/prod/lse-fix-primary", bearer: key("uat-operator"), status: 200, event: history.AccessAllowed},
		{name: "admin syncs with a reason", method: "POST", path: sync, bearer: key("admin-bot"), body: reason, status: 202, event: history.SyncRequested},
	}
}

// TestAttacks sends each attack through a real server and checks its
// status and the access record it left, then that no credential reached
// a log line or the trail.
func TestAttacks(t *testing.T) {
	w := newWorld(t)
	cases := attacks(t)
	if n := len(cases); n < 40 {
		t.Fatalf("%d attacks, want at least 40", n)
	}
	var secrets []string
	for _, k := range w.keys {
		secrets = append(secrets, k)
	}
	for i, a := range cases {
		id := fmt.Sprintf("attack-%02d", i)
		bearer := ""
		if a.bearer != nil {
			bearer = a.bearer(w)
			if len(bearer) > 40 {
				secrets = append(secrets, bearer[len(bearer)-40:])
			}
		}
		resp := w.send(a, bearer, id)
		if resp.StatusCode != a.status {
			t.Errorf("%s: status %d, want %d", a.name, resp.StatusCode, a.status)
		}
		if a.status == 429 && resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", a.name)
		}
	}
	w.checkRecords(cases)
	w.checkNoSecrets(secrets)
	w.checkMetrics()
}

// checkMetrics: the security metrics count what the attacks did.
func (w *world) checkMetrics() {
	w.t.Helper()
	resp, body := w.do("GET", "/metrics", w.keys["admin-bot"], nil)
	if resp.StatusCode != 200 {
		w.t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`cairn_auth_attempts_total{method="jwt",outcome="failure",reason="expired"} 1`,
		`cairn_auth_attempts_total{method="none",outcome="failure",reason="no-credentials"} 1`,
		`cairn_auth_attempts_total{method="apikey",outcome="failure",reason="bad-secret"} 1`,
		`cairn_authz_decisions_total{outcome="denied",permission="sync:create"} 2`,
		`cairn_webhook_deliveries_total{outcome="bad-signature"} 2`,
		`cairn_http_requests_total{code="401",method="GET",route="GET /api/v1/status"}`,
	} {
		if !strings.Contains(string(body), want) {
			w.t.Errorf("/metrics lacks %s", want)
		}
	}
}

// send makes an attack's request with request id id.
func (w *world) send(a attack, bearer, id string) *http.Response {
	w.t.Helper()
	var body io.Reader
	if a.body != "" {
		body = strings.NewReader(a.body)
	}
	if a.huge != 0 { // a reason that never ends: the decoder reads on
		body = io.MultiReader(strings.NewReader(`{"reason": "`), io.LimitReader(letters{}, max(a.huge, -a.huge)-12))
	}
	req, err := http.NewRequest(a.method, w.srv.URL+a.path, body)
	if err != nil {
		w.t.Fatal(err)
	}
	switch {
	case a.huge > 0:
		req.ContentLength = a.huge
	case a.huge < 0:
		req.ContentLength = -1 // chunked: the server finds out while reading
	}
	req.Header.Set("X-Request-Id", id)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if a.body != "" || a.huge != 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(a.headers); i += 2 {
		if name, ok := strings.CutSuffix(a.headers[i], "+"); ok {
			req.Header.Add(name, a.headers[i+1])
			continue
		}
		req.Header.Set(a.headers[i], a.headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatalf("%s: %v", a.name, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// letters reads as an endless run of the letter a.
type letters struct{}

func (letters) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

// checkRecords finds each attack's access record by its request id.
func (w *world) checkRecords(cases []attack) {
	w.t.Helper()
	byID := map[string]history.Stored{}
	for _, ev := range []history.Event{history.AccessUnauthenticated, history.AccessDenied, history.AccessAllowed, history.SyncRequested} {
		for _, r := range w.records(ev) {
			if r.Access != nil {
				byID[r.Access.Request.RequestID] = r
			}
		}
	}
	for i, a := range cases {
		r, ok := byID[fmt.Sprintf("attack-%02d", i)]
		switch {
		case a.event == "" && ok:
			w.t.Errorf("%s: recorded as %s, want no access record", a.name, r.Event)
		case a.event == "":
		case !ok:
			w.t.Errorf("%s: no access record, want %s", a.name, a.event)
		case r.Event != a.event || a.reason != "" && r.Access.Reason != a.reason:
			w.t.Errorf("%s: recorded %s (reason %q), want %s (%q)", a.name, r.Event, r.Access.Reason, a.event, a.reason)
		case strings.HasPrefix(r.Access.Actor.IP, "127."):
			w.t.Errorf("%s: the record keeps the IP unmasked: %s", a.name, r.Access.Actor.IP)
		}
	}
}

// checkNoSecrets: no API key and no token tail appears in the logs or in
// the trail.
func (w *world) checkNoSecrets(secrets []string) {
	w.t.Helper()
	var trail strings.Builder
	out, _ := history.NewExporter(&trail, "ndjson")
	_ = w.store.Scan(w.t.Context(), 0, out.Write)
	for _, s := range secrets {
		if strings.Contains(w.logs.String(), s) {
			w.t.Errorf("a credential is in the logs: ...%s", s[len(s)-8:])
		}
		if strings.Contains(trail.String(), s) {
			w.t.Errorf("a credential is in the audit trail: ...%s", s[len(s)-8:])
		}
	}
}
