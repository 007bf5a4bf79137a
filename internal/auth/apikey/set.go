package apikey

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// Key is a verified key as the caller may see it: no hash, no secret.
type Key struct {
	ID     string
	Name   string
	Scopes []string
	// Expires is zero for a key that does not expire.
	Expires time.Time
}

// entry is one configured key, parsed.
type entry struct {
	Key
	digest   [sha256.Size]byte
	disabled bool
}

// Set is the API keys of one security.json, immutable once built; build a new
// one when the configuration changes.
type Set struct {
	byID map[string]entry
}

// NewSet parses the configured keys. An entry with a bad id, hash or expiry
// is an error, so that a broken configuration never half-applies.
func NewSet(keys []v1.APIKey) (*Set, error) {
	s := &Set{byID: make(map[string]entry, len(keys))}
	for i, k := range keys {
		e, err := parseEntry(k)
		if err != nil {
			return nil, fmt.Errorf("API key %d (%s): %w", i, k.ID, err)
		}
		if _, dup := s.byID[k.ID]; dup {
			return nil, fmt.Errorf("API key %d: id %s is used twice", i, k.ID)
		}
		s.byID[k.ID] = e
	}
	return s, nil
}

func parseEntry(k v1.APIKey) (entry, error) {
	e := entry{Key: Key{ID: k.ID, Name: k.Name, Scopes: slices.Clone(k.Scopes)}, disabled: k.IsDisabled()}
	if !ValidID(k.ID) {
		return e, fmt.Errorf("id: want k_ and 8 to 32 lower-case hex digits")
	}
	if k.Name == "" {
		return e, fmt.Errorf("name is empty")
	}
	hexSum, ok := strings.CutPrefix(k.Hash, HashPrefix)
	if n, err := hex.Decode(e.digest[:], []byte(hexSum)); !ok || err != nil || n != sha256.Size || len(hexSum) != 2*sha256.Size {
		return e, fmt.Errorf("hash: want sha256: and 64 hex digits")
	}
	if k.Expires != "" {
		t, err := time.Parse(time.RFC3339, k.Expires)
		if err != nil {
			return e, fmt.Errorf("expires: %w", err)
		}
		e.Expires = t
	}
	return e, nil
}

// Len is the number of configured keys.
func (s *Set) Len() int { return len(s.byID) }

// Verify checks a presented key at time now. On failure it returns the key's
// id (when the key is well formed: ids are public) and one of ErrMalformed,
// ErrUnknown, ErrMismatch, ErrDisabled or ErrExpired. The secret is checked
// before the state of the key, so a caller without the secret learns nothing
// about it.
func (s *Set) Verify(key string, now time.Time) (Key, error) {
	id, err := Parse(key)
	if err != nil {
		return Key{}, err
	}
	sum := sha256.Sum256([]byte(key))
	e, found := s.byID[id]
	// Compare even when the id is unknown, so both paths cost the same.
	match := subtle.ConstantTimeCompare(sum[:], e.digest[:]) == 1
	switch {
	case !found:
		return Key{ID: id}, ErrUnknown
	case !match:
		return Key{ID: id}, ErrMismatch
	case e.disabled:
		return Key{ID: id, Name: e.Name}, ErrDisabled
	case !e.Expires.IsZero() && !now.Before(e.Expires):
		return Key{ID: id, Name: e.Name}, ErrExpired
	}
	k := e.Key
	k.Scopes = slices.Clone(e.Scopes)
	return k, nil
}
