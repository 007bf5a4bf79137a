package history

import (
	"context"
	"errors"
	"time"
)

// Stored is a record as a store keeps it: its place in the hash chain.
// Hash is the hex SHA-256 of the canonical JSON of the record with Seq and
// PrevHash (see Canonical); PrevHash is the previous record's Hash, "" for
// the first record.
type Stored struct {
	Seq      int64  `json:"seq"`
	PrevHash string `json:"prevHash"`
	Hash     string `json:"hash"`
	Record
}

// Filter selects records for List. Zero fields select everything.
type Filter struct {
	Adapter, Environment string
	// Author matches the name or e-mail of a commit's author.
	Author string
	Events []Event
	// Since and Until bound Record.Time (Since inclusive, Until exclusive).
	Since, Until time.Time
	// Before pages backwards: only records with Seq < Before (0: from the
	// newest). Limit caps the page (0: 100; at most 1,000).
	Before int64
	Limit  int
}

// Verification is what Verify found.
type Verification struct {
	// Records is how many records were checked.
	Records int64 `json:"records"`
	// OK is true when every record's hash is right and every record links
	// to the one before it, with no gap in Seq.
	OK bool `json:"ok"`
	// FirstBad is the Seq of the first record that is wrong (edited,
	// reordered, or after a dropped record); 0 when OK.
	FirstBad int64  `json:"firstBad,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Checkpoint is the newest retention checkpoint, after which the
	// chain starts; its signature has been checked with its own key (pin
	// the key with Checkpoint.Check). Nil when nothing was ever pruned.
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
}

// Pruning asks a store to remove old records.
type Pruning struct {
	// Before is the cutoff: the records removed are the longest run from the
	// oldest on whose Time is before it (a record at or after the cutoff
	// keeps every record after it).
	Before time.Time
	// Signer signs the checkpoint.
	Signer *Signer
	// Record is the HistoryPruned record to append (its Time and Actor);
	// the store sets Event, Outcome and Checkpoint.
	Record Record
}

// Store is an append-only, hash-chained audit store. Implementations are
// safe for concurrent use; Append assigns Seq, PrevHash and Hash.
type Store interface {
	Recorder
	// AppendAll appends records in order, all or none, as consecutive
	// records (one transaction: a reconcile pass records its revision and
	// its adapters at once).
	AppendAll(ctx context.Context, records []Record) error
	// List returns matching records, newest first.
	List(ctx context.Context, f Filter) ([]Stored, error)
	// Get returns one record; ErrNotFound when there is none with seq.
	Get(ctx context.Context, seq int64) (Stored, error)
	// Scan calls fn for every record with Seq > after, oldest first, until
	// fn returns an error (returned) or the records end.
	Scan(ctx context.Context, after int64, fn func(Stored) error) error
	// Verify recomputes the chain, from the newest checkpoint if any.
	Verify(ctx context.Context) (Verification, error)
	// Prune removes old records under a signed checkpoint, in one
	// transaction with the HistoryPruned record that carries it. ok is false
	// when no record is old enough (nothing written).
	Prune(ctx context.Context, p Pruning) (cp Checkpoint, ok bool, err error)
	Close() error
}

// ErrNotFound means no record has the sequence number asked for.
var ErrNotFound = errors.New("no such record")

// CursorStore is what a Store may also implement: it keeps the cursors of
// the audit destinations (package sink), shared by every process that opens
// the store, so that when another replica becomes the leader and runs the
// forwarder it resumes each destination where the old leader stopped. A
// sink.Forwarder whose Store implements it keeps its cursors there (reading
// its state file only for the cursors the store lacks, to migrate); with a
// Store that does not, cursors live in the state file of the process's
// state folder.
//
// A cursor is the Seq of the last record delivered to a destination (0:
// none yet), under the destination's name. pgstore implements CursorStore:
// several replicas share one database. sqlitestore does not: one process
// owns its file, and the state file beside it is as durable and never
// shared.
//
// Implementations are safe for concurrent use, by any number of processes.
type CursorStore interface {
	// LoadCursors returns every saved cursor by destination name; an empty
	// map when there is none.
	LoadCursors(ctx context.Context) (map[string]int64, error)
	// SaveCursor moves the cursor of name forward to seq, creating it if
	// needed, and returns once that is durable. It never moves a cursor
	// backwards: a seq
	// at or before the saved one changes nothing and is not an error, so
	// savers racing one another, or a late one, cannot undo progress. seq
	// must not be negative.
	SaveCursor(ctx context.Context, name string, seq int64) error
}
