package oidclogin

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestNoSecretInLogsEventsOrAnswers runs logins that succeed and fail and
// a logout, then looks for every secret they involved in the log, the
// events and every answer cairn gave.
func TestNoSecretInLogsEventsOrAnswers(t *testing.T) {
	e := newEnv(t, envOptions{})
	var browsers []*browser
	run := func(setup func()) *browser {
		setup()
		b := e.browser()
		browsers = append(browsers, b)
		b.login("alice", "/")
		return b
	}
	ok := run(func() {})
	run(func() { e.tamper.wrongVerifier.Store(true) })
	run(func() { e.tamper.wrongVerifier.Store(false); e.tamper.setClaims(map[string]any{"aud": []string{"x"}}) })
	run(func() { e.tamper.setClaims(map[string]any{"nonce": "n"}) })
	e.tamper.setClaims(nil)
	id := ok.cookie(e.authn.SessionCookie())
	ok.post(e.app.URL+PathLogout, url.Values{CSRFField: {e.h.CSRFToken(id)}})

	secrets := append(e.tamper.secrets(), e.p.ClientSecret, password("alice"), id)
	var answers []string
	for _, b := range browsers {
		secrets = append(secrets, hopSecrets(b)...)
		answers = append(answers, b.bodies...)
	}
	if len(secrets) < 20 {
		t.Fatalf("only %d secrets collected: the search would prove little", len(secrets))
	}
	logs := e.log.String()
	if !strings.Contains(logs, "oidclogin: login failed") || !strings.Contains(logs, "oidclogin: logout") {
		t.Fatalf("the log lacks the logins it should record:\n%s", logs)
	}
	for name, text := range map[string]string{"log": logs, "events": fmt.Sprintf("%+v", e.events.all()),
		"answers": strings.Join(answers, "\n")} {
		if l := leaks(text, secrets); len(l) > 0 {
			t.Errorf("%s contains secrets %v", name, l)
		}
	}
}

// hopSecrets are the codes, states, nonces, challenges and cookie values
// of a browser's redirects.
func hopSecrets(b *browser) []string {
	var out []string
	for _, h := range b.hops {
		for _, c := range h.Cookies() {
			out = append(out, c.Value)
		}
		if loc, err := h.Location(); err == nil {
			q := loc.Query()
			for _, k := range []string{"code", "state", "nonce", "code_challenge"} {
				out = append(out, q.Get(k))
			}
		}
		if h.Request.URL.Path == PathCallback {
			out = append(out, h.Request.URL.Query().Get("code"))
		}
	}
	return out
}

// leaks reports which secrets (or, for a JWS, its payload or signature)
// text contains; secrets shorter than 8 characters are ignored.
func leaks(text string, secrets []string) []string {
	var out []string
	for _, s := range secrets {
		parts := []string{s}
		if strings.Count(s, ".") == 2 {
			p := strings.Split(s, ".")
			parts = append(parts, p[1], p[2])
		}
		for _, part := range parts {
			if len(part) >= 8 && strings.Contains(text, part) {
				out = append(out, part[:8]+"...")
			}
		}
	}
	return out
}
