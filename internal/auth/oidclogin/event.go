package oidclogin

import (
	"net"
	"net/http"

	"github.com/cairn-gitops/cairn/internal/auth/identity"
)

// EventKind says what happened at a login endpoint.
type EventKind string

// Kinds of Event.
const (
	EventLogin       EventKind = "login"
	EventLoginFailed EventKind = "login-failed"
	EventLogout      EventKind = "logout"
)

// Reason says why a login failed: stable, and safe to log and to record in
// the audit trail.
type Reason string

// Reasons of a failed login.
const (
	// ReasonBadState: no login was started in this browser, or it expired,
	// was already finished, or the state was altered.
	ReasonBadState Reason = "bad-state"
	// ReasonMissingCode: the callback carries no code.
	ReasonMissingCode Reason = "missing-code"
	// ReasonProviderError: the provider sent the browser back with an
	// error (the user refused, or the provider would not log them in).
	ReasonProviderError Reason = "provider-error"
	// ReasonProviderUnavailable: discovery failed.
	ReasonProviderUnavailable Reason = "provider-unavailable"
	// ReasonExchangeFailed: the token endpoint refused the code or its
	// verifier, or could not be reached.
	ReasonExchangeFailed Reason = "exchange-failed"
	// ReasonNoIDToken: the token endpoint answered without an ID token.
	ReasonNoIDToken Reason = "no-id-token"
	// ReasonBadIDToken: signature, issuer, audience or expiry is wrong.
	ReasonBadIDToken Reason = "bad-id-token"
	// ReasonBadNonce: the ID token is not for this login.
	ReasonBadNonce Reason = "bad-nonce"
	// ReasonMissingClaim: the ID token lacks the username claim.
	ReasonMissingClaim Reason = "missing-claim"
	// ReasonUnverifiedEmail: the username is an email the provider says it
	// has not verified.
	ReasonUnverifiedEmail Reason = "unverified-email"
	// ReasonConfigChanged: the SSO settings changed during the login.
	ReasonConfigChanged Reason = "config-changed"
	// ReasonSessionFailed: the session could not be created.
	ReasonSessionFailed Reason = "session-failed"
)

// Event is what the handler reports to Options.OnEvent, for the access
// audit. It holds no token, code, state, cookie or secret.
type Event struct {
	Kind EventKind
	// Principal is who logged in or out; zero for a failed login.
	Principal identity.Principal
	// Reason is set for EventLoginFailed.
	Reason Reason
	// IP is the client's address (Options.ClientIP); UserAgent is the
	// request's, cut to 256 bytes.
	IP        string
	UserAgent string
}

const maxUserAgent = 256

// emit sends an event for r to OnEvent, if set.
func (h *Handler) emit(r *http.Request, e Event) {
	if h.opts.OnEvent == nil {
		return
	}
	e.IP = h.opts.ClientIP(r)
	e.UserAgent = r.UserAgent()
	if len(e.UserAgent) > maxUserAgent {
		e.UserAgent = e.UserAgent[:maxUserAgent]
	}
	h.opts.OnEvent(r.Context(), e)
}

// remoteIP is the host part of r.RemoteAddr: the default ClientIP.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
