// Package sink copies audit records from the history store to the
// destinations the security configuration names (audit.destinations): a
// file with rotation, stdout, or an HTTP endpoint. The store is always
// written first and stays the record of truth; a destination only ever
// gets copies.
//
// A Forwarder is an outbox that tails the store: each destination has its
// own goroutine and its own cursor (the last Seq it delivered), reads the
// records after its cursor with history.Store.Scan and delivers them. The
// reconciler only appends to the store and calls Notify, which never
// blocks, so a slow, full or unreachable destination can never hold back
// the reconciler or another destination, and nothing is lost while it is
// down: it catches up from its cursor when it comes back.
//
// Encoding: each record is the JSON of history.Stored (seq, prevHash, hash
// and the record's fields), so a receiver can check the chain with
// history.HashOf and drop duplicates by seq. file and stdout get one record
// per line (NDJSON); http gets POSTs of a JSON array of up to 100 records
// (Content-Type application/json, headers Cairn-Audit-First-Seq and
// Cairn-Audit-Last-Seq), and a 2xx answer means delivered.
//
// Delivery is at least once and in order. The cursor is saved after a
// batch is delivered, so after a crash between the two the last batch is
// delivered again with the same seqs. A file destination fsyncs the file
// before its cursor moves. A destination seen for the first time starts
// after the newest record at that moment (that cursor is saved at once):
// the history before it is what `cairn history export` is for. A
// destination that is removed keeps its cursor, so adding it back resumes
// where it stopped.
//
// Where cursors live: when the store is a history.CursorStore (pgstore,
// which several replicas share, the elected leader alone running the
// Forwarder), in the store, shared by every replica. A replica that becomes
// the leader resumes each destination where the old leader stopped: what
// the old one had not delivered, the new one delivers, and only a batch
// delivered whose cursor was not yet saved is delivered twice. Each
// destination reads the shared cursors as it starts (at Run, or when
// Configure adds or changes it) and moves up to its own if another replica
// delivered further; a saved cursor never moves backwards. The state file,
// audit-destinations.json under Options.StateDir, is then only read, once:
// for a destination the store has no cursor for, the file's cursor is used
// and copied to the store (so upgrading from per-replica cursors skips
// nothing). When the store is not a CursorStore (sqlitestore: one process
// per file), the cursors live in that state file, replaced atomically at
// each save.
//
// Failures are retried, never dropped: network errors, timeouts (10s, or
// the destination's timeout) and every non-2xx answer, with exponential
// backoff and jitter from 1s to 5m, or after the Retry-After a 429 or 503
// asks for (at most an hour). The first failure of a streak is logged at
// Warn, the others at Debug, the recovery at Info; a 4xx other than 408 and
// 429 usually needs an operator (a revoked token, say) and is logged at
// Error, once per streak. Redirects are not followed (a POST redirected
// becomes a GET, which would look delivered). A file line that is larger
// than the rotation size cannot be written: the destination stops there,
// with the error in Stats, until the size is raised.
//
// Secrets: the headers of an http destination are read, at each attempt, from
// the files Options.SecretDir/<secret name>/<key>, for the keys its
// headersSecretRef lists. Header values and a URL's userinfo never appear
// in an error, a log line, the state file, the store's cursors or Stats:
// destinations are named by their type and path or URL without userinfo,
// and error text is scrubbed of those values. Put credentials in headers,
// not in the URL's query, which is shown.
//
// Files are written with gopkg.in/natefinch/lumberjack.v2, which this
// package alone imports: it rotates by size (in MiB: a size in bytes is
// rounded up, at least 1), removes backups by age (in days, rounded up) and
// count, and gzips backups in its own goroutine. The folder is created with
// mode 0750 and files with 0600. lumberjack names backups by the
// millisecond; this package keeps two rotations of one file at least 2ms
// apart so that a backup is never overwritten.
//
// The package does not export history (see `cairn history export`), filter
// records by event, or sign what it sends.
package sink
