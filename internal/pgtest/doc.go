// Package pgtest starts a real PostgreSQL server for tests: Debian's server
// binaries (PostgreSQL 15 or newer, under /usr/lib/postgresql/N/bin), run as
// the postgres system user when the tests run as root, in a temporary folder,
// listening on a free loopback port with trust authentication and fsync on.
//
// It does not install PostgreSQL (on Debian, the postgresql package does),
// tune it for speed, or keep anything after Stop. Tests share one server per
// package through Shared and take a fresh database each with
// [Server.NewDatabase].
package pgtest
