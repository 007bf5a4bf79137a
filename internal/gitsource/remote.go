package gitsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// RemoteOptions says which branch of which remote to keep a clone of, and
// where.
type RemoteOptions struct {
	// URL is the remote: https://, http://, ssh://user@host/path, scp-like
	// git@host:path, git://, a local path or file://. User information in
	// the URL is used but never shown.
	URL string
	// Branch is the branch to fetch (without refs/heads/). Required.
	Branch string
	// Dir is the persistent bare clone. It is created (with its parents)
	// when it does not exist or is empty, and reused afterwards, so the
	// objects of every commit ever fetched stay available, even after a
	// force push.
	Dir string
	// Auth holds the credentials; see Auth for which fields a URL needs.
	Auth Auth
	// Logger receives one line per fetch; nil means no logging.
	Logger *slog.Logger
}

// FetchError is a failed fetch. Its message never holds credentials: user
// information is removed from URLs and any secret of Auth is replaced.
// It does not wrap go-git's error (whose text might hold credentials); Err
// classifies it instead.
type FetchError struct {
	// URL is the remote, without user information.
	URL    string
	Branch string
	// Err is ErrAuth or ErrHostKey (retrying cannot help), ErrNotFound (no
	// such repository or branch, or the repository is empty), the
	// context's error, or nil for anything else (network, server errors:
	// worth retrying).
	Err error
	// Detail says what went wrong, redacted.
	Detail string
}

func (e *FetchError) Error() string {
	return fmt.Sprintf("fetch branch %q from %s: %s", e.Branch, e.URL, e.Detail)
}

func (e *FetchError) Unwrap() error { return e.Err }

// Remote keeps a bare clone of one branch of a remote repository up to
// date. It is safe for concurrent use; fetches run one at a time.
type Remote struct {
	url     string // as given, for go-git
	safeURL string // without user information, for messages and logs
	branch  string
	dir     string
	secrets []string
	http    transport.AuthMethod // nil unless HTTP(S) with credentials
	ssh     *sshAuth             // nil unless SSH
	log     *slog.Logger
	repo    *Repo

	fetchMu sync.Mutex // one fetch at a time
}

// OpenRemote opens the clone at opts.Dir, initialising an empty bare
// repository there first when needed, and points its remote "origin" at
// opts.URL (replacing another URL a previous run used). It checks the
// credentials (SSH key, known_hosts) but does not connect: call Fetch.
func OpenRemote(ctx context.Context, opts RemoteOptions) (*Remote, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, err := newRemote(opts)
	if err != nil {
		return nil, fmt.Errorf("open remote %s: %w", redactURL(opts.URL), err)
	}
	if err := r.openClone(); err != nil {
		return nil, fmt.Errorf("open clone %s of %s: %w", opts.Dir, r.safeURL, err)
	}
	return r, nil
}

// newRemote checks the options and prepares the credentials.
func newRemote(opts RemoteOptions) (*Remote, error) {
	switch {
	case opts.URL == "":
		return nil, errors.New("no URL")
	case opts.Dir == "":
		return nil, errors.New("no Dir for the clone")
	case opts.Branch == "":
		return nil, errors.New("no Branch")
	}
	if err := plumbing.NewBranchReferenceName(opts.Branch).Validate(); err != nil ||
		strings.HasPrefix(opts.Branch, "refs/") {
		return nil, fmt.Errorf("branch %q is not a valid branch name", opts.Branch)
	}
	ep, err := transport.NewEndpoint(opts.URL)
	if err != nil {
		return nil, errors.New("not a valid remote URL")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Remote{url: opts.URL, safeURL: redactURL(opts.URL), branch: opts.Branch, dir: opts.Dir,
		log: log, secrets: opts.Auth.secrets()}
	if ep.Password != "" {
		r.secrets = append(r.secrets, ep.Password)
	}
	return r, r.setAuth(opts.Auth, ep)
}

func (r *Remote) setAuth(a Auth, ep *transport.Endpoint) error {
	switch ep.Protocol {
	case "ssh":
		s, err := newSSHAuth(a, ep)
		r.ssh = s
		return err
	case "http", "https":
		h, err := httpAuth(a)
		if h != nil {
			r.http = h
		}
		return err
	}
	if a.hasHTTP() || a.hasSSH() {
		return fmt.Errorf("credentials given for a %s remote, which takes none", ep.Protocol)
	}
	return nil
}

// openClone opens or initialises the bare clone and sets its origin URL.
func (r *Remote) openClone() error {
	if err := r.repairRefs(); err != nil {
		return err
	}
	g, err := git.PlainOpen(r.dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		g, err = initClone(r.dir)
	}
	if err != nil {
		return err
	}
	if err := r.setOrigin(g); err != nil {
		return err
	}
	if c, ok := g.Storer.(io.Closer); ok {
		if err := c.Close(); err != nil {
			return err
		}
	}
	repo, err := Open(r.dir)
	if err != nil {
		return err
	}
	r.repo = repo
	return nil
}

// repairRefs removes the empty reference files a process killed while
// go-git wrote one leaves behind (go-git truncates a ref file, then writes
// it): an empty ref makes every later read fail, while a missing one is
// only fetched again.
func (r *Remote) repairRefs() error {
	root := filepath.Join(r.dir, "refs")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil || info.Size() > 0 {
			return err
		}
		r.log.Warn("removing an empty Git reference left by an interrupted write", "ref", p)
		return os.Remove(p)
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// initClone makes an empty bare repository in dir, which must be empty or
// not exist.
func initClone(dir string) (*git.Repository, error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case len(entries) > 0:
		return nil, errors.New("the directory is neither empty nor a Git repository")
	}
	return git.PlainInit(dir, true)
}

// setOrigin records the URL (without user information: the config is a
// file on disk) as remote "origin", replacing another.
func (r *Remote) setOrigin(g *git.Repository) error {
	cfg, err := g.Config()
	if err != nil {
		return err
	}
	old, ok := cfg.Remotes[git.DefaultRemoteName]
	if ok && len(old.URLs) == 1 && old.URLs[0] == r.safeURL {
		return nil
	}
	if ok {
		r.log.Info("clone's remote URL changed", "dir", r.dir, "from", strings.Join(old.URLs, " "), "to", r.safeURL)
	}
	cfg.Remotes[git.DefaultRemoteName] = &config.RemoteConfig{
		Name:  git.DefaultRemoteName,
		URLs:  []string{r.safeURL},
		Fetch: []config.RefSpec{"+refs/heads/*:refs/remotes/origin/*"},
	}
	return g.SetConfig(cfg)
}

// Repo is the clone, for Resolve, Tree, Commits and IsAncestor. The branch
// fetched last is origin/<Branch> (refs/remotes/origin/<Branch>).
func (r *Remote) Repo() *Repo { return r.repo }

// Close releases the clone's files.
func (r *Remote) Close() error { return r.repo.Close() }

// Fetch brings the branch up to date from the remote and returns its head.
// The remote-tracking branch origin/<Branch> is force-updated, so a force
// push is seen (the old commits stay in the clone). Nothing to fetch is not
// an error. Failures are *FetchError.
//
// Readers of Repo are not blocked while objects download: go-git writes
// them to a new pack file that the Repo does not read until Fetch, holding
// the Repo's lock, updates origin/<Branch> and re-reads the pack index.
//
// ctx cancels the transfer. Over SSH, go-git does not cancel the connection
// and handshake: they are bounded by ctx's deadline, else 30 seconds.
func (r *Remote) Fetch(ctx context.Context) (Commit, error) {
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	start := time.Now()
	c, fresh, err := r.fetchBranch(ctx)
	if err != nil && r.unexplained(ctx, err) {
		c, fresh, err = r.refetch(ctx, err)
	}
	if err != nil {
		return Commit{}, err
	}
	r.log.Info("fetched", "url", r.safeURL, "branch", r.branch, "commit", c.Short(),
		"new", fresh, "duration", time.Since(start).Round(time.Millisecond))
	return c, nil
}

// fetchBranch downloads the branch and publishes it as origin/<branch>.
func (r *Remote) fetchBranch(ctx context.Context) (Commit, bool, error) {
	hash, fresh, err := r.download(ctx, plumbing.NewBranchReferenceName(r.branch), r.stagingRef())
	if err != nil {
		return Commit{}, false, err
	}
	c, err := r.publish(plumbing.NewRemoteReferenceName(git.DefaultRemoteName, r.branch), hash)
	if err != nil {
		return Commit{}, false, r.fetchError(ctx, err, nil)
	}
	return c, fresh, nil
}

// unexplained reports whether a fetch failed for no reason the remote
// gave (not authentication, host key, a missing repository or branch, nor
// the caller's context): then the clone itself may be damaged, by a
// process killed while go-git wrote it.
func (r *Remote) unexplained(ctx context.Context, err error) bool {
	var fe *FetchError
	return ctx.Err() == nil && errors.As(err, &fe) && fe.Err == nil
}

// refetch fetches into a new clone, the damaged one set aside: the clone
// is a cache of the remote, so nothing is lost. If the new clone fails too
// (the remote is the trouble), the old one is put back and first's error
// returned.
func (r *Remote) refetch(ctx context.Context, first error) (Commit, bool, error) {
	aside := fmt.Sprintf("%s.damaged-%d", r.dir, time.Now().UnixNano())
	if err := r.repo.Close(); err != nil {
		return Commit{}, false, first
	}
	if err := os.Rename(r.dir, aside); err != nil {
		return Commit{}, false, errors.Join(first, r.openClone())
	}
	c, fresh, err := r.freshClone(ctx)
	if err != nil {
		r.log.Warn("fetching into a new clone failed too: keeping the old one", "dir", r.dir, "error", err)
		return Commit{}, false, errors.Join(first, os.RemoveAll(r.dir), os.Rename(aside, r.dir), r.openClone())
	}
	r.log.Warn("the clone was damaged (a process killed while writing it?): fetched into a new one", "dir", r.dir, "error", first)
	if err := os.RemoveAll(aside); err != nil {
		r.log.Warn("removing the damaged clone", "dir", aside, "error", err)
	}
	return c, fresh, nil
}

// freshClone initialises a new clone in r.dir and fetches the branch.
func (r *Remote) freshClone(ctx context.Context) (Commit, bool, error) {
	if err := r.openClone(); err != nil {
		return Commit{}, false, err
	}
	return r.fetchBranch(ctx)
}

// FetchPullRequest fetches the head of pull request n as GitHub publishes
// it (refs/pull/N/head) into the clone, as refs/cairn/pull/N, and returns
// it. It does not touch the followed branch. Failures are *FetchError.
func (r *Remote) FetchPullRequest(ctx context.Context, n int) (Commit, error) {
	if n <= 0 {
		return Commit{}, fmt.Errorf("pull request %d: want a positive number", n)
	}
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	src := plumbing.ReferenceName(fmt.Sprintf("refs/pull/%d/head", n))
	dst := plumbing.ReferenceName(fmt.Sprintf("refs/cairn/pull/%d", n))
	hash, _, err := r.download(ctx, src, dst)
	if err != nil {
		return Commit{}, err
	}
	c, err := r.publish(dst, hash)
	if err != nil {
		return Commit{}, r.fetchError(ctx, err, nil)
	}
	return c, nil
}

// stagingRef is where a fetch puts the branch's head before publish makes
// it origin/<branch>, so that no reader ever sees a ref being written.
func (r *Remote) stagingRef() plumbing.ReferenceName {
	return plumbing.ReferenceName("refs/cairn/fetch/" + r.branch)
}

// download fetches the remote's ref src into the clone's dst with a go-git
// repository of its own on the clone (not the Repo's, whose storage readers
// use) and returns its hash.
func (r *Remote) download(ctx context.Context, src, dst plumbing.ReferenceName) (hash plumbing.Hash, fresh bool, err error) {
	if err := ctx.Err(); err != nil {
		return hash, false, r.fetchError(ctx, err, nil)
	}
	if err := r.repairRefs(); err != nil {
		return hash, false, r.fetchError(ctx, err, nil)
	}
	g, err := git.PlainOpen(r.dir)
	if err != nil {
		return hash, false, r.fetchError(ctx, err, nil)
	}
	if c, ok := g.Storer.(io.Closer); ok {
		defer c.Close()
	}
	opts, sshm := r.fetchOptions(ctx, config.RefSpec("+"+src.String()+":"+dst.String()))
	remote := git.NewRemote(g.Storer, &config.RemoteConfig{Name: git.DefaultRemoteName, URLs: []string{r.url}})
	err = remote.FetchContext(ctx, opts)
	fresh = err == nil
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return hash, false, r.fetchError(ctx, err, sshm)
	}
	ref, err := g.Storer.Reference(dst)
	if err != nil {
		return hash, false, r.fetchError(ctx, err, nil)
	}
	return ref.Hash(), fresh, nil
}

func (r *Remote) fetchOptions(ctx context.Context, spec config.RefSpec) (*git.FetchOptions, *sshMethod) {
	opts := &git.FetchOptions{
		RemoteName: git.DefaultRemoteName,
		RefSpecs:   []config.RefSpec{spec},
		Tags:       git.NoTags,
		Force:      true,
		Auth:       r.http,
	}
	if r.ssh == nil {
		return opts, nil
	}
	timeout := sshConnectTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Millisecond)
	}
	m := r.ssh.method(timeout)
	opts.Auth = m
	return opts, m
}

// publish points name at hash in the Repo (origin/<branch> for the
// branch), which first re-reads the pack index to see the objects download
// wrote.
func (r *Remote) publish(name plumbing.ReferenceName, hash plumbing.Hash) (Commit, error) {
	repo := r.repo
	repo.mu.Lock()
	defer repo.mu.Unlock()
	if s, ok := repo.repo.Storer.(interface{ Reindex() }); ok {
		s.Reindex()
	}
	if err := repo.repo.Storer.SetReference(plumbing.NewHashReference(name, hash)); err != nil {
		return Commit{}, err
	}
	c, err := repo.repo.CommitObject(hash)
	if err != nil {
		return Commit{}, err
	}
	return commitOf(c), nil
}

// fetchError classifies a go-git error and redacts its text.
func (r *Remote) fetchError(ctx context.Context, err error, sshm *sshMethod) *FetchError {
	fe := &FetchError{URL: r.safeURL, Branch: r.branch, Detail: strings.TrimSpace(redact(err.Error(), r.secrets))}
	var noRef git.NoMatchingRefSpecError
	switch {
	case sshm != nil && sshm.refusedHostKey() != nil:
		fe.Err, fe.Detail = ErrHostKey, redact(sshm.refusedHostKey().Error(), r.secrets)
	case ctx.Err() != nil:
		fe.Err = ctx.Err()
	case errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed),
		strings.Contains(err.Error(), "ssh: unable to authenticate"):
		fe.Err = ErrAuth
	case errors.Is(err, transport.ErrRepositoryNotFound),
		errors.Is(err, transport.ErrEmptyRemoteRepository),
		errors.As(err, &noRef):
		fe.Err = ErrNotFound
	}
	return fe
}
