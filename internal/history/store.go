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
}

// Store is an append-only, hash-chained audit store. Implementations are
// safe for concurrent use; Append assigns Seq, PrevHash and Hash.
type Store interface {
	Recorder
	// List returns matching records, newest first.
	List(ctx context.Context, f Filter) ([]Stored, error)
	// Get returns one record; ErrNotFound when there is none with seq.
	Get(ctx context.Context, seq int64) (Stored, error)
	// Scan calls fn for every record with Seq > after, oldest first, until
	// fn returns an error (returned) or the records end.
	Scan(ctx context.Context, after int64, fn func(Stored) error) error
	// Verify recomputes the chain.
	Verify(ctx context.Context) (Verification, error)
	Close() error
}

// ErrNotFound means no record has the sequence number asked for.
var ErrNotFound = errors.New("no such record")
