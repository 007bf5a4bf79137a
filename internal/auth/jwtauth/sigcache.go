package jwtauth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// sigCacheSize bounds the verified signatures remembered; past it the
// cache starts over (a cheap bound: a miss only costs a verification).
const sigCacheSize = 10_000

// sigCache remembers tokens whose signature verified, by the SHA-256 of the
// whole token, with the payload and the key that verified it. A bearer
// sends the same token with every request until it expires, and an RSA or
// ECDSA verification is most of the cost of a request: a hit skips it, but
// never the checks of the claims (expiry, issuer, audience), and counts
// only while the key set it was verified with is the one in use, fresh,
// and still has the key (a refresh, a retired key or a stale set misses).
type sigCache struct {
	mu sync.Mutex
	m  map[[32]byte]sigEntry
}

type sigEntry struct {
	kid string
	// fetched is the key set's generation whose key verified it.
	fetched time.Time
	payload []byte
}

func (c *sigCache) get(raw string) (sigEntry, [32]byte, bool) {
	sum := sha256.Sum256([]byte(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[sum]
	return e, sum, ok
}

func (c *sigCache) put(sum [32]byte, e sigEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= sigCacheSize {
		c.m = make(map[[32]byte]sigEntry, 256)
	}
	c.m[sum] = e
}
