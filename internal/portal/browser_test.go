package portal_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cairn-gitops/cairn/internal/api"
	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth"
	"github.com/cairn-gitops/cairn/internal/auth/oidclogin"
	"github.com/cairn-gitops/cairn/internal/browsertest"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/history/sqlitestore"
	"github.com/cairn-gitops/cairn/internal/oidctest"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/render"
)

// users of the provider: alice operates (her group is bound to operator),
// bob only views (the default role).
var users = []oidctest.User{
	{ID: "u-alice", Username: "alice", Password: "alice-pw-4f1e", Email: "alice@acme.example", Groups: []string{"venue-connectivity"}},
	{ID: "u-bob", Username: "bob", Password: "bob-pw-93c2", Email: "bob@acme.example"},
}

// site is cairn's API server with the portal, behind the browser login
// of a local OpenID provider, over a status and an audit store.
type site struct {
	url    string
	synced atomic.Int32
}

func startSite(t *testing.T) *site {
	t.Helper()
	s := &site{}
	var handler atomic.Pointer[http.Handler]
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }))
	t.Cleanup(app.Close)
	s.url = app.URL
	idp := oidctest.Start(t, oidctest.Options{Users: users, RedirectURI: app.URL + oidclogin.PathCallback})
	cfg := &v1.SecurityConfig{
		TypeMeta: v1.TypeMeta{APIVersion: "cairn.dev/v1alpha1", Kind: "SecurityConfig"}, Metadata: v1.ObjectMeta{Name: "portal"},
		Spec: v1.SecuritySpec{
			Authentication: &v1.Authentication{JWT: &v1.JWT{Issuer: idp.Issuer, Audience: []string{idp.ClientID},
				JWKSURI: idp.JWKSURI(), UsernameClaim: "email", GroupsClaim: "groups"}},
			SSO: &v1.SSO{Provider: v1.ProviderOIDC, OIDC: &v1.OIDCSSO{Issuer: idp.Issuer, ClientID: idp.ClientID,
				ClientSecretRef: v1.SecretKeyRef{Name: "cairn-oidc", Key: "client-secret"},
				Scopes:          []string{"openid", "email", "profile", "groups"}, RedirectURI: app.URL + oidclogin.PathCallback, GroupsClaim: "groups"}},
			RBAC: &v1.RBAC{DefaultRole: v1.RoleViewer, Bindings: []v1.Binding{
				{Role: v1.RoleOperator, Subject: v1.Subject{Type: "group", Name: "venue-connectivity"}}}},
			Sessions: &v1.Sessions{Timeout: "1h", MaxConcurrent: 3},
		},
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	authn, err := auth.New(cfg, auth.Options{Logger: log, SessionCookie: "cairn-session"})
	if err != nil {
		t.Fatal(err)
	}
	login, err := oidclogin.New(cfg, authn, oidclogin.Options{ClientSecret: []byte(idp.ClientSecret), Logger: log, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	appendHistory(t, store)
	h := api.New(api.Options{Branch: "main", Logger: log, Auth: authn, Login: login, Status: fixtureStatus(), History: store,
		Rendered: rendered, Sync: func() error { s.synced.Add(1); return nil }})
	if err := h.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	t.Cleanup(func() { app.Close(); cancel(); <-done; store.Close() })
	var hh http.Handler = h
	handler.Store(&hh)
	return s
}

func fixtureStatus() *status.Store {
	st := status.NewStore("https://git.example/config.git", "main")
	now := time.Now().UTC()
	st.Update(func(s *status.Snapshot) {
		s.Leader, s.Applied, s.AppliedAt = true, strings.Repeat("a", 40), now.Add(-time.Minute)
		s.Fetched, s.FetchedAt = strings.Repeat("a", 40), now
		s.Last = &status.Revision{Revision: strings.Repeat("a", 40), Subject: "lse: heartbeat 15s", Phase: status.Applied, StartedAt: now}
		for _, a := range []struct{ env, name, venue, health string }{
			{"prod", "lse-fix-primary", "lse", "Healthy"}, {"prod", "eurex-fix-derivatives", "eurex", "Degraded"},
			{"uat", "lse-fix-primary", "lse", "Healthy"}, {"uat", "kafka-orders-bridge", "internal", "Progressing"},
		} {
			s.Adapters = append(s.Adapters, status.Adapter{Key: a.env + "/" + a.name, Name: a.name, Environment: a.env,
				Namespace: "connectivity-" + a.env, Protocol: "fix", Role: "initiator", Labels: map[string]string{"venue": a.venue},
				Phase: status.Applied, Health: a.health, AppliedRevision: strings.Repeat("a", 40), HelmVersion: 2, AppliedAt: now})
		}
	})
	return st
}

func rendered(key string) (render.Release, bool) {
	return render.Release{Name: "lse-fix-primary", Namespace: "connectivity-prod", Environment: "prod", Chart: "adapter-0.3.0",
		Values: map[string]any{"fix": map[string]any{"heartbeatSeconds": 15}},
		Objects: []render.Object{{APIVersion: "apps/v1", Kind: "Deployment", Name: "lse-fix-primary", Template: "templates/deployment.yaml",
			YAML: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: lse-fix-primary\n"}}}, key == "prod/lse-fix-primary"
}

// appendHistory records prod/lse-fix-primary installed by Alice's pull
// request and upgraded by Bob's, which changed the heartbeat.
func appendHistory(t *testing.T, store history.Store) {
	t.Helper()
	at := time.Now().UTC().Add(-time.Hour)
	for i, c := range []struct {
		event   history.Event
		author  string
		pr      int
		changes []history.Change
	}{
		{history.AdapterInstalled, "Alice Liddell", 41, nil},
		{history.AdapterUpgraded, "Bob Marley", 42, []history.Change{{Pointer: "/spec/fix/heartbeatSeconds", Kind: "changed", Before: 30, After: 15, Risk: "low"}}},
	} {
		rec := history.Record{Time: at.Add(time.Duration(i) * time.Minute), Event: c.event, Environment: "prod", Adapter: "lse-fix-primary",
			Revision: fmt.Sprintf("%040d", i+1), Release: "lse-fix-primary", HelmVersion: i + 1, Outcome: history.Succeeded, Actor: "cairn",
			Commits: []history.Commit{{Hash: fmt.Sprintf("%040x", i+10), Subject: "lse-fix-primary: change " + fmt.Sprint(i+1),
				Author:    history.Person{Name: c.author, Email: strings.ToLower(strings.Fields(c.author)[0]) + "@acme.example"},
				Signature: "verified", PullRequest: c.pr, Approvers: []string{"carol"}, Merger: "dave"}},
			Changes: c.changes}
		if err := store.Append(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
}

// logIn opens path, which sends the browser to the provider's login form,
// and logs in there; the browser comes back to path.
func logIn(t *testing.T, ctx context.Context, base, path, username, password string) {
	t.Helper()
	run(t, ctx, "log in as "+username,
		chromedp.Navigate(base+path),
		chromedp.WaitVisible(`#username`, chromedp.ByID),
		chromedp.SendKeys(`#username`, username, chromedp.ByID),
		chromedp.SendKeys(`#password`, password, chromedp.ByID),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`main h1`, chromedp.ByQuery))
}

// run and shot are browsertest's.
var run, shot = browsertest.Run, browsertest.Shot

// TestBrowserOperator: an operator logs in through the provider and reads
// every page in a real browser: the counts, a filtered list with the last
// change's author, an adapter's diff, the audit log's verification; and
// syncs with a reason. Each page's screenshot is saved.
func TestBrowserOperator(t *testing.T) {
	ctx := browsertest.Start(t, 90*time.Second)
	s, dir := startSite(t), browsertest.OutputDir(t, "portal")
	logIn(t, ctx, s.url, "/", "alice", users[0].Password)

	var total, attention, timeTitle string
	run(t, ctx, "overview",
		chromedp.Text(`#total-adapters`, &total, chromedp.ByID),
		chromedp.Text(`main`, &attention, chromedp.ByQuery),
		chromedp.AttributeValue(`time`, "title", &timeTitle, nil, chromedp.ByQuery))
	if total != "4" || !strings.Contains(attention, "prod/eurex-fix-derivatives") {
		t.Errorf("overview: total %q; attention %q", total, attention)
	}
	if !strings.HasSuffix(timeTitle, " UTC") {
		t.Errorf("a time's title is %q, want the UTC time (the script converts the text to the viewer's zone)", timeTitle)
	}
	shot(t, ctx, dir, "overview")

	var notice string
	run(t, ctx, "sync now",
		chromedp.SendKeys(`#reason`, "venue reset its sequence numbers", chromedp.ByID),
		chromedp.Click(`form.sync-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.notice`, chromedp.ByQuery),
		chromedp.Text(`p.notice`, &notice, chromedp.ByQuery))
	if !strings.Contains(notice, "Sync requested") || s.synced.Load() != 1 {
		t.Errorf("sync: notice %q, %d syncs", notice, s.synced.Load())
	}
	shot(t, ctx, dir, "overview-synced")

	var shown, table string
	run(t, ctx, "adapters filtered by the form",
		chromedp.Navigate(s.url+"/adapters"),
		chromedp.WaitVisible(`form.filters`, chromedp.ByQuery),
		chromedp.SetValue(`select[name=environment]`, "prod", chromedp.ByQuery),
		chromedp.SetValue(`select[name=venue]`, "lse", chromedp.ByQuery),
		chromedp.Submit(`form.filters`, chromedp.ByQuery),
		chromedp.WaitReady(`//option[@selected and text()="lse"]`, chromedp.BySearch),
		chromedp.Text(`#shown-count`, &shown, chromedp.ByID),
		chromedp.Text(`table.adapters`, &table, chromedp.ByQuery))
	if shown != "1" || !strings.Contains(table, "Bob Marley") || !strings.Contains(table, "PR #42") {
		t.Errorf("adapters: %q shown; table %q", shown, table)
	}
	shot(t, ctx, dir, "adapters")
	run(t, ctx, "narrow screen", chromedp.EmulateViewport(390, 844), chromedp.Navigate(s.url+"/adapters"),
		chromedp.WaitVisible(`table.adapters`, chromedp.ByQuery))
	shot(t, ctx, dir, "adapters-narrow")
	run(t, ctx, "wide screen", chromedp.EmulateViewport(1280, 900))

	var diff, objects string
	run(t, ctx, "one adapter",
		chromedp.Click(`//a[text()="lse-fix-primary"]`, chromedp.BySearch),
		chromedp.WaitVisible(`ol.timeline`, chromedp.ByQuery),
		chromedp.Text(`ol.timeline`, &diff, chromedp.ByQuery),
		chromedp.Text(`ul.objects`, &objects, chromedp.ByQuery))
	for _, want := range []string{"/spec/fix/heartbeatSeconds", "30", "15", "Bob Marley", "Alice Liddell", "approved by carol", "PR #41"} {
		if !strings.Contains(diff, want) {
			t.Errorf("the adapter's timeline lacks %q: %q", want, diff)
		}
	}
	if !strings.Contains(objects, "Deployment") {
		t.Errorf("rendered objects: %q", objects)
	}
	shot(t, ctx, dir, "adapter")

	var verification string
	run(t, ctx, "audit log",
		chromedp.Navigate(s.url+"/audit?event=sync.requested"),
		chromedp.WaitVisible(`ol.timeline`, chromedp.ByQuery),
		chromedp.Text(`ol.timeline`, &diff, chromedp.ByQuery),
		chromedp.Click(`//a[text()="Verify the chain"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#verification`, chromedp.ByID),
		chromedp.Text(`#verification`, &verification, chromedp.ByID))
	if !strings.Contains(diff, "venue reset its sequence numbers") || !strings.Contains(diff, "alice@acme.example") {
		t.Errorf("the audit log does not show the sync with its reason and actor: %q", diff)
	}
	if !strings.HasPrefix(verification, "Chain verified") {
		t.Errorf("verification: %q", verification)
	}
	shot(t, ctx, dir, "audit")
}

// TestBrowserViewer: a viewer sees no "sync now", and a form posted to
// /sync anyway (with the session's own CSRF token) is refused with 403.
func TestBrowserViewer(t *testing.T) {
	ctx := browsertest.Start(t, 90*time.Second)
	s, dir := startSite(t), browsertest.OutputDir(t, "portal")
	logIn(t, ctx, s.url, "/", "bob", users[1].Password)
	var forms int
	var main string
	run(t, ctx, "overview", chromedp.Text(`main`, &main, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('form[action="/sync"]').length`, &forms))
	if forms != 0 || strings.Contains(main, "Sync now") {
		t.Errorf("a viewer sees sync now (%d forms)", forms)
	}
	shot(t, ctx, dir, "viewer-overview")

	var refusal string
	run(t, ctx, "post anyway",
		chromedp.Evaluate(`(() => {
			const f = document.createElement('form');
			f.method = 'post'; f.action = '/sync';
			for (const [k, v] of [['reason', 'posting anyway'], ['csrf_token', document.querySelector('input[name=csrf_token]').value]]) {
				const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);
			}
			document.body.appendChild(f); f.submit(); return true;
		})()`, nil),
		chromedp.WaitVisible(`//h1[contains(., "403")]`, chromedp.BySearch),
		chromedp.Text(`main`, &refusal, chromedp.ByQuery))
	if !strings.Contains(refusal, "you may not sync:create here") || s.synced.Load() != 0 {
		t.Errorf("the viewer's post: %q; %d syncs", refusal, s.synced.Load())
	}
	shot(t, ctx, dir, "viewer-sync-refused")
}
