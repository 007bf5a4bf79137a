package auth

import (
	"errors"
	"net/http"

	"github.com/cairn-gitops/cairn/internal/auth/apikey"
	"github.com/cairn-gitops/cairn/internal/auth/identity"
	"github.com/cairn-gitops/cairn/internal/auth/jwtauth"
	"github.com/cairn-gitops/cairn/internal/auth/session"
)

// Reason says why credentials were refused: stable, safe to log and to
// record in the audit trail.
type Reason string

// Reasons of an *Error.
const (
	ReasonNoCredentials   Reason = "no-credentials"  // ErrNoCredentials
	ReasonMalformed       Reason = "malformed"       // not a credential of the kind it claims
	ReasonBadScheme       Reason = "bad-scheme"      // Authorization is not Bearer
	ReasonMethodDisabled  Reason = "method-disabled" // security.json does not enable this method
	ReasonTooLarge        Reason = "too-large"
	ReasonBadAlg          Reason = "bad-alg"
	ReasonUnknownKey      Reason = "unknown-key" // the token's key id is not published
	ReasonBadSignature    Reason = "bad-signature"
	ReasonBadIssuer       Reason = "bad-issuer"
	ReasonBadAudience     Reason = "bad-audience"
	ReasonExpired         Reason = "expired"
	ReasonNotYetValid     Reason = "not-yet-valid"
	ReasonMissingClaim    Reason = "missing-claim"
	ReasonKeysUnavailable Reason = "keys-unavailable" // the provider's keys could not be fetched
	ReasonRevoked         Reason = "revoked"          // API key id not (or no longer) configured
	ReasonBadSecret       Reason = "bad-secret"       // API key id configured, secret wrong
	ReasonDisabled        Reason = "disabled"         // API key switched off
	ReasonUnknownSession  Reason = "unknown-session"
	ReasonNoIdentity      Reason = "no-identity" // a client certificate that names nobody
)

var (
	// ErrNoCredentials: the request carries none (401 with a challenge).
	ErrNoCredentials = errors.New("auth: no credentials")
	// ErrInvalid: credentials were presented and refused (401). Every
	// *Error but keys-unavailable matches it.
	ErrInvalid = errors.New("auth: credentials refused")
	// ErrUnavailable: credentials could not be checked now (503).
	ErrUnavailable = errors.New("auth: credentials cannot be checked now")
)

// Error is a refusal: the method tried, why, and the API key id when the
// presented key named one (ids are public). It wraps ErrInvalid or
// ErrUnavailable, and the subpackage's own error.
type Error struct {
	Method identity.Method
	Reason Reason
	KeyID  string
	err    error
}

func (e *Error) Error() string {
	msg := "auth: " + string(e.Method) + " credentials refused: " + string(e.Reason)
	if e.err != nil {
		msg += " (" + e.err.Error() + ")"
	}
	return msg
}

// Unwrap lets errors.Is match ErrInvalid or ErrUnavailable and the cause.
func (e *Error) Unwrap() []error {
	class := ErrInvalid
	if e.Reason == ReasonKeysUnavailable {
		class = ErrUnavailable
	}
	if e.err == nil {
		return []error{class}
	}
	return []error{class, e.err}
}

// Status is the HTTP status for err from Authenticate: 401 for missing or
// refused credentials, 503 when they cannot be checked now, 500 otherwise.
func Status(err error) int {
	switch {
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrNoCredentials), errors.Is(err, ErrInvalid):
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// Challenge is the WWW-Authenticate value for a 401 (RFC 6750); it names no
// detail beyond the standard error code.
func Challenge(err error) string {
	if errors.Is(err, ErrInvalid) {
		return `Bearer realm="cairn", error="invalid_token"`
	}
	return `Bearer realm="cairn"`
}

// ReasonOf returns the reason of an *Error in err's chain,
// ReasonNoCredentials for ErrNoCredentials, or "".
func ReasonOf(err error) Reason {
	if errors.Is(err, ErrNoCredentials) {
		return ReasonNoCredentials
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// causes maps the subpackages' errors to reasons.
var causes = []struct {
	err    error
	reason Reason
}{
	{apikey.ErrMalformed, ReasonMalformed},
	{apikey.ErrUnknown, ReasonRevoked},
	{apikey.ErrMismatch, ReasonBadSecret},
	{apikey.ErrExpired, ReasonExpired},
	{apikey.ErrDisabled, ReasonDisabled},
	{jwtauth.ErrTooLarge, ReasonTooLarge},
	{jwtauth.ErrMalformed, ReasonMalformed},
	{jwtauth.ErrAlgorithm, ReasonBadAlg},
	{jwtauth.ErrUnknownKey, ReasonUnknownKey},
	{jwtauth.ErrSignature, ReasonBadSignature},
	{jwtauth.ErrIssuer, ReasonBadIssuer},
	{jwtauth.ErrAudience, ReasonBadAudience},
	{jwtauth.ErrExpired, ReasonExpired},
	{jwtauth.ErrNotYetValid, ReasonNotYetValid},
	{jwtauth.ErrMissingClaim, ReasonMissingClaim},
	{jwtauth.ErrKeysUnavailable, ReasonKeysUnavailable},
	{session.ErrNotFound, ReasonUnknownSession},
	{session.ErrExpired, ReasonExpired},
}

// refuse builds the *Error for a subpackage's error.
func refuse(m identity.Method, keyID string, err error) *Error {
	for _, c := range causes {
		if errors.Is(err, c.err) {
			return &Error{Method: m, Reason: c.reason, KeyID: keyID, err: err}
		}
	}
	return &Error{Method: m, Reason: ReasonMalformed, KeyID: keyID, err: err}
}
