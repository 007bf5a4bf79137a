package oidclogin

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/auth/identity"
)

func TestLoginStartsASessionTheAuthenticatorAccepts(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	pg := b.login("alice", "/adapters?env=prod")
	if pg.status != http.StatusOK || pg.body != "page /adapters" || pg.url.RawQuery != "env=prod" {
		t.Fatalf("after login: HTTP %d at %s: %q", pg.status, pg.url, pg.body)
	}

	// The redirect to the provider: code flow, PKCE S256, nonce, state.
	start := b.hop(PathLogin)
	loc, err := start.Location()
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if !strings.HasPrefix(loc.String(), e.p.Issuer+"/auth?") || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 ||
		q.Get("nonce") == "" || q.Get("state") == "" || q.Get("redirect_uri") != e.app.URL+PathCallback ||
		q.Get("scope") != "openid email profile groups" || q.Get("client_id") != e.p.ClientID {
		t.Errorf("authorization request %s", loc)
	}
	lc := setCookie(start, "__Host-cairn-login")
	if lc == nil || lc.Value != q.Get("state") || !lc.HttpOnly || !lc.Secure || lc.SameSite != http.SameSiteLaxMode ||
		lc.Path != "/" || lc.MaxAge != 600 || lc.Domain != "" {
		t.Errorf("login cookie %+v", lc)
	}

	// The callback: the session cookie, the login cookie expired.
	cb := b.hop(PathCallback)
	sc := setCookie(cb, e.authn.SessionCookie())
	if sc == nil || len(sc.Value) != 43 || !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteLaxMode ||
		sc.Path != "/" || sc.Domain != "" || sc.MaxAge != int((8*time.Hour).Seconds()) {
		t.Errorf("session cookie %+v", sc)
	}
	if c := setCookie(cb, "__Host-cairn-login"); c == nil || c.MaxAge >= 0 {
		t.Errorf("login cookie not expired at the callback: %+v", c)
	}
	if e.authn.SessionCookie() != "__Host-cairn-session" || cb.StatusCode != http.StatusFound {
		t.Errorf("cookie %s, callback HTTP %d", e.authn.SessionCookie(), cb.StatusCode)
	}

	// The Authenticator takes the cookie for alice with her groups.
	p, status := b.whoami()
	want := identity.Principal{Kind: identity.User, Name: "alice@acme.example",
		Groups: []string{"venue-connectivity", "uat-operators"}, Method: identity.Session}
	if status != http.StatusOK || p.Kind != want.Kind || p.Name != want.Name || !slices.Equal(p.Groups, want.Groups) || p.Method != want.Method {
		t.Errorf("whoami = %+v (HTTP %d), want %+v", p, status, want)
	}
	ev := e.events.last()
	if ev.Kind != EventLogin || ev.Principal.Name != "alice@acme.example" || ev.IP != "127.0.0.1" || ev.UserAgent == "" {
		t.Errorf("event %+v", ev)
	}
	if n := e.h.pending.len(); n != 0 {
		t.Errorf("%d pending logins left after the callback", n)
	}
}
