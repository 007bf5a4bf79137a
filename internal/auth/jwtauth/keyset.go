package jwtauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"k8s.io/utils/clock"
)

// maxKeySetSize bounds a JWKS or discovery document read from the provider.
const maxKeySetSize = 1 << 20

// keySet caches the provider's public signing keys by key id.
type keySet struct {
	issuer     string
	client     *http.Client
	clock      clock.PassiveClock
	minRefresh time.Duration
	maxAge     time.Duration
	log        *slog.Logger

	mu      sync.RWMutex
	keys    map[string]jose.JSONWebKey
	fetched time.Time // last successful fetch

	fetchMu sync.Mutex // one fetch at a time; guards the fields below
	url     string     // the JWKS URL, configured or discovered
	lastTry time.Time
	lastErr error
}

func newKeySet(issuer, url string, opts Options) *keySet {
	k := &keySet{issuer: issuer, url: url, client: opts.HTTPClient, clock: opts.Clock,
		minRefresh: opts.MinRefresh, maxAge: opts.MaxKeyAge, log: opts.Logger}
	if k.client == nil {
		k.client = &http.Client{Timeout: defaultFetchTimeout}
	}
	if k.clock == nil {
		k.clock = clock.RealClock{}
	}
	if k.minRefresh == 0 {
		k.minRefresh = DefaultMinRefresh
	}
	if k.maxAge <= 0 {
		k.maxAge = DefaultMaxKeyAge
	}
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
	return k
}

// get returns the key kid names, fetching the key set when kid is unknown
// or the set is stale (rate-limited by minRefresh). While one request
// refreshes a stale set, the others use the keys they have.
func (k *keySet) get(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	key, ok, stale := k.cached(kid)
	switch {
	case ok && !stale:
		return key, nil
	case ok:
		if !k.fetchMu.TryLock() {
			return key, nil
		}
	default:
		k.fetchMu.Lock()
	}
	fetchErr := k.refreshLocked(ctx)
	k.fetchMu.Unlock()
	if key, ok, _ = k.cached(kid); ok {
		return key, nil // a stale key still serves while the provider is down
	}
	if fetchErr != nil {
		return jose.JSONWebKey{}, fmt.Errorf("%w: %w", ErrKeysUnavailable, fetchErr)
	}
	return jose.JSONWebKey{}, ErrUnknownKey
}

// generation is when the key set was last fetched, so that a signature
// cache entry made before a refresh can be told apart from one made after;
// ok is false when kid is not in the set or the set is stale.
func (k *keySet) generation(kid string) (fetched time.Time, ok bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	_, ok = k.keys[kid]
	return k.fetched, ok && k.clock.Since(k.fetched) <= k.maxAge
}

func (k *keySet) cached(kid string) (key jose.JSONWebKey, ok, stale bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	key, ok = k.keys[kid]
	return key, ok, k.clock.Since(k.fetched) > k.maxAge
}

// refreshLocked fetches the key set unless a fetch was tried within
// minRefresh; it returns the error of the latest attempt, if that failed.
// The caller holds fetchMu.
func (k *keySet) refreshLocked(ctx context.Context) error {
	now := k.clock.Now()
	if !k.lastTry.IsZero() && now.Sub(k.lastTry) < k.minRefresh {
		return k.lastErr
	}
	k.lastTry = now
	// The fetch serves every waiting request: one caller giving up must not
	// cancel it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), defaultFetchTimeout)
	defer cancel()
	keys, err := k.fetch(ctx)
	k.lastErr = err
	if err != nil {
		k.log.Warn("jwt: fetching the provider's signing keys failed", "issuer", k.issuer, "error", err)
		return err
	}
	k.mu.Lock()
	k.keys, k.fetched = keys, now
	k.mu.Unlock()
	k.log.Debug("jwt: fetched the provider's signing keys", "issuer", k.issuer, "keys", len(keys))
	return nil
}

// fetch reads the JWKS, discovering its URL first when none is configured.
func (k *keySet) fetch(ctx context.Context) (map[string]jose.JSONWebKey, error) {
	if k.url == "" {
		url, err := k.discover(ctx)
		if err != nil {
			return nil, err
		}
		k.url = url
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks %s: %w", k.url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks %s: HTTP %d", k.url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeySetSize+1))
	if err != nil {
		return nil, fmt.Errorf("jwks %s: %w", k.url, err)
	}
	if len(body) > maxKeySetSize {
		return nil, fmt.Errorf("jwks %s: larger than %d bytes", k.url, maxKeySetSize)
	}
	return parseKeySet(body)
}

// discover reads jwks_uri from the issuer's discovery document; go-oidc
// checks that the document names the configured issuer.
func (k *keySet) discover(ctx context.Context) (string, error) {
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, k.client), k.issuer)
	if err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := p.Claims(&meta); err != nil || meta.JWKSURI == "" {
		return "", fmt.Errorf("discovery of %s: no jwks_uri", k.issuer)
	}
	return meta.JWKSURI, nil
}

// parseKeySet keeps the public signing keys that have an id; keys of types
// go-jose does not know are skipped rather than failing the whole set.
func parseKeySet(body []byte) (map[string]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	keys := map[string]jose.JSONWebKey{}
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if key.UnmarshalJSON(raw) != nil || key.KeyID == "" || (key.Use != "" && key.Use != "sig") {
			continue
		}
		if !key.IsPublic() {
			key = key.Public()
		}
		if key.Valid() {
			keys[key.KeyID] = key
		}
	}
	return keys, nil
}
