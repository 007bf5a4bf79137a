package identity

import (
	"log/slog"
	"strings"
)

// Kind says whether a principal is a person or a machine; RBAC bindings name
// subjects of the same kinds (plus groups, which a principal belongs to).
type Kind string

// Kinds of principal.
const (
	// User is a person, named by the token's username claim.
	User Kind = "user"
	// ServiceAccount is a machine: an API key (by its name), a client
	// certificate (by its common name) or a token without a username claim
	// (by its subject).
	ServiceAccount Kind = "serviceAccount"
)

// Method is how a principal proved who it is.
type Method string

// Authentication methods.
const (
	APIKey  Method = "apikey"
	JWT     Method = "jwt"
	Session Method = "session"
	MTLS    Method = "mtls"
)

// Principal is an authenticated caller. It holds no credential: it is safe
// to log, to put into an audit record and to keep in a session.
type Principal struct {
	Kind Kind `json:"kind"`
	// Name is the user name (usually an email), the API key's name, the
	// certificate's common name or the token's subject.
	Name string `json:"name"`
	// Groups come from the token's groups claim; empty for API keys and
	// certificates.
	Groups []string `json:"groups,omitempty"`
	// Scopes limit an API key (Method APIKey) beyond its roles; they are
	// ignored for other methods.
	Scopes []string `json:"scopes,omitempty"`
	Method Method   `json:"method"`
	// KeyID is the public id of the API key (k_...) or the id (kid) of the
	// key that signed the token; never a secret.
	KeyID string `json:"keyId,omitempty"`
}

// Valid reports whether the principal names someone: a known kind and a
// non-empty name. The zero Principal is not valid and is never authorized.
func (p Principal) Valid() bool {
	return (p.Kind == User || p.Kind == ServiceAccount) && p.Name != ""
}

// String is "kind name (method)", for messages.
func (p Principal) String() string {
	if !p.Valid() {
		return "anonymous"
	}
	return string(p.Kind) + " " + p.Name + " (" + string(p.Method) + ")"
}

// LogValue lets slog record a principal as a group of its public fields.
func (p Principal) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("kind", string(p.Kind)), slog.String("name", p.Name),
		slog.String("method", string(p.Method))}
	if len(p.Groups) > 0 {
		attrs = append(attrs, slog.String("groups", strings.Join(p.Groups, ",")))
	}
	if p.KeyID != "" {
		attrs = append(attrs, slog.String("keyId", p.KeyID))
	}
	return slog.GroupValue(attrs...)
}
