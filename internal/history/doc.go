// Package history defines cairn's audit record: what the reconciler did, to
// which adapter, at which revision, brought by which commits, with what
// outcome. A Record is built from observed facts (what Helm and the API
// server actually did), never from intent, and never holds a secret value:
// values are represented only by their digest.
//
// The append-only, hash-chained stores (embedded and PostgreSQL) that keep
// records for years, and `cairn history`, build on these types. Today the
// package offers the record shape, a Recorder that writes records as
// structured log lines, and Memory, a recorder for tests and for the status
// of a single process.
package history
