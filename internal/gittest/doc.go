// Package gittest builds Git repositories for the tests of other packages
// with the real git command line (git must be on PATH; a test that cannot
// run it fails, it does not skip).
//
// A [Repo] is a worktree in the test's temporary directory with branch main,
// a fixed identity and no commit signing, isolated from the user's and the
// system's Git configuration. Commits get deterministic dates (one minute
// apart from 2026-01-01T00:00:00Z unless [At] says otherwise), so the same
// steps give the same hashes on every run.
//
// It is for tests only: every helper fails the test on error instead of
// returning one. Production code reads Git through internal/gitsource, never
// through the git binary.
package gittest
