package oidclogin

import (
	"net/http"
	"net/url"

	"github.com/cairn-gitops/cairn/internal/auth/identity"
)

// logout ends the browser's session; see the package documentation for
// when a request may.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request, cfg *settings) {
	id := h.sessionID(r)
	s, err := h.sessions.Get(id)
	live := id != "" && err == nil
	switch {
	case r.Method == http.MethodGet && !fetchSameOrigin(r):
		h.confirmLogout(w, r, id, live)
		return
	case r.Method == http.MethodPost && live && !h.CheckCSRF(r) && !sameOrigin(r, cfg):
		h.log.WarnContext(r.Context(), "oidclogin: logout refused: no CSRF token and not same-origin",
			"principal", s.Principal, "ip", h.opts.ClientIP(r))
		http.Error(w, "Logout refused: the request did not come from cairn. Log out from cairn's own page.", http.StatusForbidden)
		return
	}
	if id != "" {
		h.sessions.Delete(id)
		h.expire(w, h.cookie)
	}
	if live {
		h.ended(r, s.Principal)
	}
	http.Redirect(w, r, h.afterLogout(cfg), http.StatusSeeOther)
}

// confirmLogout answers GET with a page whose button posts the logout.
func (h *Handler) confirmLogout(w http.ResponseWriter, r *http.Request, id string, live bool) {
	token := ""
	if live {
		token = h.CSRFToken(id)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := h.logoutPage.Execute(w, token); err != nil {
		h.log.ErrorContext(r.Context(), "oidclogin: logout page", "error", err)
	}
}

func (h *Handler) ended(r *http.Request, who identity.Principal) {
	h.log.InfoContext(r.Context(), "oidclogin: logout", "principal", who, "ip", h.opts.ClientIP(r))
	h.emit(r, Event{Kind: EventLogout, Principal: who})
}

// afterLogout is the provider's end-session endpoint when discovery found
// one, with the client id so that the provider can name the application;
// else "/".
func (h *Handler) afterLogout(cfg *settings) string {
	p := cfg.disc.cached()
	if p == nil || p.endSession == "" {
		return "/"
	}
	u, err := url.Parse(p.endSession)
	if err != nil {
		return "/"
	}
	q := u.Query()
	q.Set("client_id", cfg.clientID)
	u.RawQuery = q.Encode()
	return u.String()
}

// fetchSameOrigin reports whether the browser says r comes from a page of
// this origin (Fetch Metadata; browsers before 2020 do not send it).
func fetchSameOrigin(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Site") == "same-origin"
}

// sameOrigin reports whether r comes from this origin by Fetch Metadata or
// by its Origin header, compared with the redirect URI's origin.
func sameOrigin(r *http.Request, cfg *settings) bool {
	if fetchSameOrigin(r) {
		return true
	}
	o := r.Header.Get("Origin")
	return o != "" && o == cfg.origin
}
