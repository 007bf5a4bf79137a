// Package gitsource reads a cairn config repository out of Git: it keeps a
// clone of a remote branch up to date, lists the branch's history, resolves
// revisions the way `git rev-parse` does, and serves a commit's tree as a
// read-only fs.FS that the manifest loader and the validator read like a
// directory.
//
// It is the only package that imports go-git; nothing of go-git leaks out of
// its API (hashes are hex strings, trees are fs.FS, errors are this
// package's).
//
// # Remotes
//
// [OpenRemote] keeps a persistent bare clone of one branch in a directory;
// [Remote.Fetch] brings it up to date over HTTP(S) (basic authentication or
// a token), SSH (a private key, and a known_hosts that must hold the
// server's host key: there is no trust on first use), git:// or from a local
// path. The branch's remote-tracking ref is force-updated, so force pushes
// are seen; objects are never deleted, so every commit once fetched stays
// readable. Credentials never appear in errors or logs. A failed fetch is a
// [*FetchError] that classifies the failure: [ErrAuth] and [ErrHostKey]
// will not go away by retrying, [ErrNotFound] means no such repository or
// branch, anything else may be transient.
//
// # History
//
// [Repo.Commits] lists the first-parent history between two commits with
// the files each changed and its signature (PGP signatures verified against
// a given key ring; SSH and X.509 signatures reported, not verified), and
// reports a rewritten history as a [*RewrittenError]. [Repo.IsAncestor]
// answers `git merge-base --is-ancestor`.
//
// # Trees
//
// The tree FS is lazy: a directory's entries are read from Git when it is
// first listed, a file's contents when it is first read, and its size (for
// Stat) from the object header only. A symbolic link (mode 120000) shows as
// fs.ModeSymlink; ReadLink and Lstat see the link, Open and Stat follow it
// within the tree and refuse to follow it out of the tree. A submodule shows
// as an empty directory. Every entry carries the commit's committer time as
// its modification time, so two reads of one commit are identical.
//
// # Concurrency
//
// A Repo, its trees and a Remote are safe for concurrent use: go-git's
// object storage is not, so every read of an object goes through one lock
// per Repo. A fetch downloads into files the Repo does not read yet and
// takes the lock only to publish the new head; fetches of one Remote run
// one at a time. The go-git settings that are process-wide (its HTTP client,
// the SSH client's reading of ~/.ssh/config for host aliases) are left as
// they are.
package gitsource
