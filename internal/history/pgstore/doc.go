// Package pgstore is the PostgreSQL implementation of history.Store, for
// high availability: several cairn replicas share one history, and one
// elected leader appends. It is the only package that imports pgx and goose.
//
// Open applies the schema migrations embedded in the binary (goose, under a
// session advisory lock, so replicas starting together migrate once). Each
// record is kept as the exact canonical JSON that was hashed, with copies of
// the filtered fields in indexed columns. Each append moves the chain's
// head row from the head it read, locking that row to the commit, and
// inserts nothing if another writer moved it first (it then reloads and
// retries), so Seq stays gapless and the chain links even if two writers
// race. Within one process, concurrent Appends are committed together in one
// statement and transaction (one round trip, one WAL flush). An Append
// that returned nil is committed, with fsync; one that returned an error may
// or may not have been.
//
// It is also a history.CursorStore: table history_cursors keeps the cursor
// of each audit destination (package sink), so that the replica elected
// next resumes every destination where the last leader stopped; a cursor
// is upserted with GREATEST, so it never moves backwards.
//
// Records are deleted only by Prune (retention, under a signed
// checkpoint). It does not encrypt records, or detect an edit of the newest
// record together with its hash: only the next record, or an external copy
// of the last hash, shows that.
package pgstore
