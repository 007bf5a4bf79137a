package oidclogin

import (
	"net/http"
	"time"

	"github.com/cairn-gitops/cairn/internal/auth/session"
)

// loginCookieName is the cookie that carries a pending login's state.
func (h *Handler) loginCookieName() string {
	if h.opts.Insecure {
		return "cairn-login"
	}
	return "__Host-cairn-login"
}

// cookieWith is a cookie with the attributes every cookie here has: HttpOnly,
// Secure (unless Insecure), SameSite=Lax, Path=/, no Domain. maxAge < 0
// deletes it.
func (h *Handler) cookieWith(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: !h.opts.Insecure, SameSite: http.SameSiteLaxMode}
}

func (h *Handler) loginCookie(state string, maxAge int) *http.Cookie {
	return h.cookieWith(h.loginCookieName(), state, maxAge)
}

// sessionCookie carries s's id for as long as s lasts, and no longer.
func (h *Handler) sessionCookie(s session.Session) *http.Cookie {
	maxAge := max(int(s.Expires.Sub(s.Created)/time.Second), 1)
	return h.cookieWith(h.cookie, s.ID, maxAge)
}

// expire deletes the cookie name from the browser.
func (h *Handler) expire(w http.ResponseWriter, name string) {
	http.SetCookie(w, h.cookieWith(name, "", -1))
}

// sessionID is the session cookie's value, or "".
func (h *Handler) sessionID(r *http.Request) string {
	c, err := r.Cookie(h.cookie)
	if err != nil {
		return ""
	}
	return c.Value
}
