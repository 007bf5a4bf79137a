package github

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	gh "github.com/google/go-github/v60/github"
	"k8s.io/utils/clock"
)

// DefaultBaseURL is the REST API root of github.com.
const DefaultBaseURL = "https://api.github.com/"

// Defaults of Config.
const (
	DefaultMaxRateWait  = time.Minute
	DefaultMaxRetries   = 3
	DefaultCacheEntries = 1024
	DefaultTimeout      = 30 * time.Second
)

// Secret is a credential. It formats as "[redacted]" everywhere (fmt, slog,
// JSON), so that a Config printed or logged by mistake does not leak it.
type Secret string

// String hides the secret.
func (Secret) String() string { return "[redacted]" }

// GoString hides the secret from %#v.
func (Secret) GoString() string { return "[redacted]" }

// LogValue hides the secret from log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalText hides the secret from encoders.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// App is a GitHub App installation to authenticate as.
type App struct {
	// ID is the App's id (the JWT's issuer).
	ID int64
	// InstallationID is the installation on the config repository's owner.
	InstallationID int64
	// PrivateKeyFile is the App's PEM private key (read once by New).
	PrivateKeyFile string
}

// Config says how to reach GitHub. Exactly one of Token, TokenFile and App
// must be set.
type Config struct {
	// BaseURL is the REST API root: DefaultBaseURL when empty; for GitHub
	// Enterprise Server https://HOST/api/v3/. Used as given.
	BaseURL string
	// Token is a personal (or fine-grained) access token.
	Token Secret
	// TokenFile holds a token (surrounding white space ignored).
	TokenFile string
	// App authenticates as a GitHub App installation.
	App *App
	// Transport is the base transport (http.DefaultTransport when nil).
	Transport http.RoundTripper
	// Timeout bounds one HTTP exchange (DefaultTimeout when zero).
	Timeout time.Duration
	// MaxRateWait is the longest wait for a rate limit to reset before a
	// call fails with a *RateLimitError (DefaultMaxRateWait when zero).
	MaxRateWait time.Duration
	// MaxRetries bounds the retries after rate-limit answers
	// (DefaultMaxRetries when zero; negative means none).
	MaxRetries int
	// CacheEntries bounds the conditional-request cache
	// (DefaultCacheEntries when zero; negative disables it).
	CacheEntries int
	// Clock times rate-limit waits (the real clock when nil).
	Clock clock.Clock
	// Logger receives waits and retries (discarded when nil).
	Logger *slog.Logger
}

// Client calls the GitHub REST API for cairn. It implements GateAPI and
// PRAPI and is safe for concurrent use.
type Client struct {
	gh  *gh.Client
	log *slog.Logger
}

var (
	_ GateAPI = (*Client)(nil)
	_ PRAPI   = (*Client)(nil)
)

// New builds a Client from cfg. It reads the token or private key file but
// makes no request.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	base, err := apiBase(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	auth, err := authTransport(cfg, base)
	if err != nil {
		return nil, err
	}
	var rt http.RoundTripper = auth
	if cfg.CacheEntries > 0 {
		rt = newCacheTransport(rt, cfg.CacheEntries)
	}
	rt = &rateTransport{next: rt, clock: cfg.Clock, maxWait: cfg.MaxRateWait,
		maxRetries: cfg.MaxRetries, log: cfg.Logger}
	c := gh.NewClient(&http.Client{Transport: rt, Timeout: cfg.Timeout})
	c.BaseURL = base
	c.UserAgent = "cairn"
	return &Client{gh: c, log: cfg.Logger}, nil
}

func (cfg Config) withDefaults() Config {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRateWait == 0 {
		cfg.MaxRateWait = DefaultMaxRateWait
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.CacheEntries == 0 {
		cfg.CacheEntries = DefaultCacheEntries
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// apiBase parses the API root and makes sure it ends with a slash, as
// go-github requires.
func apiBase(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("github base URL: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("github base URL %q: want http(s)://HOST/PATH", raw)
	}
	if u.User != nil || u.RawQuery != "" {
		return nil, errors.New("github base URL: no user information or query allowed")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

// authTransport returns the transport that adds credentials to a request.
// It is the innermost layer, so that no other layer ever holds a token.
func authTransport(cfg Config, base *url.URL) (http.RoundTripper, error) {
	set := 0
	for _, ok := range []bool{cfg.Token != "", cfg.TokenFile != "", cfg.App != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return nil, errors.New("github: set exactly one of a token, a token file or a GitHub App")
	}
	switch {
	case cfg.App != nil:
		return appTransport(cfg, base)
	case cfg.TokenFile != "":
		b, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("github token file: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return nil, fmt.Errorf("github token file %s is empty", cfg.TokenFile)
		}
		return &tokenTransport{next: cfg.Transport, token: Secret(tok)}, nil
	default:
		return &tokenTransport{next: cfg.Transport, token: cfg.Token}, nil
	}
}

func appTransport(cfg Config, base *url.URL) (http.RoundTripper, error) {
	a := cfg.App
	if a.ID <= 0 || a.InstallationID <= 0 || a.PrivateKeyFile == "" {
		return nil, errors.New("github app: id, installation id and private key file are required")
	}
	key, err := os.ReadFile(a.PrivateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("github app private key: %w", err)
	}
	tr, err := ghinstallation.New(cfg.Transport, a.ID, a.InstallationID, key)
	if err != nil {
		// ghinstallation flattens the parse error; it never holds the key.
		return nil, fmt.Errorf("github app private key %s: %w", a.PrivateKeyFile, err)
	}
	tr.BaseURL = strings.TrimSuffix(base.String(), "/")
	return &hideAuth{next: tr}, nil
}
