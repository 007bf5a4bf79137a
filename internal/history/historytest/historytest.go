// Package historytest is the conformance suite every history.Store passes:
// the embedded store and PostgreSQL run the same tests, so the audit trail
// behaves the same whichever backend an operator picks.
//
// A backend's test calls Run with a function that opens an empty store and
// a Tamperer that edits the backend's storage directly (SQL, not the Store
// interface, which has no way to rewrite a record).
package historytest

import (
	"testing"

	"github.com/cairn-gitops/cairn/internal/history"
)

// Tamperer rewrites a backend's storage behind the store's back, as an
// attacker with access to the database would. Each method fails t if it
// cannot do what it says.
type Tamperer interface {
	// EditField changes one field of record seq (its actor, say) in place,
	// leaving its stored hash as it was.
	EditField(t *testing.T, s history.Store, seq int64)
	// Delete removes record seq.
	Delete(t *testing.T, s history.Store, seq int64)
	// Swap exchanges the whole contents (everything but the sequence
	// number) of records a and b.
	Swap(t *testing.T, s history.Store, a, b int64)
	// PutCheckpoint writes cp into the checkpoint table, replacing the one
	// with the same Seq, and removes any checkpoint with a higher Seq.
	PutCheckpoint(t *testing.T, s history.Store, cp history.Checkpoint)
}

// Run runs the suite. open returns a new, empty store for each subtest and
// arranges for its removal (t.Cleanup); Run closes the store it opened.
//
// What it holds a store to: Append numbers records 1, 2, 3... and chains
// them (PrevHash, Hash = history.HashOf), also with 8 goroutines appending
// at once; Get gives back every field as appended, times in UTC and numbers
// inside Change.Before and After as json.Number (decode with
// history.DecodeCanonical), and ErrNotFound for an unknown seq; List
// filters by adapter, environment, author name or e-mail of any commit,
// events and time range, newest first, and pages with Before and Limit
// without overlap or gap; Scan goes oldest first and stops at fn's error;
// Verify passes an intact store and, after one record is edited, deleted or
// two are swapped, names the first record that no longer fits: the edited
// one, the one after the deleted one, the earlier of the two swapped;
// AppendAll's records are consecutive; Prune removes the oldest run of
// records before its cutoff under a signed checkpoint carried by a
// history.pruned record, after which the chain verifies and goes on, and a
// checkpoint edited or forged over deleted records fails Verify.
func Run(t *testing.T, open func(t *testing.T) history.Store, tamper Tamperer) {
	tests := []struct {
		name string
		run  func(t *testing.T, s history.Store)
	}{
		{"AppendChains", testAppendChains},
		{"RoundTrip", testRoundTrip},
		{"ConcurrentAppend", testConcurrentAppend},
		{"ListFilters", testListFilters},
		{"ListPages", testListPages},
		{"GetNotFound", testGetNotFound},
		{"Scan", testScan},
		{"VerifyEmpty", testVerifyEmpty},
		{"AppendAll", testAppendAll},
		{"Prune", testPrune},
		{"PruneKeepsYounger", testPruneKeepsYounger},
		{"PruneTamper", func(t *testing.T, s history.Store) { testPruneTamper(t, s, tamper) }},
	}
	for _, tc := range tamperings {
		tests = append(tests, struct {
			name string
			run  func(t *testing.T, s history.Store)
		}{"Tamper/" + tc.name, func(t *testing.T, s history.Store) { testTamper(t, s, tamper, tc) }})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.run(t, s)
		})
	}
}
