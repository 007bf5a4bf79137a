package oidclogin

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
)

// Where CheckCSRF looks for the token: the header first (scripts), then
// the form field (plain HTML forms).
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf_token"
)

// csrfLabel separates CSRF tokens from any other use of the key.
const csrfLabel = "cairn oidclogin csrf v1\x00"

// CSRFToken is the CSRF token of the session with id: an HMAC-SHA256 of
// the id under the handler's key, base64url. It reveals nothing about the
// id and is the same for the session's whole life.
func (h *Handler) CSRFToken(sessionID string) string {
	mac := hmac.New(sha256.New, h.opts.CSRFKey)
	mac.Write([]byte(csrfLabel))
	mac.Write([]byte(sessionID))
	return base64URL(mac.Sum(nil))
}

// RequestCSRFToken is the CSRF token for r's session, for the portal to
// put in its forms; false when r carries no live session.
func (h *Handler) RequestCSRFToken(r *http.Request) (string, bool) {
	id := h.sessionID(r)
	if id == "" {
		return "", false
	}
	if _, err := h.sessions.Get(id); err != nil {
		return "", false
	}
	return h.CSRFToken(id), true
}

// CheckCSRF reports whether r carries the CSRF token of the live session
// its cookie names, in the CSRFHeader header or the CSRFField form field.
// The portal calls it before any state-changing form post; it may parse
// r's form.
func (h *Handler) CheckCSRF(r *http.Request) bool {
	want, ok := h.RequestCSRFToken(r)
	if !ok {
		return false
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" && r.Method != http.MethodGet && r.Method != http.MethodHead {
		got = r.PostFormValue(CSRFField)
	}
	return got != "" && hmac.Equal([]byte(got), []byte(want))
}
