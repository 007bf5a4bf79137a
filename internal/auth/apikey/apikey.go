package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// Prefix starts every cairn API key, so that scanners and people recognise
// one (and the authenticator tells it from a JWT).
const Prefix = "cairn_"

const (
	// secretLen is the length of 256 bits written in base62.
	secretLen = 43
	// idBytes is the random part of a new key id (16 hex digits).
	idBytes = 8
	// HashPrefix starts the digest stored in security.json.
	HashPrefix = "sha256:"
	base62     = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// scopes are the API scopes security.json accepts (the schema's enum): a
// key may do no more than its scopes, and no more than its roles either.
var scopes = []string{
	"adapters:read", "status:read", "history:read", "history:export", "changerequests:read",
	"sync:read", "sync:create", "security:read", "webhooks:read", v1.ScopeAdmin,
}

// Scopes returns the valid scopes, in the schema's order.
func Scopes() []string { return slices.Clone(scopes) }

var (
	idPattern   = regexp.MustCompile(`^k_[a-f0-9]{8,32}$`)
	namePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// Errors of Parse and Set.Verify. None of them carries the key.
var (
	// ErrMalformed: not a cairn API key at all.
	ErrMalformed = errors.New("not a cairn API key")
	// ErrUnknown: the id is not (or no longer) in security.json.
	ErrUnknown = errors.New("API key id is not configured")
	// ErrMismatch: the id is configured but the secret is wrong.
	ErrMismatch = errors.New("API key secret does not match")
	// ErrExpired: the key is past its expiry.
	ErrExpired = errors.New("API key has expired")
	// ErrDisabled: the key is switched off in security.json.
	ErrDisabled = errors.New("API key is disabled")
)

// ValidID reports whether id is a key id as the schema writes it.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// Parse splits a presented key into its id and checks its shape. It does not
// check the secret; Set.Verify does.
func Parse(key string) (id string, err error) {
	rest, ok := strings.CutPrefix(key, Prefix)
	i := strings.LastIndexByte(rest, '_')
	if !ok || i < 0 {
		return "", ErrMalformed
	}
	id, secret := rest[:i], rest[i+1:]
	if !ValidID(id) || len(secret) != secretLen || strings.Trim(secret, base62) != "" {
		return "", ErrMalformed
	}
	return id, nil
}

// Digest returns the value security.json stores for key: "sha256:" and the
// hex SHA-256 of the whole key.
func Digest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return HashPrefix + hex.EncodeToString(sum[:])
}

// NewKey makes a key for `cairn auth create-key --name N --scopes S`: the key,
// to print once, and the entry to commit to security.json. A zero expires
// makes a key that does not expire.
func NewKey(name string, scopes []string, expires time.Time) (key string, entry v1.APIKey, err error) {
	if err := checkEntry(name, scopes); err != nil {
		return "", v1.APIKey{}, err
	}
	id, secret, err := randomParts()
	if err != nil {
		return "", v1.APIKey{}, fmt.Errorf("new API key: %w", err)
	}
	key = Prefix + id + "_" + secret
	entry = v1.APIKey{ID: id, Name: name, Hash: Digest(key), Scopes: slices.Clone(scopes)}
	if !expires.IsZero() {
		entry.Expires = expires.UTC().Format(time.RFC3339)
	}
	return key, entry, nil
}

// checkEntry applies the schema's rules to a new key's name and scopes.
func checkEntry(name string, list []string) error {
	if len(name) > 53 || !namePattern.MatchString(name) {
		return fmt.Errorf("API key name %q: want lower-case letters, digits and '-', at most 53", name)
	}
	if len(list) == 0 || len(list) > 32 {
		return fmt.Errorf("API key %q: want 1 to 32 scopes, got %d", name, len(list))
	}
	for i, s := range list {
		if !slices.Contains(scopes, s) {
			return fmt.Errorf("API key %q: unknown scope %q (valid: %s)", name, s, strings.Join(scopes, ", "))
		}
		if slices.Contains(list[:i], s) {
			return fmt.Errorf("API key %q: scope %q given twice", name, s)
		}
	}
	return nil
}

// randomParts draws a new id and secret from crypto/rand.
func randomParts() (id, secret string, err error) {
	raw := make([]byte, idBytes+32)
	if _, err := rand.Read(raw); err != nil {
		return "", "", fmt.Errorf("read random: %w", err)
	}
	return "k_" + hex.EncodeToString(raw[:idBytes]), encode62(raw[idBytes:]), nil
}

// encode62 writes b as a fixed-length base62 number.
func encode62(b []byte) string {
	n := new(big.Int).SetBytes(b)
	out := make([]byte, secretLen)
	base, mod := big.NewInt(62), new(big.Int)
	for i := secretLen - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62[mod.Int64()]
	}
	return string(out)
}
