package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/utils/clock"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth/identity"
)

// Defaults when security.json has no sessions block.
const (
	DefaultTimeout       = 8 * time.Hour
	DefaultMaxConcurrent = 5
)

// idLen is the length of an id: 32 bytes in unpadded base64url.
const idLen = 43

// Errors of Get.
var (
	// ErrNotFound: no such session (never created, logged out, or ended
	// because the user opened more than the limit).
	ErrNotFound = errors.New("session not found")
	// ErrExpired: the session is past its timeout.
	ErrExpired = errors.New("session expired")
)

// Limits bound sessions.
type Limits struct {
	// Timeout ends a session this long after login.
	Timeout time.Duration
	// MaxConcurrent is how many sessions one principal may hold; 0 is no limit.
	MaxConcurrent int
}

// LimitsFromSpec reads security.json's sessions block; nil gives the defaults.
func LimitsFromSpec(s *v1.Sessions) (Limits, error) {
	l := Limits{Timeout: DefaultTimeout, MaxConcurrent: DefaultMaxConcurrent}
	if s == nil {
		return l, nil
	}
	if s.Timeout != "" {
		d, err := v1.ParseDuration(s.Timeout)
		if err != nil || d <= 0 {
			return l, fmt.Errorf("sessions timeout %q: want a positive duration", s.Timeout)
		}
		l.Timeout = d
	}
	if s.MaxConcurrent < 0 {
		return l, fmt.Errorf("sessions maxConcurrent %d: want 1 or more", s.MaxConcurrent)
	}
	if s.MaxConcurrent > 0 {
		l.MaxConcurrent = s.MaxConcurrent
	}
	return l, nil
}

// Session is one login. The ID is the secret the cookie carries; it is set
// only in what Create returns.
type Session struct {
	ID        string
	Principal identity.Principal
	Created   time.Time
	Expires   time.Time
}

type entry struct {
	hash [sha256.Size]byte
	s    Session // without ID
}

// Store holds sessions; safe for concurrent use.
type Store struct {
	clock clock.PassiveClock

	mu     sync.Mutex
	limits Limits
	byHash map[[sha256.Size]byte]*entry
	byUser map[string][]*entry // oldest first
}

// New returns an empty store; a nil clock is the real one.
func New(limits Limits, clk clock.PassiveClock) *Store {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Store{clock: clk, limits: limits, byHash: map[[sha256.Size]byte]*entry{}, byUser: map[string][]*entry{}}
}

// SetLimits applies new limits (a reloaded security.json). A shorter timeout
// applies to existing sessions at once; a lower maximum at the next login.
func (s *Store) SetLimits(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = l
}

// Create starts a session for p and returns it with its id. If p then
// holds more than the limit, its oldest sessions end.
func (s *Store) Create(p identity.Principal) (Session, error) {
	if !p.Valid() {
		return Session{}, errors.New("session: principal names nobody")
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Session{}, fmt.Errorf("session: read random: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	e := &entry{hash: sha256.Sum256([]byte(id)),
		s: Session{Principal: p, Created: now, Expires: now.Add(s.limits.Timeout)}}
	user := userKey(p)
	list := append(s.live(user, now), e)
	if limit := s.limits.MaxConcurrent; limit > 0 && len(list) > limit {
		for _, old := range list[:len(list)-limit] {
			delete(s.byHash, old.hash)
		}
		list = slices.Clone(list[len(list)-limit:])
	}
	s.byUser[user] = list
	s.byHash[e.hash] = e
	out := e.s
	out.ID = id
	return out, nil
}

// live drops user's expired sessions and returns the rest, oldest first.
func (s *Store) live(user string, now time.Time) []*entry {
	list := s.byUser[user]
	kept := list[:0]
	for _, e := range list {
		if s.expired(e, now) {
			delete(s.byHash, e.hash)
			continue
		}
		kept = append(kept, e)
	}
	return kept
}

func (s *Store) expired(e *entry, now time.Time) bool {
	return !now.Before(e.s.Created.Add(s.limits.Timeout)) || !now.Before(e.s.Expires)
}

// Get returns the session with id (its ID field left empty), or ErrNotFound
// or ErrExpired.
func (s *Store) Get(id string) (Session, error) {
	if len(id) != idLen {
		return Session{}, ErrNotFound
	}
	h := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byHash[h]
	if !ok {
		return Session{}, ErrNotFound
	}
	if s.expired(e, s.clock.Now()) {
		s.remove(e)
		return Session{}, ErrExpired
	}
	return e.s, nil
}

// Delete ends the session with id (logout); unknown ids are ignored.
func (s *Store) Delete(id string) {
	h := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byHash[h]; ok {
		s.remove(e)
	}
}

// DeletePrincipal ends every session of p and returns how many.
func (s *Store) DeletePrincipal(p identity.Principal) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	user := userKey(p)
	n := len(s.byUser[user])
	for _, e := range s.byUser[user] {
		delete(s.byHash, e.hash)
	}
	delete(s.byUser, user)
	return n
}

func (s *Store) remove(e *entry) {
	delete(s.byHash, e.hash)
	user := userKey(e.s.Principal)
	list := slices.DeleteFunc(s.byUser[user], func(x *entry) bool { return x == e })
	if len(list) == 0 {
		delete(s.byUser, user)
		return
	}
	s.byUser[user] = list
}

// Sweep drops expired sessions and returns how many.
func (s *Store) Sweep() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, n := s.clock.Now(), 0
	for user := range s.byUser {
		before := len(s.byUser[user])
		list := s.live(user, now)
		n += before - len(list)
		if len(list) == 0 {
			delete(s.byUser, user)
		} else {
			s.byUser[user] = list
		}
	}
	return n
}

// Len is the number of sessions held, expired ones not yet swept included.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byHash)
}

func userKey(p identity.Principal) string { return string(p.Kind) + "/" + p.Name }
