// Package history defines cairn's audit record: what the reconciler did, to
// which adapter, at which revision, brought by which commits, with what
// outcome. A Record is built from observed facts (what Helm and the API
// server actually did), never from intent, and never holds a secret value:
// values are represented only by their digest.
//
// The package offers the record shape; Store, the append-only, hash-chained
// store that keeps records for years (sqlitestore, the embedded default, and
// pgstore implement it; historytest is the suite both pass); Canonical and
// HashOf, the exact bytes each record's hash covers, for `cairn history
// verify` and for anyone checking an export; a Recorder that writes records
// as structured log lines; and Memory, a recorder for tests and for the
// status of a single process.
package history
