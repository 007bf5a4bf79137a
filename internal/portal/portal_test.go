package portal

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth/identity"
	"github.com/cairn-gitops/cairn/internal/auth/rbac"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/history/sqlitestore"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/render"
)

// hostile is a string an attacker could put in a manifest or a commit.
const hostile = `<script>alert("x")</script>"><img src=x onerror=alert(1)>`

// policy: ops@ is an operator everywhere, view@ a viewer, uat@ a viewer of
// uat only.
const policy = `{"bindings": [
  {"role": "operator", "subject": {"type": "user", "name": "ops@acme.example"}},
  {"role": "viewer", "subject": {"type": "user", "name": "view@acme.example"}},
  {"role": "viewer", "subject": {"type": "user", "name": "uat@acme.example"}, "scope": {"environments": ["uat"]}}
]}`

var (
	operator = identity.Principal{Kind: identity.User, Name: "ops@acme.example", Method: identity.Session}
	viewer   = identity.Principal{Kind: identity.User, Name: "view@acme.example", Method: identity.Session}
	uatOnly  = identity.Principal{Kind: identity.User, Name: "uat@acme.example", Method: identity.Session}
)

// fixture is a portal over a status with four adapters (one of them named
// and labelled by an attacker) and an audit store with their changes.
type fixture struct {
	t      *testing.T
	p      *Portal
	az     *rbac.Authorizer
	store  history.Store
	csrf   *fakeCSRF
	synced []string
}

// fakeCSRF accepts the token "good" in the form.
type fakeCSRF struct{ session bool }

func (f *fakeCSRF) RequestCSRFToken(*http.Request) (string, bool) { return "good", f.session }
func (f *fakeCSRF) CheckCSRF(r *http.Request) bool {
	return f.session && r.PostFormValue("csrf_token") == "good"
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	var rb v1.RBAC
	if err := json.Unmarshal([]byte(policy), &rb); err != nil {
		t.Fatal(err)
	}
	az, err := rbac.New(&v1.SecurityConfig{Spec: v1.SecuritySpec{RBAC: &rb}})
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := &fixture{t: t, az: az, store: store, csrf: &fakeCSRF{session: true}}
	st := status.NewStore("https://git.example/config.git", "main")
	st.Update(func(s *status.Snapshot) {
		s.Leader, s.Applied, s.AppliedAt = true, strings.Repeat("a", 40), time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
		s.Fetched, s.FetchedAt = strings.Repeat("b", 40), time.Date(2026, 11, 2, 9, 31, 0, 0, time.UTC)
		s.Last = &status.Revision{Revision: strings.Repeat("b", 40), Phase: status.Stalled, Reason: "Invalid",
			Message: "adapters/bad.json does not validate"}
		for _, a := range []struct{ env, name, venue, role, health string }{
			{"prod", "lse-fix-primary", "lse", "initiator", "Healthy"},
			{"prod", "eurex-fix-derivatives", "eurex", "initiator", "Degraded"},
			{"uat", "lse-fix-primary", "lse", "acceptor", "Healthy"},
			{"uat", "evil", hostile, "initiator", "Progressing"},
		} {
			s.Adapters = append(s.Adapters, status.Adapter{Key: a.env + "/" + a.name, Name: a.name, Environment: a.env,
				Namespace: "connectivity-" + a.env, Protocol: "fix", Role: a.role, Labels: map[string]string{"venue": a.venue},
				Phase: status.Applied, Health: a.health, HealthMessage: a.health + " " + hostile})
		}
	})
	rendered := func(key string) (render.Release, bool) {
		return render.Release{Name: "lse-fix-primary", Namespace: "connectivity-prod", Environment: "prod", Chart: "adapter-0.3.0",
			Values:  map[string]any{"credentials": map[string]any{"secretRef": map[string]any{"name": "lse-fix-credentials"}}},
			Objects: []render.Object{{APIVersion: "apps/v1", Kind: "Deployment", Name: "lse-fix-primary", Template: "deployment.yaml", YAML: "kind: Deployment\n"}}}, key == "prod/lse-fix-primary"
	}
	f.p = New(Options{Status: st, History: store, Rendered: rendered, CSRF: f.csrf})
	f.appendChange(history.AdapterInstalled, "prod", "lse-fix-primary", 1, "Alice Liddell", 41, nil)
	f.appendChange(history.AdapterUpgraded, "prod", "lse-fix-primary", 2, "Bob Marley", 42,
		[]history.Change{{Pointer: "/spec/fix/heartbeatSeconds", Kind: "changed", Before: 30.0, After: 15.0, Risk: "low"}})
	f.appendChange(history.AdapterUpgraded, "uat", "evil", 3, hostile, 43,
		[]history.Change{{Pointer: "/metadata/labels/venue", Kind: "changed", Before: "x", After: hostile, Risk: "low"}})
	return f
}

func (f *fixture) appendChange(ev history.Event, env, name string, helm int, author string, pr int, changes []history.Change) {
	f.t.Helper()
	rec := history.Record{Time: time.Date(2026, 11, 1, 10, helm, 0, 0, time.UTC), Event: ev, Environment: env, Adapter: name,
		Revision: strings.Repeat("c", 40), Release: name, HelmVersion: helm, Outcome: history.Succeeded, Actor: "cairn",
		Commits: []history.Commit{{Hash: strings.Repeat("d", 40), Subject: "tune " + name, Signature: "verified",
			Author:      history.Person{Name: author, Email: "author@acme.example"},
			PullRequest: pr, Approvers: []string{"carol", "dave"}, Merger: "erin"}},
		Changes: changes}
	if err := f.store.Append(context.Background(), rec); err != nil {
		f.t.Fatal(err)
	}
}

// caller is who as the API's middleware would pass it.
func (f *fixture) caller(who identity.Principal) Caller {
	return Caller{Who: who, Authorizer: f.az, RequestID: "req_test",
		Sync: func(_ context.Context, reason string) error { f.synced = append(f.synced, reason); return nil }}
}

// get serves one page to who and returns its status and body.
func (f *fixture) get(page func(*Portal, http.ResponseWriter, *http.Request, Caller), who identity.Principal, target string) (int, string) {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if m := regexp.MustCompile(`^/adapters/([^/?]+)/([^/?]+)`).FindStringSubmatch(target); m != nil {
		req.SetPathValue("environment", m[1])
		req.SetPathValue("name", m[2])
	}
	return f.serve(page, who, req)
}

func (f *fixture) serve(page func(*Portal, http.ResponseWriter, *http.Request, Caller), who identity.Principal, req *http.Request) (int, string) {
	f.t.Helper()
	rec := httptest.NewRecorder()
	page(f.p, rec, req, f.caller(who))
	body, _ := io.ReadAll(rec.Result().Body)
	if ct := rec.Header().Get("Content-Type"); rec.Code < 300 && ct != "text/html; charset=utf-8" {
		f.t.Errorf("%s: Content-Type %q", req.URL, ct)
	}
	return rec.Code, string(body)
}

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
}

func mustNotContain(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			t.Errorf("the page has %q", u)
		}
	}
}

// TestOverview: counts per environment and health of what the caller may
// see, the refused revision's reason, and "sync now" only for a caller
// granted sync:create everywhere.
func TestOverview(t *testing.T) {
	f := newFixture(t)
	code, body := f.get((*Portal).Overview, operator, "/")
	if code != http.StatusOK {
		t.Fatalf("HTTP %d", code)
	}
	mustContain(t, body, `id="total-adapters">4<`, "Stalled", "adapters/bad.json does not validate",
		`<time datetime="2026-11-02T09:30:00Z">2026-11-02 09:30:00 UTC</time>`, `action="/sync"`, "Sync now",
		`href="/adapters?environment=prod&amp;health=Degraded">1<`, "prod/eurex-fix-derivatives")
	_, body = f.get((*Portal).Overview, viewer, "/")
	mustNotContain(t, body, "Sync now", `action="/sync"`)
	_, body = f.get((*Portal).Overview, uatOnly, "/")
	mustContain(t, body, `id="total-adapters">2<`)
	mustNotContain(t, body, "eurex", "Sync now")
}

// TestSync: the form's post needs the CSRF token and a reason; then the
// sync runs with the reason and the browser goes back to the overview.
func TestSync(t *testing.T) {
	for _, tc := range []struct {
		name string
		// form is what the browser posts; session says whether it has one.
		form    url.Values
		session bool
		// code is the answer; synced whether the sync ran.
		code   int
		synced bool
	}{
		{"no token", url.Values{"reason": {"venue reset"}}, true, http.StatusForbidden, false},
		{"wrong token", url.Values{"reason": {"venue reset"}, "csrf_token": {"bad"}}, true, http.StatusForbidden, false},
		{"no session", url.Values{"reason": {"venue reset"}, "csrf_token": {"good"}}, false, http.StatusForbidden, false},
		{"no reason", url.Values{"reason": {"  "}, "csrf_token": {"good"}}, true, http.StatusBadRequest, false},
		{"ok", url.Values{"reason": {" venue reset "}, "csrf_token": {"good"}}, true, http.StatusSeeOther, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.csrf.session = tc.session
			req := httptest.NewRequest(http.MethodPost, "/sync", strings.NewReader(tc.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			code, body := f.serve((*Portal).Sync, operator, req)
			if code != tc.code {
				t.Errorf("HTTP %d, want %d: %s", code, tc.code, body)
			}
			if got := len(f.synced) == 1 && f.synced[0] == "venue reset"; got != tc.synced {
				t.Errorf("synced %q", f.synced)
			}
		})
	}
}

// TestAdaptersFilterAndSort: each filter narrows the list, sorting follows
// ?sort=, and each row shows its last change where the caller may read it.
func TestAdaptersFilterAndSort(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		query string
		// want are the adapters listed, in order.
		want []string
	}{
		{"", []string{"prod/eurex-fix-derivatives", "prod/lse-fix-primary", "uat/evil", "uat/lse-fix-primary"}},
		{"?environment=uat", []string{"uat/evil", "uat/lse-fix-primary"}},
		{"?venue=lse", []string{"prod/lse-fix-primary", "uat/lse-fix-primary"}},
		{"?health=Degraded", []string{"prod/eurex-fix-derivatives"}},
		{"?role=acceptor&protocol=fix", []string{"uat/lse-fix-primary"}},
		{"?sort=-health", []string{"uat/evil", "prod/lse-fix-primary", "uat/lse-fix-primary", "prod/eurex-fix-derivatives"}},
		{"?sort=-changed", []string{"uat/evil", "prod/lse-fix-primary", "prod/eurex-fix-derivatives", "uat/lse-fix-primary"}},
		{"?sort=nonsense", []string{"prod/eurex-fix-derivatives", "prod/lse-fix-primary", "uat/evil", "uat/lse-fix-primary"}},
	} {
		_, body := f.get((*Portal).Adapters, viewer, "/adapters"+tc.query)
		if got := listed(body); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: listed %q, want %q", tc.query, got, tc.want)
		}
	}
	_, body := f.get((*Portal).Adapters, viewer, "/adapters?environment=prod&sort=name")
	mustContain(t, body, "Bob Marley", "PR #42", `<option selected>prod</option>`, `aria-sort="ascending"`)
	mustNotContain(t, body, "Alice Liddell") // not the last change
	_, body = f.get((*Portal).Adapters, uatOnly, "/adapters")
	if got := listed(body); len(got) != 2 {
		t.Errorf("a viewer of uat sees %q", got)
	}
}

// listed are the adapters a list page links to, in order.
func listed(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<td data-label="Adapter"><a href="/adapters/([^"]+)">`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestAdapterPage: status, the rendered objects, and the timeline with
// author, pull request, approvers, the field-level diff and the Helm
// revision.
func TestAdapterPage(t *testing.T) {
	f := newFixture(t)
	code, body := f.get((*Portal).Adapter, viewer, "/adapters/prod/lse-fix-primary")
	if code != http.StatusOK {
		t.Fatalf("HTTP %d", code)
	}
	mustContain(t, body, "adapter-0.3.0", "Deployment", "lse-fix-credentials", "Bob Marley", "Alice Liddell", "PR #42",
		"approved by carol, dave", "merged by erin", "/spec/fix/heartbeatSeconds", "<code>30</code>", "<code>15</code>",
		`revision <span class="helm-revision">2</span>`)
	if strings.Index(body, "Bob Marley") > strings.Index(body, "Alice Liddell") {
		t.Error("the timeline is not newest first")
	}
	code, _ = f.get((*Portal).Adapter, viewer, "/adapters/prod/nothing")
	if code != http.StatusNotFound {
		t.Errorf("an unknown adapter: HTTP %d", code)
	}
}

// TestHostileStringsEscaped: what a manifest or a commit says is text on
// every page, never markup.
func TestHostileStringsEscaped(t *testing.T) {
	f := newFixture(t)
	for _, pg := range []struct {
		page   func(*Portal, http.ResponseWriter, *http.Request, Caller)
		target string
	}{
		{(*Portal).Overview, "/"}, {(*Portal).Adapters, "/adapters?venue=" + url.QueryEscape(hostile)},
		{(*Portal).Adapter, "/adapters/uat/evil"}, {(*Portal).Audit, "/audit?author=" + url.QueryEscape(hostile)},
	} {
		_, body := f.get(pg.page, operator, pg.target)
		mustNotContain(t, body, "<script>alert", "<img src=x", `"><img`)
		if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Errorf("%s: the hostile string is not shown escaped", pg.target)
		}
	}
}

// TestAudit: filters, paging links, export links for those who may
// export, and the chain's verification on request.
func TestAudit(t *testing.T) {
	f := newFixture(t)
	_, body := f.get((*Portal).Audit, viewer, "/audit?author=Bob+Marley")
	mustContain(t, body, "Bob Marley", "Verify the chain")
	mustNotContain(t, body, "Alice Liddell", "history/export") // a viewer may not export
	_, body = f.get((*Portal).Audit, viewer, "/audit?event=adapter.installed")
	mustContain(t, body, "Alice Liddell", "<option selected>adapter.installed</option>")
	mustNotContain(t, body, "Bob Marley")
	_, body = f.get((*Portal).Audit, viewer, "/audit?since=2026-11-01T10:02&until=2026-11-01T10:03")
	mustContain(t, body, "Bob Marley")
	mustNotContain(t, body, "Alice Liddell")
	_, body = f.get((*Portal).Audit, viewer, "/audit?since=yesterday")
	mustContain(t, body, "since is not a time")
	_, body = f.get((*Portal).Audit, uatOnly, "/audit")
	mustNotContain(t, body, "Bob Marley") // a prod adapter's record
	_, body = f.get((*Portal).Audit, viewer, "/audit?verify=1")
	mustContain(t, body, "Chain verified: 3 records")
	for i := range auditPageSize {
		f.appendChange(history.AdapterUpgraded, "uat", "lse-fix-primary", 10+i%40, "Filler", 0, nil)
	}
	_, body = f.get((*Portal).Audit, viewer, "/audit")
	mustContain(t, body, `href="/audit?before=4" rel="next"`)
	_, body = f.get((*Portal).Audit, viewer, "/audit?before=4")
	mustContain(t, body, "Bob Marley", `href="/audit">Newest`)
}
