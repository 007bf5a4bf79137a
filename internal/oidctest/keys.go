package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// signingKey is one RS256 key the provider signs with or publishes.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is a published key, as op.Key wants it.
type publicKey struct{ *signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

// keyring holds the current signing key and every published one.
type keyring struct {
	mu        sync.Mutex
	current   *signingKey
	published []*signingKey
}

func newKey() (*signingKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("oidctest: generate key: %w", err)
	}
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("oidctest: key id: %w", err)
	}
	return &signingKey{id: "key-" + hex.EncodeToString(id), key: k}, nil
}

// rotate makes a new key current; the old one stays published.
func (r *keyring) rotate() (*signingKey, error) {
	k, err := newKey()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.current = k
	r.published = append(r.published, k)
	return k, nil
}

// retire stops publishing kid; the current key cannot be retired.
func (r *keyring) retire(kid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.current != nil && r.current.id == kid {
		return fmt.Errorf("oidctest: key %s signs now; rotate first", kid)
	}
	n := len(r.published)
	r.published = slices.DeleteFunc(r.published, func(k *signingKey) bool { return k.id == kid })
	if len(r.published) == n {
		return fmt.Errorf("oidctest: key %s is not published", kid)
	}
	return nil
}

func (r *keyring) signing() *signingKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current
}

func (r *keyring) keySet() []op.Key {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]op.Key, 0, len(r.published))
	for _, k := range r.published {
		keys = append(keys, publicKey{k})
	}
	return keys
}

func (r *keyring) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, k := range r.published {
		ids = append(ids, k.id)
	}
	return ids
}
