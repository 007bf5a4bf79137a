package oidclogin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth"
	"github.com/cairn-gitops/cairn/internal/auth/session"
)

// Paths the Handler serves; mount it at "/auth/".
const (
	PathLogin    = "/auth/login"
	PathCallback = "/auth/callback"
	PathLogout   = "/auth/logout"
)

// DefaultDiscoveryRetry is the least time between two discovery attempts
// after a failure.
const DefaultDiscoveryRetry = 5 * time.Second

// Authenticator is what the Handler needs of *auth.Authenticator: the
// session store it checks cookies against, and the cookie's name.
type Authenticator interface {
	Sessions() *session.Store
	SessionCookie() string
}

var _ Authenticator = (*auth.Authenticator)(nil)

// Options are the Handler's dependencies; all but ClientSecret may be zero.
type Options struct {
	// ClientSecret is the OAuth client's secret, read by the caller from the
	// Secret sso.oidc.clientSecretRef names. Empty means a public client
	// (PKCE alone). A new secret needs a new Handler.
	ClientSecret []byte
	// HTTPClient fetches discovery and keys and exchanges codes; nil means
	// a client with a 10 s timeout.
	HTTPClient *http.Client
	// Clock times pending logins, discovery retries and ID token expiry.
	Clock  clock.PassiveClock
	Logger *slog.Logger
	// Insecure leaves Secure off the cookies, for tests over plain HTTP.
	// The session cookie's name must then have no __Host- or __Secure-
	// prefix (browsers would drop it).
	Insecure bool
	// OnEvent, if set, is called for every login, failed login and logout,
	// so that the API server can write the access audit record.
	OnEvent func(context.Context, Event)
	// ClientIP names a request's client in events; nil means the host of
	// RemoteAddr. The API server passes its proxy-aware function.
	ClientIP func(*http.Request) string
	// CSRFKey keys CSRFToken; nil means 32 random bytes for this process
	// (sessions do not outlive it either).
	CSRFKey []byte
	// DiscoveryRetry is the least time between two discovery attempts
	// after a failure; zero means DefaultDiscoveryRetry.
	DiscoveryRetry time.Duration
	// MaxPendingLogins bounds the logins started and not finished; zero
	// means DefaultMaxPending.
	MaxPendingLogins int
}

// Handler serves the login, callback and logout paths from the SSO
// settings in force. Safe for concurrent use.
type Handler struct {
	opts     Options
	log      *slog.Logger
	sessions *session.Store
	cookie   string
	pending  *pendingStore
	// logoutPage is the logout confirmation page.
	logoutPage *template.Template

	reloadMu sync.Mutex // one Reload at a time
	cfg      atomic.Pointer[settings]
}

// New builds a Handler for cfg's sso block, creating sessions in authn's
// store under its cookie name. A nil cfg or a disabled block answers 404
// until a Reload enables it.
func New(cfg *v1.SecurityConfig, authn Authenticator, opts Options) (*Handler, error) {
	if authn == nil || authn.Sessions() == nil {
		return nil, errors.New("oidclogin: an authenticator with a session store is required")
	}
	opts, err := defaults(opts)
	if err != nil {
		return nil, err
	}
	h := &Handler{opts: opts, log: opts.Logger, sessions: authn.Sessions(), cookie: authn.SessionCookie(),
		pending: newPendingStore(opts.MaxPendingLogins), logoutPage: parseLogoutPage()}
	if h.cookie == "" {
		h.cookie = auth.DefaultSessionCookie
	}
	if opts.Insecure && (strings.HasPrefix(h.cookie, "__Host-") || strings.HasPrefix(h.cookie, "__Secure-")) {
		return nil, fmt.Errorf("oidclogin: cookie %s needs Secure, which Insecure leaves off: name the session cookie without the prefix", h.cookie)
	}
	if err := h.Reload(cfg); err != nil {
		return nil, err
	}
	return h, nil
}

func defaults(opts Options) (Options, error) {
	opts.ClientSecret = slices.Clone(opts.ClientSecret)
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ClientIP == nil {
		opts.ClientIP = remoteIP
	}
	if opts.DiscoveryRetry <= 0 {
		opts.DiscoveryRetry = DefaultDiscoveryRetry
	}
	if opts.MaxPendingLogins <= 0 {
		opts.MaxPendingLogins = DefaultMaxPending
	}
	if len(opts.CSRFKey) == 0 {
		opts.CSRFKey = make([]byte, 32)
		if _, err := rand.Read(opts.CSRFKey); err != nil {
			return opts, fmt.Errorf("oidclogin: CSRF key: %w", err)
		}
	}
	return opts, nil
}

// Reload puts cfg's SSO settings in force for every later request. On
// error the settings in force stay. Discovery is kept while the issuer
// stays the same; logins started under another issuer, client or redirect
// URI are refused at their callback.
func (h *Handler) Reload(cfg *v1.SecurityConfig) error {
	h.reloadMu.Lock()
	defer h.reloadMu.Unlock()
	s, err := compile(cfg)
	if err != nil {
		return fmt.Errorf("oidclogin: reload %s: %w", configName(cfg), err)
	}
	if s.enabled {
		s.disc = h.discoveryFor(s.issuer)
	}
	h.cfg.Store(s)
	h.log.Info("oidclogin: SSO settings in force", "config", s.name, "enabled", s.enabled,
		"issuer", s.issuer, "clientId", s.clientID)
	return nil
}

// discoveryFor returns the cached discovery of issuer, or a new one.
func (h *Handler) discoveryFor(issuer string) *discovery {
	if old := h.cfg.Load(); old != nil && old.enabled && old.issuer == issuer {
		return old.disc
	}
	return &discovery{issuer: issuer, client: h.opts.HTTPClient, clock: h.opts.Clock, retry: h.opts.DiscoveryRetry}
}

// ServeHTTP answers the login paths; every path answers 404 while SSO is
// off.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cfg := h.cfg.Load()
	if !cfg.enabled {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	switch r.URL.Path {
	case PathLogin:
		h.route(w, r, cfg, h.login, http.MethodGet)
	case PathCallback:
		h.route(w, r, cfg, h.callback, http.MethodGet)
	case PathLogout:
		h.route(w, r, cfg, h.logout, http.MethodPost, http.MethodGet)
	default:
		http.NotFound(w, r)
	}
}

type handlerFunc func(http.ResponseWriter, *http.Request, *settings)

// route calls fn if r's method is one of methods, else answers 405.
func (h *Handler) route(w http.ResponseWriter, r *http.Request, cfg *settings, fn handlerFunc, methods ...string) {
	if !slices.Contains(methods, r.Method) {
		w.Header().Set("Allow", strings.Join(methods, ", "))
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	fn(w, r, cfg)
}

// randomString is n random bytes, base64url.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return base64URL(b), nil
}
