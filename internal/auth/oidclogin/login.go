package oidclogin

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// maxNext is the longest next path kept; longer ones become "/".
const maxNext = 2048

// login starts the code flow: a pending login on the server, its state in
// a cookie, and a redirect to the provider.
func (h *Handler) login(w http.ResponseWriter, r *http.Request, cfg *settings) {
	p, err := cfg.disc.get(r.Context())
	if err != nil {
		h.fail(w, r, failure{status: http.StatusBadGateway, reason: ReasonProviderUnavailable, err: err})
		return
	}
	state, nonce, err := twoRandom()
	if err != nil {
		h.fail(w, r, failure{status: http.StatusInternalServerError, reason: ReasonSessionFailed, err: err})
		return
	}
	verifier := oauth2.GenerateVerifier()
	now := h.opts.Clock.Now()
	h.pending.put(state, pendingLogin{nonce: nonce, verifier: verifier, next: LocalPath(r.URL.Query().Get("next")),
		cfg: cfg, expires: now.Add(LoginTimeout)}, now)
	http.SetCookie(w, h.loginCookie(state, int(LoginTimeout/time.Second)))
	dest := h.oauth2(cfg, p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	http.Redirect(w, r, dest, http.StatusFound)
}

func twoRandom() (string, string, error) {
	a, err := randomString(32)
	if err != nil {
		return "", "", err
	}
	b, err := randomString(32)
	return a, b, err
}

// oauth2 is the client configuration for cfg at provider p.
func (h *Handler) oauth2(cfg *settings, p *provider) *oauth2.Config {
	ep := p.oidc.Endpoint()
	ep.AuthStyle = p.authStyle
	if len(h.opts.ClientSecret) == 0 {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{ClientID: cfg.clientID, ClientSecret: string(h.opts.ClientSecret),
		Endpoint: ep, RedirectURL: cfg.redirectURI, Scopes: cfg.scopes}
}

// LocalPath returns next if it is a path on this site, else "/": it must
// be printable ASCII, start with a single "/", hold no backslash, and name
// no scheme, host or user. The portal may use it for its own redirects.
func LocalPath(next string) string {
	if next == "" || len(next) > maxNext || next[0] != '/' || (len(next) > 1 && next[1] == '/') {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return next
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
