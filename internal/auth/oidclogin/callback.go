package oidclogin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cairn-gitops/cairn/internal/auth/identity"
)

// Errors a failed callback wraps, besides the libraries' own.
var (
	errState     = errors.New("state does not match a login started in this browser")
	errExchange  = errors.New("code exchange refused")
	errNonce     = errors.New("ID token nonce does not match the login")
	errAZP       = errors.New("ID token authorized party is another client")
	errNoIDToken = errors.New("token response has no ID token")
	errUsername  = errors.New("ID token lacks the username claim")
	errEmail     = errors.New("ID token email is not verified")
)

// callback finishes a login: state, code exchange, ID token, session.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request, cfg *settings) {
	pl, f := h.takeState(w, r, cfg)
	if f != nil {
		h.fail(w, r, *f)
		return
	}
	q := r.URL.Query()
	if code := q.Get("error"); code != "" {
		h.fail(w, r, failure{status: http.StatusBadRequest, reason: ReasonProviderError,
			err: fmt.Errorf("provider answered error %s", oauthCode(code))})
		return
	}
	if q.Get("code") == "" {
		h.fail(w, r, failure{status: http.StatusBadRequest, reason: ReasonMissingCode, err: errors.New("callback without a code")})
		return
	}
	p, err := cfg.disc.get(r.Context())
	if err != nil {
		h.fail(w, r, failure{status: http.StatusBadGateway, reason: ReasonProviderUnavailable, err: err})
		return
	}
	who, f := h.identify(r.Context(), cfg, p, q.Get("code"), pl)
	if f != nil {
		h.fail(w, r, *f)
		return
	}
	h.startSession(w, r, who, pl.next)
}

// takeState checks the query's state against the login cookie and takes
// the pending login it names. A mismatch leaves the pending login (so a
// forged callback cannot abort a real one); a match consumes it and the
// cookie.
func (h *Handler) takeState(w http.ResponseWriter, r *http.Request, cfg *settings) (pendingLogin, *failure) {
	bad := &failure{status: http.StatusBadRequest, reason: ReasonBadState, err: errState}
	state := r.URL.Query().Get("state")
	c, err := r.Cookie(h.loginCookieName())
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(c.Value)) != 1 {
		return pendingLogin{}, bad
	}
	h.expire(w, h.loginCookieName())
	pl, ok := h.pending.take(state, h.opts.Clock.Now())
	if !ok {
		return pendingLogin{}, bad
	}
	if !cfg.sameClient(pl.cfg) {
		return pendingLogin{}, &failure{status: http.StatusBadRequest, reason: ReasonConfigChanged,
			err: errors.New("the SSO settings changed during the login")}
	}
	return pl, nil
}

// identify exchanges code and returns who its ID token names.
func (h *Handler) identify(ctx context.Context, cfg *settings, p *provider, code string, pl pendingLogin) (identity.Principal, *failure) {
	tok, err := h.oauth2(cfg, p).Exchange(oidc.ClientContext(ctx, h.opts.HTTPClient), code, oauth2.VerifierOption(pl.verifier))
	if err != nil {
		return identity.Principal{}, &failure{status: http.StatusBadGateway, reason: ReasonExchangeFailed, err: exchangeError(err)}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return identity.Principal{}, &failure{status: http.StatusBadGateway, reason: ReasonNoIDToken, err: errNoIDToken}
	}
	idt, err := p.oidc.Verifier(&oidc.Config{ClientID: cfg.clientID, Now: h.opts.Clock.Now}).Verify(ctx, raw)
	if err != nil {
		return identity.Principal{}, &failure{status: http.StatusBadGateway, reason: ReasonBadIDToken, err: fmt.Errorf("verify ID token: %w", err)}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(pl.nonce)) != 1 {
		return identity.Principal{}, &failure{status: http.StatusBadGateway, reason: ReasonBadNonce, err: errNonce}
	}
	return principal(idt, cfg)
}

// principal reads the user and groups from a verified ID token.
func principal(idt *oidc.IDToken, cfg *settings) (identity.Principal, *failure) {
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return identity.Principal{}, &failure{status: http.StatusBadGateway, reason: ReasonBadIDToken, err: fmt.Errorf("read ID token claims: %w", err)}
	}
	if azp, _ := claims["azp"].(string); len(idt.Audience) > 1 && azp != cfg.clientID {
		return identity.Principal{}, &failure{status: http.StatusBadGateway, reason: ReasonBadIDToken, err: errAZP}
	}
	name, _ := claims[cfg.usernameClaim].(string)
	if name == "" {
		return identity.Principal{}, &failure{status: http.StatusBadGateway, reason: ReasonMissingClaim,
			err: fmt.Errorf("%w %q", errUsername, cfg.usernameClaim)}
	}
	if cfg.usernameClaim == "email" && unverified(claims["email_verified"]) {
		return identity.Principal{}, &failure{status: http.StatusForbidden, reason: ReasonUnverifiedEmail, err: errEmail}
	}
	return identity.Principal{Kind: identity.User, Name: name, Groups: stringsClaim(claims[cfg.groupsClaim]),
		Method: identity.Session}, nil
}

// unverified reports whether an email_verified claim says false.
func unverified(v any) bool {
	switch b := v.(type) {
	case bool:
		return !b
	case string:
		return b == "false"
	}
	return false
}

// stringsClaim reads a list of strings or a single string, as jwtauth
// does; other values and items are left out.
func stringsClaim(v any) []string {
	switch x := v.(type) {
	case string:
		if x != "" {
			return []string{x}
		}
	case []any:
		var out []string
		for _, it := range x {
			if s, ok := it.(string); ok && s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// startSession creates the session, sets its cookie, ends the session the
// browser held before, and sends the browser to next.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, who identity.Principal, next string) {
	s, err := h.sessions.Create(who)
	if err != nil {
		h.fail(w, r, failure{status: http.StatusInternalServerError, reason: ReasonSessionFailed, err: err})
		return
	}
	if old := h.sessionID(r); old != "" {
		h.sessions.Delete(old)
	}
	http.SetCookie(w, h.sessionCookie(s))
	h.log.InfoContext(r.Context(), "oidclogin: login", "principal", who, "ip", h.opts.ClientIP(r))
	h.emit(r, Event{Kind: EventLogin, Principal: who})
	http.Redirect(w, r, next, http.StatusFound)
}

// exchangeError keeps only the status and the OAuth error code of a
// refused exchange: the body and description are the provider's words,
// not ours to log.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Errorf("%w: HTTP %d, error %s", errExchange, status, oauthCode(re.ErrorCode))
	}
	return fmt.Errorf("%w: %w", errExchange, err)
}

// oauthCode returns an OAuth error code fit to log (RFC 6749 codes are
// lower case and underscores), else "(other)".
func oauthCode(code string) string {
	if code == "" || len(code) > 64 {
		return "(other)"
	}
	for _, c := range code {
		if (c < 'a' || c > 'z') && c != '_' {
			return "(other)"
		}
	}
	return code
}
