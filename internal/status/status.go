// Package status holds what the reconciler last observed, for the API and the
// portal to read: the branch, the revision applied and the last one tried,
// and per adapter its phase, health, last error and last applied revision.
//
// The reconciler is its only writer, through Store.Update; readers take a
// Snapshot, a deep copy that later updates do not touch. Nothing here is
// persisted: after a restart the reconciler rebuilds it from the cluster.
package status

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cairn-gitops/cairn/internal/diag"
)

// Phase is where a revision or an adapter stands.
type Phase string

// Phases of a revision and of an adapter.
const (
	// Pending: not tried yet.
	Pending Phase = "Pending"
	// Applied: everything of it is applied (health is reported apart).
	Applied Phase = "Applied"
	// Stalled: retrying the same revision cannot help (invalid documents,
	// a refused prune); a new revision is needed.
	Stalled Phase = "Stalled"
	// Waiting: blocked on something outside cairn (a missing Secret, a
	// change window); retried after a fixed delay.
	Waiting Phase = "Waiting"
	// Failed: failed for a reason that may pass (API server unreachable,
	// an upgrade rolled back); retried with backoff.
	Failed Phase = "Failed"
	// Uninstalled: an adapter removed from the repository.
	Uninstalled Phase = "Uninstalled"
)

// Revision is one revision's attempt.
type Revision struct {
	Revision  string    `json:"revision"`
	Subject   string    `json:"subject,omitempty"`
	Phase     Phase     `json:"phase"`
	Reason    string    `json:"reason,omitempty"`
	Message   string    `json:"message,omitempty"`
	StartedAt time.Time `json:"startedAt"`
	// Duration is how long the attempt took.
	Duration time.Duration `json:"duration"`
	// Findings say which file and why, for a revision that did not validate.
	Findings []diag.Finding `json:"findings,omitempty"`
	// Counts of what the attempt did.
	Installed   int `json:"installed"`
	Upgraded    int `json:"upgraded"`
	Uninstalled int `json:"uninstalled"`
	Unchanged   int `json:"unchanged"`
	Failed      int `json:"failed"`
	Waiting     int `json:"waiting"`
}

// Adapter is one adapter's state.
type Adapter struct {
	// Key is "environment/name".
	Key         string `json:"key"`
	Name        string `json:"name"`
	Environment string `json:"environment"`
	Namespace   string `json:"namespace"`
	// Protocol, Role and Labels come from the adapter's manifest (for
	// filters and for RBAC bindings that select adapters by label).
	Protocol  string            `json:"protocol,omitempty"`
	Role      string            `json:"role,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	Phase     Phase             `json:"phase"`
	Reason    string            `json:"reason,omitempty"`
	LastError string            `json:"lastError,omitempty"`
	// Health is one of gitops-engine's codes: Healthy, Progressing,
	// Degraded, Suspended, Missing, Unknown.
	Health        string `json:"health"`
	HealthMessage string `json:"healthMessage,omitempty"`
	// AppliedRevision is the revision whose render is live; Digest is
	// that render's digest and HelmVersion Helm's release revision.
	AppliedRevision string    `json:"appliedRevision,omitempty"`
	Digest          string    `json:"digest,omitempty"`
	HelmVersion     int       `json:"helmVersion,omitempty"`
	AppliedAt       time.Time `json:"appliedAt,omitzero"`
	// Drift is a one-line summary of differences from the live objects;
	// empty when in sync or not checked.
	Drift          string    `json:"drift,omitempty"`
	DriftCheckedAt time.Time `json:"driftCheckedAt,omitzero"`
}

// Snapshot is the whole status at one moment.
type Snapshot struct {
	URL    string `json:"url"`
	Branch string `json:"branch"`
	// Leader says whether this process holds the lease and applies.
	Leader bool `json:"leader"`
	// Fetched is the branch head at the last fetch.
	Fetched   string    `json:"fetched,omitempty"`
	FetchedAt time.Time `json:"fetchedAt,omitzero"`
	// Applied is the last revision applied in full.
	Applied   string    `json:"applied,omitempty"`
	AppliedAt time.Time `json:"appliedAt,omitzero"`
	// Last is the last attempt, whatever its outcome.
	Last     *Revision `json:"last,omitempty"`
	Adapters []Adapter `json:"adapters"`
}

// Adapter returns the adapter with key, if any.
func (s *Snapshot) Adapter(key string) (Adapter, bool) {
	i, ok := slices.BinarySearchFunc(s.Adapters, key, func(a Adapter, k string) int { return strings.Compare(a.Key, k) })
	if !ok {
		return Adapter{}, false
	}
	return s.Adapters[i], true
}

// Store holds the current status. It is safe for concurrent use.
type Store struct {
	mu      sync.RWMutex
	snap    Snapshot
	version uint64
}

// NewStore returns a store for the given branch.
func NewStore(url, branch string) *Store {
	return &Store{snap: Snapshot{URL: url, Branch: branch, Adapters: []Adapter{}}}
}

// Snapshot returns a deep copy of the current status.
func (s *Store) Snapshot() Snapshot {
	snap, _ := s.Versioned()
	return snap
}

// Versioned returns a deep copy of the current status and its version,
// which every Update increments: a reader that caches what it derives from
// a snapshot compares Version with the version it cached.
func (s *Store) Versioned() (Snapshot, uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return clone(s.snap), s.version
}

// Version is the number of Updates so far.
func (s *Store) Version() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.version
}

// Update changes the status under the lock; fn must not keep the pointer.
// Adapters are kept sorted by key.
func (s *Store) Update(fn func(*Snapshot)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&s.snap)
	s.version++
	slices.SortFunc(s.snap.Adapters, func(a, b Adapter) int { return strings.Compare(a.Key, b.Key) })
}

func clone(s Snapshot) Snapshot {
	c := s
	c.Adapters = slices.Clone(s.Adapters)
	if s.Last != nil {
		last := *s.Last
		last.Findings = slices.Clone(s.Last.Findings)
		c.Last = &last
	}
	return c
}
