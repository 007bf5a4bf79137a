package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth"
	"github.com/cairn-gitops/cairn/internal/auth/apikey"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/history/sqlitestore"
	"github.com/cairn-gitops/cairn/internal/metrics"
	"github.com/cairn-gitops/cairn/internal/oidctest"
	"github.com/cairn-gitops/cairn/internal/status"
)

// world is an API server with real parts: an Authenticator over a
// security configuration, an OpenID provider, an audit store on disk.
type world struct {
	t      *testing.T
	srv    *httptest.Server
	h      *Handler
	authn  *auth.Authenticator
	store  history.Store
	idp    *oidctest.Provider
	keys   map[string]string // API keys by name
	cfg    string            // the security.json in force
	logs   *bytes.Buffer
	synced int
}

// keyNames and their scopes; "lapsed" has expired.
var keyScopes = map[string][]string{
	"viewer-bot":   {"status:read", "adapters:read", "history:read"},
	"uat-operator": {"status:read", "adapters:read", "history:read", "sync:create"},
	"auditor":      {"history:read", "history:export"},
	"admin-bot":    {"admin"},
	"lapsed":       {"status:read"},
	"narrow":       {"status:read"},
}

const securityTemplate = `{
  "apiVersion": "cairn.dev/v1alpha1", "kind": "SecurityConfig", "metadata": {"name": "test"},
  "spec": {
    "authentication": {
      "apiKeys": {"keys": %s},
      "jwt": {"issuer": %q, "audience": ["cairn"], "jwksUri": %q, "algorithms": ["RS256"], "clockSkew": "5s",
              "groupsClaim": "groups", "usernameClaim": "email"}
    },
    "rbac": {
      "bindings": [
        {"role": "viewer", "subject": {"type": "serviceAccount", "name": "viewer-bot"}},
        {"role": "viewer", "subject": {"type": "serviceAccount", "name": "narrow"}},
        {"role": "operator", "subject": {"type": "serviceAccount", "name": "uat-operator"}, "scope": {"environments": ["uat"]}},
        {"role": "viewer", "subject": {"type": "serviceAccount", "name": "uat-operator"}},
        {"role": "admin", "subject": {"type": "serviceAccount", "name": "auditor"}},
        {"role": "admin", "subject": {"type": "serviceAccount", "name": "admin-bot"}},
        {"role": "operator", "subject": {"type": "group", "name": "venue-connectivity"}},
        {"role": "viewer", "subject": {"type": "user", "name": "carol@acme.example"}, "scope": {"adapterSelector": {"matchLabels": {"venue": "lse"}}}}
      ]
    },
    "network": {"ipAllowlist": {"ranges": [%q]}},
    "audit": {"level": "standard"},
    "dataProtection": {"masking": {"fields": ["actor.ip"], "method": "hash"}}
  }
}`

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, idp: oidctest.Start(t, oidctest.Options{}), keys: map[string]string{}, logs: &bytes.Buffer{}}
	var entries []v1.APIKey
	for name, scopes := range keyScopes {
		expires := time.Now().Add(time.Hour)
		if name == "lapsed" {
			expires = time.Now().Add(-time.Hour)
		}
		key, entry, err := apikey.NewKey(name, scopes, expires)
		if err != nil {
			t.Fatal(err)
		}
		w.keys[name], entries = key, append(entries, entry)
	}
	keysJSON, _ := json.Marshal(entries)
	w.cfg = fmt.Sprintf(securityTemplate, keysJSON, w.idp.Issuer, w.idp.JWKSURI(), "127.0.0.0/8")
	log := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	if w.authn, err = auth.New(w.config(w.cfg), auth.Options{Logger: log}); err != nil {
		t.Fatal(err)
	}
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	w.store = st
	w.h = New(Options{Branch: "main", Logger: log, Auth: w.authn, Status: fixtureStatus(), History: st,
		WebhookSecret: []byte("hook"), Sync: func() error { w.synced++; return nil }, Metrics: metrics.New()})
	if err := w.h.Reload(w.config(w.cfg)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.h.Run(ctx); close(done) }()
	w.srv = httptest.NewUnstartedServer(w.h)
	w.srv.Config.MaxHeaderBytes = 64 << 10 // as serve sets it
	w.srv.Start()
	t.Cleanup(func() {
		w.srv.Close()
		cancel()
		<-done
		st.Close()
	})
	return w
}

func (w *world) config(doc string) *v1.SecurityConfig {
	w.t.Helper()
	var cfg v1.SecurityConfig
	if err := json.Unmarshal([]byte(doc), &cfg); err != nil {
		w.t.Fatalf("security config: %v", err)
	}
	return &cfg
}

// reload puts a new security.json in force in both the Authenticator and
// the handler, as serve does when a revision applies.
func (w *world) reload(doc string) {
	w.t.Helper()
	cfg := w.config(doc)
	if err := w.authn.Reload(cfg); err != nil {
		w.t.Fatal(err)
	}
	if err := w.h.Reload(cfg); err != nil {
		w.t.Fatal(err)
	}
}

func fixtureStatus() *status.Store {
	st := status.NewStore("https://git.example/config.git", "main")
	st.Update(func(s *status.Snapshot) {
		s.Leader, s.Applied = true, strings.Repeat("a", 40)
		for _, a := range []struct{ env, name, venue, health string }{
			{"prod", "lse-fix-primary", "lse", "Healthy"}, {"prod", "eurex-fix-derivatives", "eurex", "Degraded"},
			{"uat", "lse-fix-primary", "lse", "Healthy"}, {"uat", "kafka-orders-bridge", "internal", "Progressing"},
		} {
			s.Adapters = append(s.Adapters, status.Adapter{Key: a.env + "/" + a.name, Name: a.name, Environment: a.env,
				Namespace: "connectivity-" + a.env, Protocol: "fix", Role: "initiator", Labels: map[string]string{"venue": a.venue},
				Phase: status.Applied, Health: a.health})
		}
	})
	return st
}

// do sends a request with a bearer credential ("" for none).
func (w *world) do(method, path, bearer string, body []byte, hdr ...string) (*http.Response, []byte) {
	w.t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// records waits until the access records queued are written and returns
// those of event, newest first.
func (w *world) records(event history.Event) []history.Stored {
	w.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for w.h.access.pending.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	recs, err := w.store.List(context.Background(), history.Filter{Events: []history.Event{event}, Limit: 1000})
	if err != nil {
		w.t.Fatal(err)
	}
	return recs
}

// token is a JWT from the test provider for user, with edits.
func (w *world) token(user string, edit func(map[string]any)) string {
	w.t.Helper()
	claims := w.idp.Claims(user)
	if edit != nil {
		edit(claims)
	}
	tok, err := w.idp.Sign(claims)
	if err != nil {
		w.t.Fatal(err)
	}
	return tok
}

// TestReloadedRules: what security.json says changes with a reload, for
// the next request: a group binding removed, the allowlist narrowed, a
// per-client rate limit.
func TestReloadedRules(t *testing.T) {
	w := newWorld(t)
	alice := w.token("alice", nil)
	reason := []byte(`{"reason": "resend after the venue's reset"}`)
	if resp, _ := w.do("GET", "/api/v1/adapters", alice, nil); resp.StatusCode != 200 {
		t.Fatalf("alice (operator through her group) lists adapters: %d", resp.StatusCode)
	}
	// The group's binding goes: alice, still authenticated, is denied.
	w.reload(strings.Replace(w.cfg, `{"role": "operator", "subject": {"type": "group", "name": "venue-connectivity"}},`, "", 1))
	if resp, _ := w.do("GET", "/api/v1/adapters", alice, nil); resp.StatusCode != 403 {
		t.Errorf("after the group binding is removed: %d, want 403", resp.StatusCode)
	}
	if resp, _ := w.do("POST", "/api/v1/sync", alice, reason); resp.StatusCode != 403 {
		t.Errorf("sync after the group binding is removed: %d, want 403", resp.StatusCode)
	}
	// The allowlist no longer covers loopback: 403, recorded.
	w.reload(strings.Replace(w.cfg, `"127.0.0.0/8"`, `"10.0.0.0/8"`, 1))
	resp, body := w.do("GET", "/api/v1/status", w.keys["viewer-bot"], nil)
	if resp.StatusCode != 403 || !strings.Contains(string(body), "allowlist") {
		t.Errorf("from outside the allowlist: %d %s", resp.StatusCode, body)
	}
	if resp, _ := w.do("GET", "/healthz", "", nil); resp.StatusCode != 200 {
		t.Errorf("the probe from outside the allowlist: %d, want 200", resp.StatusCode)
	}
	denied := w.records(history.AccessDenied)
	if len(denied) == 0 || denied[0].Access.Reason != "ip-not-allowed" {
		t.Errorf("no ip-not-allowed record: %+v", denied)
	}
	// Two requests per client, then 429 with Retry-After.
	w.reload(strings.Replace(w.cfg, `"network":`, `"rateLimit": {"perClient": {"requestsPerSecond": 0.01, "burstSize": 2}}, "network":`, 1))
	var codes []int
	var retry string
	for range 3 {
		resp, _ := w.do("GET", "/api/v1/status", w.keys["viewer-bot"], nil)
		codes, retry = append(codes, resp.StatusCode), resp.Header.Get("Retry-After")
	}
	if fmt.Sprint(codes) != "[200 200 429]" || retry == "" || retry == "0" {
		t.Errorf("rate limited: %v, Retry-After %q; want [200 200 429] and a delay", codes, retry)
	}
}

// TestAdapterListVisibility: each caller lists the adapters it may see,
// filtered and paged.
func TestAdapterListVisibility(t *testing.T) {
	w := newWorld(t)
	list := func(bearer, query string) []string {
		t.Helper()
		resp, body := w.do("GET", "/api/v1/adapters"+query, bearer, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("list %s: %d %s", query, resp.StatusCode, body)
		}
		var ans struct {
			Adapters []status.Adapter `json:"adapters"`
			Next     string           `json:"next"`
		}
		if err := json.Unmarshal(body, &ans); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, a := range ans.Adapters {
			keys = append(keys, a.Key)
		}
		if ans.Next != "" {
			keys = append(keys, "next="+ans.Next)
		}
		return keys
	}
	carol := w.token("carol", nil)
	for _, tc := range []struct {
		who, bearer, query, want string
	}{
		{"viewer", w.keys["viewer-bot"], "", "[prod/eurex-fix-derivatives prod/lse-fix-primary uat/kafka-orders-bridge uat/lse-fix-primary]"},
		{"label-scoped viewer", carol, "", "[prod/lse-fix-primary uat/lse-fix-primary]"},
		{"viewer, uat only", w.keys["viewer-bot"], "?environment=uat", "[uat/kafka-orders-bridge uat/lse-fix-primary]"},
		{"viewer, degraded", w.keys["viewer-bot"], "?health=Degraded", "[prod/eurex-fix-derivatives]"},
		{"viewer, venue label", w.keys["viewer-bot"], "?label=venue%3Dlse", "[prod/lse-fix-primary uat/lse-fix-primary]"},
		{"viewer, first page", w.keys["viewer-bot"], "?limit=2", "[prod/eurex-fix-derivatives prod/lse-fix-primary next=prod/lse-fix-primary]"},
		{"viewer, second page", w.keys["viewer-bot"], "?limit=2&after=prod/lse-fix-primary", "[uat/kafka-orders-bridge uat/lse-fix-primary]"},
	} {
		if got := fmt.Sprint(list(tc.bearer, tc.query)); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.who, tc.query, got, tc.want)
		}
	}
	// The list follows the status: an adapter added is listed at once.
	w.h.opts.Status.Update(func(s *status.Snapshot) {
		s.Adapters = append(s.Adapters, status.Adapter{Key: "prod/new-venue", Name: "new-venue", Environment: "prod",
			Labels: map[string]string{"venue": "lse"}, Phase: status.Applied, Health: "Healthy"})
	})
	if got := fmt.Sprint(list(carol, "")); got != "[prod/lse-fix-primary prod/new-venue uat/lse-fix-primary]" {
		t.Errorf("after an adapter is added: %s", got)
	}
}

// TestSyncIsRecorded: a manual sync is recorded with the caller and the
// reason, and asks the reconciler.
func TestSyncIsRecorded(t *testing.T) {
	w := newWorld(t)
	resp, body := w.do("POST", "/api/v1/sync", w.keys["admin-bot"], []byte(`{"reason": "venue reset its sequence numbers"}`))
	if resp.StatusCode != 202 || w.synced != 1 {
		t.Fatalf("sync: %d %s, synced %d", resp.StatusCode, body, w.synced)
	}
	recs := w.records(history.SyncRequested)
	if len(recs) != 1 || recs[0].Actor != "admin-bot" || recs[0].Note != "reason: venue reset its sequence numbers" ||
		recs[0].Access.Actor.Method != "apikey" || recs[0].Access.Actor.KeyID == "" {
		t.Fatalf("sync record: %+v", recs)
	}
	if v, err := w.store.Verify(t.Context()); err != nil || !v.OK {
		t.Errorf("the chain after access records: %+v, %v", v, err)
	}
}
