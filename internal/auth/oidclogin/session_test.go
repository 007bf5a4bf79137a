package oidclogin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSessionTimeoutEndsTheLogin(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.login("alice", "/")
	e.clk.Step(8*time.Hour - time.Second)
	if _, st := b.whoami(); st != http.StatusOK {
		t.Fatalf("a second before the timeout: HTTP %d", st)
	}
	e.clk.Step(time.Second)
	pg := b.get(e.app.URL + "/whoami")
	if pg.status != http.StatusUnauthorized || !strings.Contains(pg.body, "expired") {
		t.Errorf("at the timeout: HTTP %d %q", pg.status, pg.body)
	}
}

func TestNewLoginEndsTheBrowsersPreviousSession(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.login("alice", "/")
	first := b.cookie(e.authn.SessionCookie())
	b.login("bob", "/")
	if p, st := b.whoami(); st != http.StatusOK || p.Name != "bob@acme.example" {
		t.Fatalf("after the second login: %+v, HTTP %d", p, st)
	}
	old := e.browser()
	if pg := old.get(e.app.URL+"/whoami", "Cookie", e.authn.SessionCookie()+"="+first); pg.status != http.StatusUnauthorized {
		t.Errorf("the first session still authenticates: HTTP %d %s", pg.status, pg.body)
	}
	if n := e.authn.Sessions().Len(); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
}

// loggedIn is a browser logged in as alice, that does not follow
// redirects, and its session cookie's value.
func loggedIn(t *testing.T, e *env) (*browser, string) {
	t.Helper()
	b := e.browser()
	b.login("alice", "/")
	b.noFollow = true
	id := b.cookie(e.authn.SessionCookie())
	if id == "" {
		t.Fatal("no session cookie after login")
	}
	return b, id
}

func TestLogoutEndsTheSession(t *testing.T) {
	e := newEnv(t, envOptions{})
	b, id := loggedIn(t, e)
	pg := b.post(e.app.URL+PathLogout, url.Values{CSRFField: {e.h.CSRFToken(id)}})
	doc, err := e.p.Discovery(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	end, _ := doc["end_session_endpoint"].(string)
	loc := pg.header.Get("Location")
	if pg.status != http.StatusSeeOther || end == "" || loc != end+"?client_id="+e.p.ClientID {
		t.Errorf("logout: HTTP %d to %q, want the provider's %q", pg.status, loc, end)
	}
	if c := setCookie(pg.resp, e.authn.SessionCookie()); c == nil || c.MaxAge >= 0 || c.Value != "" || !c.Secure || c.Path != "/" {
		t.Errorf("session cookie not expired: %+v", c)
	}
	if _, st := b.whoami(); st != http.StatusUnauthorized {
		t.Errorf("after logout: HTTP %d", st)
	}
	// The old cookie, replayed, names no session any more.
	if pg := e.browser().get(e.app.URL+"/whoami", "Cookie", e.authn.SessionCookie()+"="+id); pg.status != http.StatusUnauthorized {
		t.Errorf("replayed cookie after logout: HTTP %d", pg.status)
	}
	if ev := e.events.last(); ev.Kind != EventLogout || ev.Principal.Name != "alice@acme.example" {
		t.Errorf("event %+v", ev)
	}
}

func TestLogoutNeedsACSRFTokenOrTheSameOrigin(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, tc := range []struct {
		name   string
		method string
		token  string // "ok" is the session's token
		header []string
		// status is the answer; loggedOut whether the session ended.
		status    int
		loggedOut bool
	}{
		{"post with the token", http.MethodPost, "ok", nil, http.StatusSeeOther, true},
		{"post with the token in the header", http.MethodPost, "", []string{CSRFHeader, "ok"}, http.StatusSeeOther, true},
		{"post without token or origin", http.MethodPost, "", nil, http.StatusForbidden, false},
		{"post with a wrong token", http.MethodPost, "AAAA", nil, http.StatusForbidden, false},
		{"post from another site", http.MethodPost, "", []string{"Origin", "https://evil.example"}, http.StatusForbidden, false},
		{"post cross-site by fetch metadata", http.MethodPost, "", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden, false},
		{"post from this origin", http.MethodPost, "", []string{"Origin", "(app)"}, http.StatusSeeOther, true},
		{"post same-origin by fetch metadata", http.MethodPost, "", []string{"Sec-Fetch-Site", "same-origin"}, http.StatusSeeOther, true},
		{"get without fetch metadata", http.MethodGet, "", nil, http.StatusOK, false},
		{"get cross-site", http.MethodGet, "", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusOK, false},
		{"get same-origin", http.MethodGet, "", []string{"Sec-Fetch-Site", "same-origin"}, http.StatusSeeOther, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, id := loggedIn(t, e)
			hdr := resolve(tc.header, e, id)
			var pg page
			if tc.method == http.MethodGet {
				pg = b.get(e.app.URL+PathLogout, hdr...)
			} else {
				pg = b.post(e.app.URL+PathLogout, url.Values{CSRFField: resolve([]string{tc.token}, e, id)}, hdr...)
			}
			_, st := b.whoami()
			if pg.status != tc.status || (st == http.StatusUnauthorized) != tc.loggedOut {
				t.Errorf("HTTP %d (want %d); whoami after: HTTP %d (logged out: want %v)", pg.status, tc.status, st, tc.loggedOut)
			}
			if pg.status == http.StatusOK && !strings.Contains(pg.body, `value="`+e.h.CSRFToken(id)+`"`) {
				t.Errorf("confirmation page lacks the CSRF token: %s", pg.body)
			}
		})
	}
}

// resolve replaces "ok" by id's CSRF token and "(app)" by cairn's origin.
func resolve(vals []string, e *env, id string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		switch v {
		case "ok":
			v = e.h.CSRFToken(id)
		case "(app)":
			v = e.app.URL
		}
		out[i] = v
	}
	return out
}

func TestLogoutWithoutASession(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	b.noFollow = true
	pg := b.post(e.app.URL+PathLogout, nil, "Cookie", e.authn.SessionCookie()+"=not-a-session")
	if pg.status != http.StatusSeeOther || pg.header.Get("Location") != "/" {
		t.Errorf("HTTP %d to %q, want 303 to / (discovery never ran)", pg.status, pg.header.Get("Location"))
	}
	if c := setCookie(pg.resp, e.authn.SessionCookie()); c == nil || c.MaxAge >= 0 {
		t.Errorf("stale cookie not expired: %+v", c)
	}
	if n := len(e.events.all()); n != 0 {
		t.Errorf("%d events for a logout that ended nothing", n)
	}
}

func TestCSRFTokens(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, id := loggedIn(t, e)
	_, other := loggedIn(t, e)
	tok := e.h.CSRFToken(id)
	if tok == e.h.CSRFToken(other) || strings.Contains(tok, id) || len(tok) != 43 {
		t.Fatalf("tokens %q / %q", tok, e.h.CSRFToken(other))
	}
	post := func(cookie, header, field string) *http.Request {
		r, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "/portal/sync",
			strings.NewReader(url.Values{CSRFField: {field}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: e.authn.SessionCookie(), Value: cookie})
		}
		if header != "" {
			r.Header.Set(CSRFHeader, header)
		}
		return r
	}
	for _, tc := range []struct {
		name string
		r    *http.Request
		want bool
	}{
		{"form field", post(id, "", tok), true},
		{"header", post(id, tok, ""), true},
		{"no token", post(id, "", ""), false},
		{"another session's token", post(id, "", e.h.CSRFToken(other)), false},
		{"no session cookie", post("", tok, tok), false},
		{"unknown session", post(strings.Repeat("A", 43), e.h.CSRFToken(strings.Repeat("A", 43)), ""), false},
		{"wrong header, right field", post(id, "AAAA", tok), false},
	} {
		if got := e.h.CheckCSRF(tc.r); got != tc.want {
			t.Errorf("%s: CheckCSRF = %v, want %v", tc.name, got, tc.want)
		}
	}
	r := post(id, "", "")
	if got, ok := e.h.RequestCSRFToken(r); !ok || got != tok {
		t.Errorf("RequestCSRFToken = %q, %v", got, ok)
	}
	e.clk.Step(8 * time.Hour)
	if e.h.CheckCSRF(post(id, tok, "")) {
		t.Error("CSRF token of an expired session accepted")
	}
}
