package oidclogin

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// refused checks that a login ended on status with reason, set no session
// cookie, left the browser unauthenticated and the store with sessions.
func refused(t *testing.T, e *env, b *browser, pg page, status int, reason Reason, sessions int) {
	t.Helper()
	if pg.status != status {
		t.Errorf("HTTP %d, want %d: %s", pg.status, status, pg.body)
	}
	if c := setCookie(pg.resp, e.authn.SessionCookie()); c != nil {
		t.Errorf("session cookie set on a refused login: %+v", c)
	}
	if b.cookie(e.authn.SessionCookie()) != "" {
		t.Error("the browser holds a session cookie")
	}
	if _, st := b.whoami(); st != http.StatusUnauthorized {
		t.Errorf("whoami after a refused login: HTTP %d", st)
	}
	if ev := e.events.last(); ev.Kind != EventLoginFailed || ev.Reason != reason || ev.Principal.Valid() {
		t.Errorf("event %+v, want login-failed %s", ev, reason)
	}
	if n := e.authn.Sessions().Len(); n != sessions {
		t.Errorf("%d sessions in the store, want %d", n, sessions)
	}
}

func TestCallbackRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		// edit changes the callback URL the provider sent the browser to.
		edit func(q url.Values)
		// stranger sends the callback from another browser (login CSRF).
		stranger bool
		status   int
		reason   Reason
		// genuineAfter: the untouched callback still logs in afterwards
		// (a forged callback cannot abort a real login).
		genuineAfter bool
	}{
		{name: "tampered state", edit: func(q url.Values) { q.Set("state", flip(q.Get("state"))) },
			status: 400, reason: ReasonBadState, genuineAfter: true},
		{name: "no state", edit: func(q url.Values) { q.Del("state") }, status: 400, reason: ReasonBadState, genuineAfter: true},
		{name: "another browser's callback", edit: func(url.Values) {}, stranger: true, status: 400, reason: ReasonBadState, genuineAfter: true},
		{name: "missing code", edit: func(q url.Values) { q.Del("code") }, status: 400, reason: ReasonMissingCode},
		{name: "provider error with markup", edit: func(q url.Values) {
			q.Del("code")
			q.Set("error", "access_denied")
			q.Set("error_description", "<script>alert(1)</script>")
		}, status: 400, reason: ReasonProviderError},
		{name: "unknown code", edit: func(q url.Values) { q.Set("code", "forged-code-0123456789") }, status: 502, reason: ReasonExchangeFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			b := e.browser()
			b.stopAtCallback = true
			b.login("alice", "/")
			genuine := *b.callback
			forged := genuine
			q := forged.Query()
			tc.edit(q)
			forged.RawQuery = q.Encode()
			sender := b
			if tc.stranger {
				sender = e.browser()
			}
			pg := sender.get(forged.String())
			refused(t, e, sender, pg, tc.status, tc.reason, 0)
			if strings.Contains(pg.body, "<script") || strings.Contains(pg.body, "access_denied") ||
				strings.Contains(pg.body, genuine.Query().Get("state")) {
				t.Errorf("the error page echoes the request: %q", pg.body)
			}
			if !tc.genuineAfter {
				return
			}
			b.stopAtCallback = false
			if pg := b.get(genuine.String()); pg.status != http.StatusOK || pg.url.Path != "/" {
				t.Errorf("genuine callback after the forged one: HTTP %d at %s", pg.status, pg.url)
			}
			if p, st := b.whoami(); st != http.StatusOK || p.Name != "alice@acme.example" {
				t.Errorf("whoami = %+v, HTTP %d", p, st)
			}
		})
	}
}

// flip changes the last character of s.
func flip(s string) string {
	if s == "" {
		return "x"
	}
	last := s[len(s)-1]
	c := byte('A')
	if last == 'A' {
		c = 'B'
	}
	return s[:len(s)-1] + string(c)
}

func TestReusedStateIsRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	if pg := b.login("alice", "/"); pg.status != http.StatusOK {
		t.Fatalf("login: HTTP %d", pg.status)
	}
	callback := b.hop(PathCallback).Request.URL.String()
	state := setCookie(b.hop(PathLogin), "__Host-cairn-login").Value
	// The same callback with the same login cookie, as an attacker who
	// captured both would send it.
	replay := e.browser()
	pg := replay.get(callback, "Cookie", "__Host-cairn-login="+state)
	refused(t, e, replay, pg, http.StatusBadRequest, ReasonBadState, 1)
	if p, st := b.whoami(); st != http.StatusOK || p.Name != "alice@acme.example" {
		t.Errorf("the replay ended the real session: %+v, HTTP %d", p, st)
	}
}

func TestWrongVerifierIsRefusedByTheProvider(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.tamper.wrongVerifier.Store(true)
	b := e.browser()
	pg := b.login("alice", "/")
	refused(t, e, b, pg, http.StatusBadGateway, ReasonExchangeFailed, 0)
	if !strings.Contains(e.log.String(), "invalid_grant") {
		t.Errorf("the log does not say the provider refused the grant:\n%s", e.log)
	}
}

func TestIDTokenRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		claims map[string]any // set on the ID token, re-signed by the provider's key
		status int
		reason Reason
		inLog  string
	}{
		{"another audience", map[string]any{"aud": []string{"someone-else"}}, 502, ReasonBadIDToken, "expected audience"},
		{"another issuer", map[string]any{"iss": "https://evil.example"}, 502, ReasonBadIDToken, "different provider"},
		{"expired", map[string]any{"exp": 1_600_000_000}, 502, ReasonBadIDToken, "expired"},
		{"another login's nonce", map[string]any{"nonce": "not-this-login"}, 502, ReasonBadNonce, "nonce"},
		{"two audiences, azp another client", map[string]any{"aud": []string{"cairn", "other"}, "azp": "other"}, 502, ReasonBadIDToken, "authorized party"},
		{"no email", map[string]any{"email": nil}, 502, ReasonMissingClaim, "lacks the username claim"},
		{"email not verified", map[string]any{"email_verified": false}, 403, ReasonUnverifiedEmail, "not verified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			e.tamper.setClaims(tc.claims)
			b := e.browser()
			pg := b.login("alice", "/")
			refused(t, e, b, pg, tc.status, tc.reason, 0)
			if !strings.Contains(e.log.String(), tc.inLog) {
				t.Errorf("log lacks %q:\n%s", tc.inLog, e.log)
			}
		})
	}
}

func TestOpenRedirectsGoHome(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, next := range []string{"//evil.example", "https://evil.example", `/\evil`, `/\\evil.example`, "/\t/evil.example", "javascript:alert(1)"} {
		b := e.browser()
		pg := b.login("bob", next)
		loc := b.hop(PathCallback).Header.Get("Location")
		if loc != "/" || pg.status != http.StatusOK || pg.url.String() != e.app.URL+"/" {
			t.Errorf("next %q: callback sent the browser to %q, ended at %s", next, loc, pg.url)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for _, tc := range []struct{ next, want string }{
		{"/adapters", "/adapters"},
		{"/adapters/prod/lse-fix-primary?tab=history#x", "/adapters/prod/lse-fix-primary?tab=history#x"},
		{"/a/../b", "/a/../b"},
		{"/%2F%2Fevil.example", "/%2F%2Fevil.example"}, // one path segment of this site
		{"", "/"},
		{"adapters", "/"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"https://evil.example", "/"},
		{"https:/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{`/\evil`, "/"},
		{`\\evil.example`, "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/ /evil", "/"},
		{"/\u00a0/evil", "/"},
		{"/\uff0fevil.example", "/"},
		{"/" + strings.Repeat("a", maxNext), "/"},
	} {
		if got := LocalPath(tc.next); got != tc.want {
			t.Errorf("LocalPath(%q) = %q, want %q", tc.next, got, tc.want)
		}
	}
}
