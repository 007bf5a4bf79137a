package oidclogin

import (
	"crypto/sha256"
	"sync"
	"time"
)

// Pending logins: how long one may take, and how many are kept.
const (
	LoginTimeout      = 10 * time.Minute
	DefaultMaxPending = 10000
)

// pendingLogin is what the callback needs of the login that started it.
type pendingLogin struct {
	nonce    string
	verifier string
	next     string
	cfg      *settings
	expires  time.Time
}

// pendingStore keeps logins started and not finished, by the SHA-256 of
// their state; each is taken once. Safe for concurrent use.
type pendingStore struct {
	max int

	mu sync.Mutex
	m  map[[sha256.Size]byte]pendingLogin
}

func newPendingStore(max int) *pendingStore {
	return &pendingStore{max: max, m: map[[sha256.Size]byte]pendingLogin{}}
}

// put keeps p under state. When the store is full it drops the expired
// logins, then the one closest to expiry, so that a flood of login starts
// cannot grow memory.
func (s *pendingStore) put(state string, p pendingLogin, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max {
		s.sweep(now)
	}
	if len(s.m) >= s.max {
		s.dropOldest()
	}
	s.m[sha256.Sum256([]byte(state))] = p
}

// take removes and returns the login of state, if it is there and live.
func (s *pendingStore) take(state string, now time.Time) (pendingLogin, bool) {
	h := sha256.Sum256([]byte(state))
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[h]
	if !ok {
		return pendingLogin{}, false
	}
	delete(s.m, h)
	return p, now.Before(p.expires)
}

func (s *pendingStore) sweep(now time.Time) {
	for k, p := range s.m {
		if !now.Before(p.expires) {
			delete(s.m, k)
		}
	}
}

func (s *pendingStore) dropOldest() {
	var oldest [sha256.Size]byte
	var at time.Time
	for k, p := range s.m {
		if at.IsZero() || p.expires.Before(at) {
			oldest, at = k, p.expires
		}
	}
	delete(s.m, oldest)
}

func (s *pendingStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
