// Package sqlitestore is cairn's embedded audit store: one SQLite file, no
// server to run, the default when no PostgreSQL is configured. It implements
// history.Store and passes historytest.
//
// It uses modernc.org/sqlite, SQLite translated to Go, through database/sql.
// Being pure Go (no cgo), it keeps `go build` static and cross-compilable and
// CI needs no C toolchain; it is the real SQLite (its file format, locking
// and WAL), so the file can be inspected with the sqlite3 shell. This package
// is the only one that imports it.
//
// Durability: the file is opened in WAL mode with synchronous=FULL, so when
// Append returns its record has been fsynced and survives a crash or a power
// cut (with NORMAL, the last transactions could be lost on power failure,
// which an audit trail cannot accept). Concurrent Appends are group
// committed: callers that arrive while a transaction is being written share
// the next one, and each returns only once the transaction holding its record
// has committed.
//
// Each Append transaction is BEGIN IMMEDIATE and reads the last hash inside
// it, so the chain stays linear even if a second process writes the same
// file: SQLite's file lock serialises them (the loser waits up to the busy
// timeout, then Append fails). One cairn process per file is the supported
// setup; several replicas share PostgreSQL instead.
//
// Storage: table records holds, per record, seq, the indexed columns (time,
// event, adapter, environment, revision), body (the record's canonical JSON,
// history.Canonical, exactly the bytes hashed), prev_hash and hash; table
// commit_authors indexes the name and e-mail of each commit's author for
// author filters. Nothing is stored that is not in the record. The schema
// version is kept in schema_version and migrated on Open.
package sqlitestore
