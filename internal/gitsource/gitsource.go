package gitsource

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// ErrNotFound means a revision names no commit: no such branch, tag or
// hash, or more ancestors than the history has. Test with errors.Is.
var ErrNotFound = errors.New("not found")

// RevisionError is a revision that could not be resolved. Err is
// ErrNotFound, or says why the revision is not valid syntax.
type RevisionError struct {
	Rev string
	Err error
}

func (e *RevisionError) Error() string { return fmt.Sprintf("revision %q: %v", e.Rev, e.Err) }

func (e *RevisionError) Unwrap() error { return e.Err }

// Repo is a Git repository on disk. It is safe for concurrent use.
type Repo struct {
	path string
	repo *git.Repository
	// mu serialises reads of objects: go-git's storage shares pack file
	// handles and caches between callers without locking them.
	mu sync.Mutex
}

// Open opens the repository at path: a worktree (with .git inside, or a
// .git file pointing elsewhere) or a bare repository. It does not search
// parent directories.
func Open(path string) (*Repo, error) {
	r, err := git.PlainOpenWithOptions(path, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if err != nil {
		if errors.Is(err, git.ErrRepositoryNotExists) {
			return nil, fmt.Errorf("open repository %s: not a Git repository: %w", path, err)
		}
		return nil, fmt.Errorf("open repository %s: %w", path, err)
	}
	if r, err = keepDescriptors(r); err != nil {
		return nil, fmt.Errorf("open repository %s: %w", path, err)
	}
	return &Repo{path: path, repo: r}, nil
}

// keepDescriptors reopens the repository's storage so that it keeps pack
// files open (until Close) instead of opening one for every object read,
// which is most of the time of a history walk. The worktree is dropped:
// only objects and references are read.
func keepDescriptors(r *git.Repository) (*git.Repository, error) {
	s, ok := r.Storer.(*filesystem.Storage)
	if !ok {
		return r, nil
	}
	kept := filesystem.NewStorageWithOptions(s.Filesystem(), cache.NewObjectLRUDefault(),
		filesystem.Options{KeepDescriptors: true})
	return git.Open(kept, nil)
}

// Path is the path the repository was opened at.
func (r *Repo) Path() string { return r.path }

// Close releases the files the repository holds open. Trees of the
// repository must not be read afterwards.
func (r *Repo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.repo.Storer.(io.Closer); ok {
		if err := c.Close(); err != nil {
			return fmt.Errorf("close repository %s: %w", r.path, err)
		}
	}
	return nil
}

// Signature is who authored or committed a commit, and when.
type Signature struct {
	Name  string    `json:"name"`
	Email string    `json:"email"`
	When  time.Time `json:"when"`
}

// Commit is a resolved revision.
type Commit struct {
	// Hash is the full hex object name.
	Hash      string    `json:"hash"`
	Author    Signature `json:"author"`
	Committer Signature `json:"committer"`
	Message   string    `json:"message"`
	// Parents are the hashes of the parent commits, first parent first.
	Parents []string `json:"parents,omitempty"`
}

// Time is when the commit was committed (the committer's time).
func (c Commit) Time() time.Time { return c.Committer.When }

// Short is the first 12 characters of the hash.
func (c Commit) Short() string {
	if len(c.Hash) > 12 {
		return c.Hash[:12]
	}
	return c.Hash
}

// Subject is the first line of the message.
func (c Commit) Subject() string {
	s, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
	return strings.TrimSpace(s)
}

// Resolve finds the commit a revision names: a branch, a tag (annotated tags
// are peeled to their commit), a full or abbreviated hash, HEAD, a remote
// branch (origin/main), and any of them followed by ~N, ^ or ^N. A revision
// that names nothing gives a *RevisionError wrapping ErrNotFound.
func (r *Repo) Resolve(rev string) (Commit, error) {
	if strings.TrimSpace(rev) == "" {
		return Commit{}, &RevisionError{Rev: rev, Err: errors.New("empty revision")}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	h, err := r.repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return Commit{}, &RevisionError{Rev: rev, Err: resolveError(err)}
	}
	c, err := r.repo.CommitObject(*h)
	if err != nil {
		return Commit{}, &RevisionError{Rev: rev, Err: resolveError(err)}
	}
	return commitOf(c), nil
}

// resolveError maps go-git's ways of saying "no such commit" to ErrNotFound:
// an unknown reference or object, and the end of history (io.EOF) when ~N
// or ^N asks for more ancestors or parents than there are.
func resolveError(err error) error {
	switch {
	case errors.Is(err, plumbing.ErrReferenceNotFound),
		errors.Is(err, plumbing.ErrObjectNotFound),
		errors.Is(err, io.EOF):
		return ErrNotFound
	}
	return err
}

func commitOf(c *object.Commit) Commit {
	out := Commit{
		Hash:      c.Hash.String(),
		Author:    Signature{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When},
		Committer: Signature{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When},
		Message:   c.Message,
	}
	for _, p := range c.ParentHashes {
		out.Parents = append(out.Parents, p.String())
	}
	return out
}

// Tree returns the tree of the commit with the given full hash as a
// read-only file system (see the package documentation). Nothing of the
// tree is read until it is used.
func (r *Repo) Tree(hash string) (fs.FS, error) {
	if !plumbing.IsHash(hash) {
		return nil, fmt.Errorf("tree of %q: not a full commit hash", hash)
	}
	r.mu.Lock()
	c, err := r.repo.CommitObject(plumbing.NewHash(hash))
	r.mu.Unlock()
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil, fmt.Errorf("tree of commit %s: %w", hash, ErrNotFound)
		}
		return nil, fmt.Errorf("tree of commit %s: %w", hash, err)
	}
	return newTreeFS(r, c.TreeHash, c.Committer.When), nil
}
