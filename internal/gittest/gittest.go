package gittest

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Default identity of commits made without Author or Committer.
const (
	DefaultName  = "Cairn Test"
	DefaultEmail = "test@cairn.invalid"
)

// epoch is the date of the first commit of a Repo; each later commit is one
// minute after the previous one.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Repo is a Git worktree made for one test. It is not safe for concurrent
// use.
type Repo struct {
	tb      testing.TB
	dir     string
	commits int // commits made through Commit, for the default dates
}

// New makes an empty repository with branch main in a temporary directory
// of tb, with a fixed identity and commit signing off.
func New(tb testing.TB) *Repo {
	tb.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		tb.Fatalf("gittest: the git command is needed: %v", err)
	}
	r := &Repo{tb: tb, dir: tb.TempDir()}
	r.Git("init", "-q", "-b", "main")
	r.Git("config", "user.name", DefaultName)
	r.Git("config", "user.email", DefaultEmail)
	r.Git("config", "commit.gpgsign", "false")
	r.Git("config", "tag.gpgsign", "false")
	return r
}

// Path is the worktree's directory (with .git inside).
func (r *Repo) Path() string { return r.dir }

// Git runs git with args in the worktree and returns its output with
// surrounding white space trimmed. It fails the test on error.
func (r *Repo) Git(args ...string) string {
	r.tb.Helper()
	return r.run(nil, args...)
}

func (r *Repo) run(env []string, args ...string) string {
	r.tb.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(isolatedEnv(r.dir), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.tb.Fatalf("gittest: git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// isolatedEnv is the environment less anything that would let the user's or
// the system's Git configuration, or a surrounding repository, change what
// git does.
func isolatedEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0")
}

// Write writes one file at path (slash-separated, relative to the worktree),
// making its directories.
func (r *Repo) Write(path, content string) {
	r.tb.Helper()
	full := r.abs(path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.tb.Fatalf("gittest: %v", err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		r.tb.Fatalf("gittest: %v", err)
	}
}

// Read returns the content of the file at path in the worktree.
func (r *Repo) Read(path string) string {
	r.tb.Helper()
	b, err := os.ReadFile(r.abs(path))
	if err != nil {
		r.tb.Fatalf("gittest: %v", err)
	}
	return string(b)
}

// Exists reports whether path exists in the worktree.
func (r *Repo) Exists(path string) bool {
	r.tb.Helper()
	_, err := os.Stat(r.abs(path))
	return err == nil
}

// Remove removes the file or directory tree at path.
func (r *Repo) Remove(path string) {
	r.tb.Helper()
	if err := os.RemoveAll(r.abs(path)); err != nil {
		r.tb.Fatalf("gittest: %v", err)
	}
}

func (r *Repo) abs(path string) string {
	r.tb.Helper()
	if !fs.ValidPath(path) || path == "." || path == ".git" || strings.HasPrefix(path, ".git/") {
		r.tb.Fatalf("gittest: %q is not a path inside the worktree", path)
	}
	return filepath.Join(r.dir, filepath.FromSlash(path))
}

// CopyDir replaces the worktree's contents (all but .git) with a copy of
// the directory tree at src. Symbolic links are copied as links.
func (r *Repo) CopyDir(src string) {
	r.tb.Helper()
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		r.tb.Fatalf("gittest: %v", err)
	}
	for _, e := range entries {
		if e.Name() != ".git" {
			r.Remove(e.Name())
		}
	}
	if err := copyTree(src, r.dir); err != nil {
		r.tb.Fatalf("gittest: copy %s: %v", src, err)
	}
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" && rel != "." {
			return filepath.SkipDir
		}
		return copyEntry(p, filepath.Join(dst, rel), d)
	})
}

func copyEntry(src, dst string, d fs.DirEntry) error {
	switch {
	case d.IsDir():
		return os.MkdirAll(dst, 0o755)
	case d.Type()&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(target, dst)
	case d.Type().IsRegular():
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, info.Mode().Perm())
	}
	return fmt.Errorf("%s: not a file, directory or symbolic link", src)
}

// CommitOption changes how Commit records a commit.
type CommitOption func(*commitSettings)

type commitSettings struct {
	authorName, authorEmail       string
	committerName, committerEmail string
	at                            time.Time
}

// Author sets the commit's author.
func Author(name, email string) CommitOption {
	return func(s *commitSettings) { s.authorName, s.authorEmail = name, email }
}

// Committer sets the commit's committer.
func Committer(name, email string) CommitOption {
	return func(s *commitSettings) { s.committerName, s.committerEmail = name, email }
}

// At sets the commit's author and committer dates.
func At(t time.Time) CommitOption {
	return func(s *commitSettings) { s.at = t }
}

// Commit stages every change of the worktree (git add -A) and commits it
// with message msg, even when nothing changed. It returns the full hash.
func (r *Repo) Commit(msg string, opts ...CommitOption) string {
	r.tb.Helper()
	s := commitSettings{
		authorName: DefaultName, authorEmail: DefaultEmail,
		committerName: DefaultName, committerEmail: DefaultEmail,
		at: epoch.Add(time.Duration(r.commits) * time.Minute),
	}
	for _, o := range opts {
		o(&s)
	}
	r.commits++
	date := s.at.Format(time.RFC3339)
	env := []string{
		"GIT_AUTHOR_NAME=" + s.authorName, "GIT_AUTHOR_EMAIL=" + s.authorEmail,
		"GIT_COMMITTER_NAME=" + s.committerName, "GIT_COMMITTER_EMAIL=" + s.committerEmail,
		"GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date,
	}
	r.run(env, "add", "-A")
	r.run(env, "commit", "-q", "--allow-empty", "-m", msg)
	return r.Head()
}

// Merge merges branch into the current branch with a merge commit (even
// when a fast-forward is possible) and returns the merge commit's hash.
func (r *Repo) Merge(branch, msg string) string {
	r.tb.Helper()
	date := epoch.Add(time.Duration(r.commits) * time.Minute).Format(time.RFC3339)
	r.commits++
	r.run([]string{"GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date},
		"merge", "-q", "--no-ff", "-m", msg, branch)
	return r.Head()
}

// ResetHard moves the current branch and the worktree to rev, as a force
// push would rewrite a branch.
func (r *Repo) ResetHard(rev string) {
	r.tb.Helper()
	r.Git("reset", "-q", "--hard", rev)
}

// Head is the full hash of the commit HEAD points at.
func (r *Repo) Head() string {
	r.tb.Helper()
	return r.Git("rev-parse", "HEAD")
}
