// Package gitsource reads a cairn config repository out of Git: it opens a
// repository on disk (with a worktree or bare), resolves revisions the way
// `git rev-parse` does, and serves a commit's tree as a read-only fs.FS that
// the manifest loader and the validator read like a directory.
//
// It is the only package that imports go-git; nothing of go-git leaks out of
// its API (hashes are hex strings, trees are fs.FS). Clone and fetch of a
// remote are not here yet: the reconciler will add them to Repo, and every
// reader of a tree keeps working unchanged.
//
// The tree FS is lazy: a directory's entries are read from Git when it is
// first listed, a file's contents when it is first read, and its size (for
// Stat) from the object header only. A symbolic link (mode 120000) shows as
// fs.ModeSymlink; ReadLink and Lstat see the link, Open and Stat follow it
// within the tree and refuse to follow it out of the tree. A submodule shows
// as an empty directory. Every entry carries the commit's committer time as
// its modification time, so two reads of one commit are identical.
//
// A Repo and its trees are safe for concurrent use: go-git's object storage
// is not, so every read of an object goes through one lock per Repo.
package gitsource
