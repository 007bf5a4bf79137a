package jwtauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"k8s.io/utils/clock"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// MaxTokenSize is the largest token looked at; larger ones are refused
// before any parsing.
const MaxTokenSize = 16 << 10

// Defaults for what security.json leaves out.
const (
	DefaultClockSkew     = 30 * time.Second
	DefaultUsernameClaim = "sub"
	DefaultGroupsClaim   = "groups"
	DefaultMinRefresh    = 15 * time.Second
	DefaultMaxKeyAge     = time.Hour
	defaultFetchTimeout  = 10 * time.Second
)

// Errors of Verify, one per reason a token is refused.
var (
	ErrTooLarge     = errors.New("token too large")
	ErrMalformed    = errors.New("token malformed")
	ErrAlgorithm    = errors.New("token signing algorithm not allowed")
	ErrUnknownKey   = errors.New("token signed with an unknown key")
	ErrSignature    = errors.New("token signature invalid")
	ErrIssuer       = errors.New("token issuer not accepted")
	ErrAudience     = errors.New("token audience not accepted")
	ErrExpired      = errors.New("token expired")
	ErrNotYetValid  = errors.New("token not yet valid")
	ErrMissingClaim = errors.New("token lacks a required claim")
	// ErrKeysUnavailable: the provider's keys could not be fetched; the
	// token may be fine (a 503 rather than a 401).
	ErrKeysUnavailable = errors.New("signing keys unavailable")
)

// asymmetric are the algorithms a Config may allow.
var asymmetric = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"}

// Config is what a token must satisfy, from security.json's jwt block.
type Config struct {
	Issuer   string
	Audience []string
	// JWKSURI is where keys are published; empty discovers it from Issuer.
	JWKSURI string
	// Algorithms allowed; empty means RS256.
	Algorithms    []string
	ClockSkew     time.Duration
	UsernameClaim string
	GroupsClaim   string
}

// FromSpec reads security.json's jwt block, applying the defaults.
func FromSpec(j *v1.JWT) (Config, error) {
	c := Config{Issuer: j.Issuer, Audience: slices.Clone(j.Audience), JWKSURI: j.JWKSURI,
		Algorithms: slices.Clone(j.Algorithms), ClockSkew: DefaultClockSkew,
		UsernameClaim: j.UsernameClaim, GroupsClaim: j.GroupsClaim}
	if j.ClockSkew != "" {
		d, err := v1.ParseDuration(j.ClockSkew)
		if err != nil {
			return Config{}, fmt.Errorf("jwt clockSkew: %w", err)
		}
		c.ClockSkew = d
	}
	return c, nil
}

// Options are the verifier's dependencies.
type Options struct {
	// HTTPClient fetches discovery and keys; nil means a client with a
	// 10 s timeout.
	HTTPClient *http.Client
	// Clock is the time tokens are checked at; nil means the real clock.
	Clock clock.PassiveClock
	// MinRefresh is the least time between two fetches of the key set;
	// zero means DefaultMinRefresh, negative means no limit (tests).
	MinRefresh time.Duration
	// MaxKeyAge is how long a fetched key set is trusted before it is
	// fetched again; zero means DefaultMaxKeyAge.
	MaxKeyAge time.Duration
	Logger    *slog.Logger
}

// Claims are what a verified token says about its bearer.
type Claims struct {
	Subject string
	// Username is the configured username claim; empty when the token
	// lacks it.
	Username string
	Groups   []string
	// KeyID is the id of the key that signed the token.
	KeyID  string
	Issuer string
	Expiry time.Time
}

// Verifier checks tokens against one Config. It is safe for concurrent use
// and caches the provider's keys; build one per configuration.
type Verifier struct {
	cfg   Config
	algs  []jose.SignatureAlgorithm
	clock clock.PassiveClock
	keys  *keySet
	sigs  sigCache
}

// New checks cfg and returns its verifier. It does not contact the
// provider: keys are fetched on the first token.
func New(cfg Config, opts Options) (*Verifier, error) {
	cfg, err := normalize(cfg)
	if err != nil {
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	v := &Verifier{cfg: cfg, clock: opts.Clock, keys: newKeySet(cfg.Issuer, cfg.JWKSURI, opts)}
	for _, a := range cfg.Algorithms {
		v.algs = append(v.algs, jose.SignatureAlgorithm(a))
	}
	return v, nil
}

// normalize applies defaults and refuses what must never be accepted.
func normalize(cfg Config) (Config, error) {
	cfg.Audience = slices.Clone(cfg.Audience)
	cfg.Algorithms = slices.Clone(cfg.Algorithms)
	switch {
	case cfg.Issuer == "":
		return cfg, errors.New("jwt: issuer is required")
	case len(cfg.Audience) == 0 || slices.Contains(cfg.Audience, ""):
		return cfg, errors.New("jwt: at least one non-empty audience is required")
	case cfg.ClockSkew < 0:
		return cfg, errors.New("jwt: clock skew is negative")
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = []string{"RS256"}
	}
	for _, a := range cfg.Algorithms {
		if !slices.Contains(asymmetric, a) {
			return cfg, fmt.Errorf("jwt: algorithm %q is not allowed (asymmetric only: %s)", a, strings.Join(asymmetric, ", "))
		}
	}
	if cfg.UsernameClaim == "" {
		cfg.UsernameClaim = DefaultUsernameClaim
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = DefaultGroupsClaim
	}
	return cfg, nil
}

// Config returns the configuration in force, defaults applied.
func (v *Verifier) Config() Config {
	c := v.cfg
	c.Audience, c.Algorithms = slices.Clone(c.Audience), slices.Clone(c.Algorithms)
	return c
}

// Verify checks raw and returns its claims, or an error wrapping one of
// the package's sentinels. ctx bounds a key fetch the token may cause.
func (v *Verifier) Verify(ctx context.Context, raw string) (Claims, error) {
	if len(raw) > MaxTokenSize {
		return Claims{}, ErrTooLarge
	}
	hit, sum, ok := v.sigs.get(raw)
	if ok {
		if fetched, fresh := v.keys.generation(hit.kid); fresh && fetched.Equal(hit.fetched) {
			return v.verified(hit.payload, hit.kid)
		}
	}
	jws, kid, err := v.parse(raw)
	if err != nil {
		return Claims{}, err
	}
	key, err := v.keys.get(ctx, kid)
	if err != nil {
		return Claims{}, err
	}
	if key.Algorithm != "" && key.Algorithm != jws.Signatures[0].Header.Algorithm {
		return Claims{}, fmt.Errorf("%w: key %s is for %s", ErrAlgorithm, kid, key.Algorithm)
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return Claims{}, ErrSignature
	}
	if fetched, fresh := v.keys.generation(kid); fresh {
		v.sigs.put(sum, sigEntry{kid: kid, fetched: fetched, payload: payload})
	}
	return v.verified(payload, kid)
}

// verified checks the claims of a payload whose signature verified.
func (v *Verifier) verified(payload []byte, kid string) (Claims, error) {
	c, err := v.claims(payload)
	if err != nil {
		return Claims{}, err
	}
	c.KeyID = kid
	return c, nil
}

// parse checks the header before handing the token to go-jose, so that a
// refused algorithm is told apart from a broken token.
func (v *Verifier) parse(raw string) (*jose.JSONWebSignature, string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, "", fmt.Errorf("%w: want three dot-separated parts", ErrMalformed)
	}
	var hdr struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Crit json.RawMessage `json:"crit"`
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(b, &hdr) != nil {
		return nil, "", fmt.Errorf("%w: header is not base64url JSON", ErrMalformed)
	}
	if hdr.Crit != nil {
		return nil, "", fmt.Errorf("%w: critical header extensions are not supported", ErrMalformed)
	}
	if !slices.Contains(v.cfg.Algorithms, hdr.Alg) {
		return nil, "", fmt.Errorf("%w: %s", ErrAlgorithm, safe(hdr.Alg))
	}
	jws, err := jose.ParseSignedCompact(raw, v.algs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, "", fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	if hdr.Kid == "" {
		return nil, "", fmt.Errorf("%w: no key id", ErrUnknownKey)
	}
	return jws, hdr.Kid, nil
}

// claims checks the registered claims and reads the configured ones.
func (v *Verifier) claims(payload []byte) (Claims, error) {
	var std jwt.Claims
	var all map[string]json.RawMessage
	if json.Unmarshal(payload, &std) != nil || json.Unmarshal(payload, &all) != nil {
		return Claims{}, fmt.Errorf("%w: claims are not a JSON object", ErrMalformed)
	}
	if std.Expiry == nil || std.Subject == "" {
		return Claims{}, fmt.Errorf("%w: exp and sub are required", ErrMissingClaim)
	}
	want := jwt.Expected{Issuer: v.cfg.Issuer, AnyAudience: v.cfg.Audience, Time: v.clock.Now()}
	if err := std.ValidateWithLeeway(want, v.cfg.ClockSkew); err != nil {
		return Claims{}, claimError(err)
	}
	c := Claims{Subject: std.Subject, Issuer: std.Issuer, Expiry: std.Expiry.Time()}
	c.Username = stringClaim(all[v.cfg.UsernameClaim])
	if v.cfg.UsernameClaim == "sub" {
		c.Username = std.Subject
	}
	c.Groups = stringsClaim(all[v.cfg.GroupsClaim])
	return c, nil
}

// claimError maps go-jose's validation errors to this package's.
func claimError(err error) error {
	switch {
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return ErrIssuer
	case errors.Is(err, jwt.ErrInvalidAudience):
		return ErrAudience
	case errors.Is(err, jwt.ErrExpired):
		return ErrExpired
	case errors.Is(err, jwt.ErrNotValidYet):
		return ErrNotYetValid
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return fmt.Errorf("%w: issued in the future", ErrNotYetValid)
	}
	return ErrMalformed
}

// stringClaim reads a string claim; anything else reads as empty.
func stringClaim(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// stringsClaim reads a list of strings or a single string; other values
// and non-string items are left out.
func stringsClaim(raw json.RawMessage) []string {
	if s := stringClaim(raw); s != "" {
		return []string{s}
	}
	var items []any
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	var out []string
	for _, it := range items {
		if s, ok := it.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// safe quotes a header value for an error only when it is short and plain
// (an algorithm name); anything else is left out.
func safe(s string) string {
	if len(s) > 16 || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" {
		return "(unprintable)"
	}
	return fmt.Sprintf("%q", s)
}
