package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth/apikey"
	"github.com/cairn-gitops/cairn/internal/auth/identity"
	"github.com/cairn-gitops/cairn/internal/auth/jwtauth"
	"github.com/cairn-gitops/cairn/internal/auth/mask"
	"github.com/cairn-gitops/cairn/internal/auth/rbac"
	"github.com/cairn-gitops/cairn/internal/auth/session"
)

// Principal is who a request acts for; see package identity.
type Principal = identity.Principal

// DefaultSessionCookie names the portal's session cookie; the __Host-
// prefix makes browsers accept it only Secure, from this host, for path /.
const DefaultSessionCookie = "__Host-cairn-session"

// Options are the Authenticator's dependencies; the zero value works.
type Options struct {
	// HTTPClient fetches the identity provider's discovery and keys.
	HTTPClient *http.Client
	// Clock checks expiry of keys, tokens, sessions and certificates.
	Clock  clock.PassiveClock
	Logger *slog.Logger
	// SessionCookie is the cookie a portal session travels in.
	SessionCookie string
	// JWKSMinRefresh and JWKSMaxAge tune the key cache (jwtauth.Options).
	JWKSMinRefresh time.Duration
	JWKSMaxAge     time.Duration
	// MaskHashKey keys the hash masking method (mask.Options).
	MaskHashKey []byte
}

// Authenticator checks requests against the security configuration in
// force; safe for concurrent use.
type Authenticator struct {
	opts     Options
	log      *slog.Logger
	sessions *session.Store

	reloadMu sync.Mutex // one Reload at a time
	state    atomic.Pointer[state]
}

// state is everything derived from one SecurityConfig; immutable.
type state struct {
	keys   *apikey.Set       // nil: API keys off
	jwt    *jwtauth.Verifier // nil: JWT off
	mtls   bool
	authz  *rbac.Authorizer
	masker *mask.Masker
}

// New builds an Authenticator for cfg; a nil cfg (no security.json)
// accepts no credentials and allows nothing.
func New(cfg *v1.SecurityConfig, opts Options) (*Authenticator, error) {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SessionCookie == "" {
		opts.SessionCookie = DefaultSessionCookie
	}
	a := &Authenticator{opts: opts, log: opts.Logger}
	limits, err := sessionLimits(cfg)
	if err != nil {
		return nil, err
	}
	a.sessions = session.New(limits, opts.Clock)
	if err := a.Reload(cfg); err != nil {
		return nil, err
	}
	return a, nil
}

// Reload compiles cfg and puts it in force at once for every later
// request. On error the configuration in force stays.
func (a *Authenticator) Reload(cfg *v1.SecurityConfig) error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	st, err := a.compile(cfg, a.state.Load())
	if err != nil {
		return fmt.Errorf("auth: reload %s: %w", configName(cfg), err)
	}
	limits, err := sessionLimits(cfg)
	if err != nil {
		return fmt.Errorf("auth: reload %s: %w", configName(cfg), err)
	}
	a.state.Store(st)
	a.sessions.SetLimits(limits)
	a.log.Info("auth: security configuration in force", "config", configName(cfg),
		"apiKeys", st.keys != nil, "jwt", st.jwt != nil, "mtls", st.mtls)
	return nil
}

func configName(cfg *v1.SecurityConfig) string {
	if cfg == nil {
		return "(none)"
	}
	return cfg.Metadata.Name
}

func sessionLimits(cfg *v1.SecurityConfig) (session.Limits, error) {
	if cfg == nil {
		return session.LimitsFromSpec(nil)
	}
	return session.LimitsFromSpec(cfg.Spec.Sessions)
}

// compile builds a state from cfg, keeping old's JWT verifier (and its
// cached keys) when the JWT settings did not change.
func (a *Authenticator) compile(cfg *v1.SecurityConfig, old *state) (*state, error) {
	st := &state{}
	var err error
	if st.authz, err = rbac.New(cfg); err != nil {
		return nil, err
	}
	if cfg == nil {
		return st, nil
	}
	spec := cfg.Spec
	if m := spec.DataProtection; m != nil {
		if st.masker, err = mask.New(m.Masking, mask.Options{HashKey: a.opts.MaskHashKey}); err != nil {
			return nil, err
		}
	}
	st.mtls = spec.MTLS.On() && spec.MTLS.ClientAuth != v1.ClientAuthNone
	if au := spec.Authentication; au != nil {
		if au.APIKeys.On() {
			if st.keys, err = apikey.NewSet(au.APIKeys.Keys); err != nil {
				return nil, err
			}
		}
		if au.JWT.On() {
			if st.jwt, err = a.verifier(au.JWT, old); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

func (a *Authenticator) verifier(spec *v1.JWT, old *state) (*jwtauth.Verifier, error) {
	cfg, err := jwtauth.FromSpec(spec)
	if err != nil {
		return nil, err
	}
	v, err := jwtauth.New(cfg, jwtauth.Options{HTTPClient: a.opts.HTTPClient, Clock: a.opts.Clock,
		MinRefresh: a.opts.JWKSMinRefresh, MaxKeyAge: a.opts.JWKSMaxAge, Logger: a.log})
	if err != nil {
		return nil, err
	}
	if old != nil && old.jwt != nil && reflect.DeepEqual(old.jwt.Config(), v.Config()) {
		return old.jwt, nil
	}
	return v, nil
}

// Snapshot is the configuration in force at one moment. A request should
// take one snapshot and use it throughout (authenticate, authorize, filter,
// mask), so that a reload in between cannot mix two configurations.
type Snapshot struct {
	a  *Authenticator
	st *state
}

// Snapshot returns the configuration in force now.
func (a *Authenticator) Snapshot() Snapshot { return Snapshot{a: a, st: a.state.Load()} }

// Authenticate returns who r acts for, ErrNoCredentials, or an *Error.
func (s Snapshot) Authenticate(r *http.Request) (Principal, error) {
	p, err := s.a.credentials(r, s.st)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			s.a.log.DebugContext(r.Context(), "auth: credentials refused", "method", e.Method,
				"reason", e.Reason, "keyId", e.KeyID, "remote", r.RemoteAddr)
		}
		return Principal{}, err
	}
	return p, nil
}

// Check authenticates r and decides perm on res. err is set only when
// authentication failed; a denial is a Decision.
func (s Snapshot) Check(r *http.Request, perm rbac.Permission, res rbac.Resource) (Principal, rbac.Decision, error) {
	p, err := s.Authenticate(r)
	if err != nil {
		return p, rbac.Decision{}, err
	}
	return p, s.st.authz.Decide(p, perm, res), nil
}

// Authorizer is the snapshot's RBAC policy.
func (s Snapshot) Authorizer() *rbac.Authorizer { return s.st.authz }

// Masker is the snapshot's masking; nil (which masks nothing) when none is
// configured.
func (s Snapshot) Masker() *mask.Masker { return s.st.masker }

// Authorizer is the RBAC policy in force.
func (a *Authenticator) Authorizer() *rbac.Authorizer { return a.Snapshot().Authorizer() }

// Masker is the masking in force.
func (a *Authenticator) Masker() *mask.Masker { return a.Snapshot().Masker() }

// Sessions is the session store, kept across reloads; the OIDC login
// creates sessions in it.
func (a *Authenticator) Sessions() *session.Store { return a.sessions }

// SessionCookie is the name of the session cookie.
func (a *Authenticator) SessionCookie() string { return a.opts.SessionCookie }

// Authenticate returns who r acts for, ErrNoCredentials, or an *Error,
// against the configuration in force.
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	return a.Snapshot().Authenticate(r)
}

// Check authenticates r and decides perm on res against one configuration.
func (a *Authenticator) Check(r *http.Request, perm rbac.Permission, res rbac.Resource) (Principal, rbac.Decision, error) {
	return a.Snapshot().Check(r, perm, res)
}

// credentials finds the request's credentials and checks them.
func (a *Authenticator) credentials(r *http.Request, st *state) (Principal, error) {
	if vals := r.Header.Values("Authorization"); len(vals) > 0 {
		return st.bearer(r.Context(), vals, a.opts.Clock.Now())
	}
	if c, err := r.Cookie(a.opts.SessionCookie); err == nil {
		return a.session(c.Value)
	}
	if cert := peer(r); cert != nil && st.mtls {
		return certificate(cert, a.opts.Clock.Now())
	}
	return Principal{}, ErrNoCredentials
}

// bearer checks an Authorization header: a cairn API key or a JWT.
func (st *state) bearer(ctx context.Context, vals []string, now time.Time) (Principal, error) {
	if len(vals) > 1 {
		return Principal{}, &Error{Method: identity.JWT, Reason: ReasonMalformed, err: errors.New("more than one Authorization header")}
	}
	scheme, cred, _ := strings.Cut(vals[0], " ")
	cred = strings.TrimSpace(cred)
	method := identity.JWT
	if strings.HasPrefix(cred, apikey.Prefix) {
		method = identity.APIKey
	}
	switch {
	case len(cred) > jwtauth.MaxTokenSize:
		return Principal{}, &Error{Method: method, Reason: ReasonTooLarge}
	case !strings.EqualFold(scheme, "Bearer"):
		return Principal{}, &Error{Method: method, Reason: ReasonBadScheme}
	case cred == "":
		return Principal{}, &Error{Method: method, Reason: ReasonMalformed, err: errors.New("empty bearer credential")}
	case method == identity.APIKey:
		return st.apiKey(cred, now)
	}
	return st.token(ctx, cred)
}

func (st *state) apiKey(key string, now time.Time) (Principal, error) {
	if st.keys == nil {
		return Principal{}, &Error{Method: identity.APIKey, Reason: ReasonMethodDisabled}
	}
	k, err := st.keys.Verify(key, now)
	if err != nil {
		return Principal{}, refuse(identity.APIKey, k.ID, err)
	}
	return Principal{Kind: identity.ServiceAccount, Name: k.Name, Scopes: k.Scopes,
		Method: identity.APIKey, KeyID: k.ID}, nil
}

func (st *state) token(ctx context.Context, raw string) (Principal, error) {
	if st.jwt == nil {
		return Principal{}, &Error{Method: identity.JWT, Reason: ReasonMethodDisabled}
	}
	c, err := st.jwt.Verify(ctx, raw)
	if err != nil {
		return Principal{}, refuse(identity.JWT, "", err)
	}
	p := Principal{Kind: identity.User, Name: c.Username, Groups: c.Groups, Method: identity.JWT, KeyID: c.KeyID}
	if c.Username == "" {
		p.Kind, p.Name = identity.ServiceAccount, c.Subject
	}
	return p, nil
}

func (a *Authenticator) session(id string) (Principal, error) {
	s, err := a.sessions.Get(id)
	if err != nil {
		return Principal{}, refuse(identity.Session, "", err)
	}
	p := s.Principal
	p.Method = identity.Session
	return p, nil
}

// peer is the client certificate the TLS handshake verified, if any.
func peer(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return nil
	}
	return r.TLS.VerifiedChains[0][0]
}

// certificate names the holder of a verified client certificate: its
// common name, else its first URI or DNS name.
func certificate(c *x509.Certificate, now time.Time) (Principal, error) {
	switch {
	case now.After(c.NotAfter):
		return Principal{}, &Error{Method: identity.MTLS, Reason: ReasonExpired}
	case now.Before(c.NotBefore):
		return Principal{}, &Error{Method: identity.MTLS, Reason: ReasonNotYetValid}
	}
	name := c.Subject.CommonName
	if name == "" && len(c.URIs) > 0 {
		name = c.URIs[0].String()
	}
	if name == "" && len(c.DNSNames) > 0 {
		name = c.DNSNames[0]
	}
	if name == "" {
		return Principal{}, &Error{Method: identity.MTLS, Reason: ReasonNoIdentity}
	}
	return Principal{Kind: identity.ServiceAccount, Name: name, Method: identity.MTLS}, nil
}
