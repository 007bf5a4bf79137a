package oidclogin

import (
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth"
)

func TestSSODisabledByReloadAnswers404(t *testing.T) {
	e := newEnv(t, envOptions{})
	b, id := loggedIn(t, e)
	off := e.config()
	no := false
	off.Spec.SSO.Enabled = &no
	if err := e.h.Reload(off); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{PathLogin + "?next=/", PathCallback + "?code=x&state=y", PathLogout} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req, _ := http.NewRequest(method, e.app.URL+path, nil)
			if pg := b.do(req); pg.status != http.StatusNotFound {
				t.Errorf("%s %s with SSO off: HTTP %d", method, path, pg.status)
			}
		}
	}
	if err := e.h.Reload(nil); err != nil {
		t.Fatal(err)
	}
	if pg := b.get(e.app.URL + PathLogin); pg.status != http.StatusNotFound {
		t.Errorf("login without security.json: HTTP %d", pg.status)
	}
	if err := e.h.Reload(e.config()); err != nil {
		t.Fatal(err)
	}
	if pg := b.get(e.app.URL + PathLogin); pg.status != http.StatusFound || !strings.HasPrefix(pg.header.Get("Location"), e.p.Issuer) {
		t.Errorf("login after SSO is back: HTTP %d to %q", pg.status, pg.header.Get("Location"))
	}
	if e.h.CSRFToken(id) == "" {
		t.Error("no CSRF token")
	}
}

func TestReloadKeepsTheSettingsOnError(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, tc := range []struct {
		name string
		edit func(*v1.SSO)
		want string
	}{
		{"okta", func(s *v1.SSO) { s.Provider = v1.ProviderOkta }, "not supported"},
		{"no oidc block", func(s *v1.SSO) { s.OIDC = nil }, "oidc block"},
		{"no client id", func(s *v1.SSO) { s.OIDC.ClientID = "" }, "clientId"},
		{"plain http issuer", func(s *v1.SSO) { s.OIDC.Issuer = "http://sso.acme.example" }, "https"},
		{"relative redirect", func(s *v1.SSO) { s.OIDC.RedirectURI = "/auth/callback" }, "absolute"},
		{"redirect elsewhere", func(s *v1.SSO) { s.OIDC.RedirectURI = "https://cairn.acme.example/login" }, PathCallback},
	} {
		cfg := e.config()
		tc.edit(cfg.Spec.SSO)
		err := e.h.Reload(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Reload = %v, want an error naming %q", tc.name, err, tc.want)
		}
		if _, err := New(cfg, e.authn, Options{}); err == nil {
			t.Errorf("%s: New accepted it", tc.name)
		}
	}
	if pg := e.browser().login("bob", "/"); pg.status != http.StatusOK {
		t.Errorf("login after refused reloads: HTTP %d", pg.status)
	}
}

func TestLoginStartedUnderAnotherClientIsRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.stopAtCallback = true
	b.login("alice", "/")
	cfg := e.config()
	cfg.Spec.SSO.OIDC.ClientID = "cairn-portal-v2"
	if err := e.h.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	pg := b.get(b.callback.String())
	refused(t, e, b, pg, http.StatusBadRequest, ReasonConfigChanged, 0)
}

func TestDiscoveryIsRetriedAfterAFailure(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.tamper.failDiscovery.Store(true)
	b := e.browser()
	b.noFollow = true
	pg := b.get(e.app.URL + PathLogin)
	if pg.status != http.StatusBadGateway || e.events.last().Reason != ReasonProviderUnavailable {
		t.Fatalf("login with the provider down: HTTP %d, event %+v", pg.status, e.events.last())
	}
	e.tamper.failDiscovery.Store(false)
	if pg := b.get(e.app.URL + PathLogin); pg.status != http.StatusBadGateway || e.tamper.discoveries.Load() != 1 {
		t.Errorf("within the retry delay: HTTP %d after %d discoveries, want 502 after 1", pg.status, e.tamper.discoveries.Load())
	}
	e.clk.Step(DefaultDiscoveryRetry)
	if pg := b.get(e.app.URL + PathLogin); pg.status != http.StatusFound || e.tamper.discoveries.Load() != 2 {
		t.Errorf("after the retry delay: HTTP %d after %d discoveries", pg.status, e.tamper.discoveries.Load())
	}
	b.noFollow = false
	if pg := b.login("alice", "/"); pg.status != http.StatusOK || e.tamper.discoveries.Load() != 2 {
		t.Errorf("login: HTTP %d; discoveries %d, want the cached one", pg.status, e.tamper.discoveries.Load())
	}
}

func TestInsecureModeForPlainHTTP(t *testing.T) {
	e := newEnv(t, envOptions{insecure: true})
	b := e.browser()
	if pg := b.login("bob", "/history"); pg.status != http.StatusOK || pg.body != "page /history" {
		t.Fatalf("login over http: HTTP %d %q", pg.status, pg.body)
	}
	c := setCookie(b.hop(PathCallback), "cairn-session")
	if c == nil || c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie over http: %+v", c)
	}
	if p, st := b.whoami(); st != http.StatusOK || p.Name != "bob@acme.example" {
		t.Errorf("whoami = %+v, HTTP %d", p, st)
	}
	a, err := auth.New(e.config(), auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(e.config(), a, Options{Insecure: true}); err == nil || !strings.Contains(err.Error(), "__Host-") {
		t.Errorf("Insecure with a __Host- cookie: %v", err)
	}
}

func TestOtherPathsAndMethods(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodPost, PathLogin, http.StatusMethodNotAllowed},
		{http.MethodPost, PathCallback, http.StatusMethodNotAllowed},
		{http.MethodPut, PathLogout, http.StatusMethodNotAllowed},
		{http.MethodGet, "/auth/other", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(tc.method, e.app.URL+tc.path, nil)
		pg := b.do(req)
		if pg.status != tc.status || pg.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s: HTTP %d (Cache-Control %q), want %d", tc.method, tc.path, pg.status, pg.header.Get("Cache-Control"), tc.status)
		}
	}
}

func TestPendingLoginsAreBoundedAndTakenOnce(t *testing.T) {
	s := newPendingStore(3)
	now := time.Now()
	for i, state := range []string{"a", "b", "c", "d"} {
		s.put(state, pendingLogin{next: state, expires: now.Add(time.Duration(i+1) * time.Minute)}, now)
	}
	if s.len() != 3 {
		t.Fatalf("%d pending, want 3", s.len())
	}
	if _, ok := s.take("a", now); ok {
		t.Error("the oldest login survived a full table")
	}
	if p, ok := s.take("d", now); !ok || p.next != "d" {
		t.Errorf("take(d) = %+v, %v", p, ok)
	}
	if _, ok := s.take("d", now); ok {
		t.Error("a login taken twice")
	}
	if _, ok := s.take("b", now.Add(2*time.Minute)); ok {
		t.Error("an expired login taken")
	}
}
