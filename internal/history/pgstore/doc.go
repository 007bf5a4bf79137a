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
// It does not delete records (retention with checkpoints is not written
// yet), encrypt them, or detect an edit of the newest record together with
// its hash: only the next record, or an external copy of the last hash,
// shows that.
package pgstore
