package gitsource_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/gitsource"
)

// gitCmd runs the git CLI in dir with a fixed identity and clock, failing
// the test on error, and returns its trimmed output.
func gitCmd(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HOME="+dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=Ada Author", "GIT_AUTHOR_EMAIL=ada@example.com",
		"GIT_COMMITTER_NAME=Carl Committer", "GIT_COMMITTER_EMAIL=carl@example.com",
		"GIT_AUTHOR_DATE=2026-03-02T10:00:00Z", "GIT_COMMITTER_DATE=2026-03-02T11:00:00Z",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// writeFiles writes files (path -> content) under dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// history makes a repository with three commits on main, a lightweight tag
// v1 on the first, an annotated tag v2 on the second and a branch feature
// at the third; it returns the directory and the commits, oldest first.
func history(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	gitCmd(t, dir, "init", "-q", "-b", "main")
	var commits []string
	for i, msg := range []string{"first\n\nbody of the first", "second", "third"} {
		writeFiles(t, dir, map[string]string{"file.txt": strings.Repeat("x", i+1)})
		gitCmd(t, dir, "add", "-A")
		gitCmd(t, dir, "commit", "-q", "-m", msg)
		commits = append(commits, gitCmd(t, dir, "rev-parse", "HEAD"))
	}
	gitCmd(t, dir, "tag", "v1", commits[0])
	gitCmd(t, dir, "tag", "-a", "-m", "release two", "v2", commits[1])
	gitCmd(t, dir, "branch", "feature", commits[2])
	return dir, commits
}

func TestResolve(t *testing.T) {
	dir, c := history(t)
	repo, err := gitsource.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	tests := []struct {
		rev  string // the revision as a user writes it
		want string // the commit it names
	}{
		{rev: "main", want: c[2]},
		{rev: "refs/heads/main", want: c[2]},
		{rev: "feature", want: c[2]},
		{rev: "v1", want: c[0]},
		{rev: "v2", want: c[1]}, // annotated: peeled to its commit
		{rev: "HEAD", want: c[2]},
		{rev: "HEAD~1", want: c[1]},
		{rev: "HEAD~2", want: c[0]},
		{rev: "HEAD^", want: c[1]},
		{rev: "main^^", want: c[0]},
		{rev: "v2~1", want: c[0]},
		{rev: c[1], want: c[1]},
		{rev: c[1][:7], want: c[1]},
		{rev: c[0][:10] + "~0", want: c[0]},
	}
	for _, tt := range tests {
		t.Run(tt.rev, func(t *testing.T) {
			got, err := repo.Resolve(tt.rev)
			if err != nil {
				t.Fatal(err)
			}
			if got.Hash != tt.want {
				t.Fatalf("Resolve(%q) = %s, want %s", tt.rev, got.Hash, tt.want)
			}
		})
	}

	first, err := repo.Resolve("v1")
	if err != nil {
		t.Fatal(err)
	}
	if first.Author.Name != "Ada Author" || first.Author.Email != "ada@example.com" ||
		first.Committer.Name != "Carl Committer" || first.Committer.Email != "carl@example.com" {
		t.Errorf("people: got author %+v committer %+v", first.Author, first.Committer)
	}
	if want := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC); !first.Time().Equal(want) {
		t.Errorf("Time() = %v, want %v", first.Time(), want)
	}
	if !first.Author.When.Equal(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("author time = %v", first.Author.When)
	}
	if first.Subject() != "first" || !strings.Contains(first.Message, "body of the first") {
		t.Errorf("message: subject %q, message %q", first.Subject(), first.Message)
	}
	if len(first.Parents) != 0 {
		t.Errorf("root commit has parents %v", first.Parents)
	}
	third, _ := repo.Resolve("main")
	if len(third.Parents) != 1 || third.Parents[0] != c[1] {
		t.Errorf("parents of main = %v, want [%s]", third.Parents, c[1])
	}
}

func TestResolveMissing(t *testing.T) {
	dir, _ := history(t)
	repo, err := gitsource.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rev      string // a revision that names nothing
		notFound bool   // whether the error is ErrNotFound (else a syntax error)
	}{
		{rev: "no-such-branch", notFound: true},
		{rev: "refs/tags/v9", notFound: true},
		{rev: "HEAD~3", notFound: true}, // past the root commit
		{rev: "v1^", notFound: true},    // the root has no parent
		{rev: "0123456789abcdef0123456789abcdef01234567", notFound: true},
		{rev: "deadbee", notFound: true},
		{rev: "main~x", notFound: false},
		{rev: "", notFound: false},
	}
	for _, tt := range tests {
		t.Run(tt.rev, func(t *testing.T) {
			_, err := repo.Resolve(tt.rev)
			if err == nil {
				t.Fatalf("Resolve(%q) succeeded", tt.rev)
			}
			if got := errors.Is(err, gitsource.ErrNotFound); got != tt.notFound {
				t.Fatalf("errors.Is(err, ErrNotFound) = %v, want %v (err: %v)", got, tt.notFound, err)
			}
			var re *gitsource.RevisionError
			if !errors.As(err, &re) || re.Rev != tt.rev {
				t.Fatalf("error %v does not name the revision %q", err, tt.rev)
			}
			if tt.rev != "" && !strings.Contains(err.Error(), tt.rev) {
				t.Fatalf("message %q does not name %q", err, tt.rev)
			}
		})
	}
}

func TestOpenBare(t *testing.T) {
	dir, c := history(t)
	bare := filepath.Join(t.TempDir(), "bare.git")
	gitCmd(t, dir, "clone", "-q", "--bare", dir, bare)
	repo, err := gitsource.Open(bare)
	if err != nil {
		t.Fatal(err)
	}
	got, err := repo.Resolve("v2")
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash != c[1] {
		t.Fatalf("v2 = %s, want %s", got.Hash, c[1])
	}
	tree, err := repo.Tree(got.Hash)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(tree, "file.txt")
	if err != nil || string(b) != "xx" {
		t.Fatalf("file.txt at v2 = %q, %v", b, err)
	}
}

func TestOpenNotARepository(t *testing.T) {
	dir := t.TempDir()
	_, err := gitsource.Open(dir)
	if err == nil || !strings.Contains(err.Error(), "not a Git repository") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Open(empty dir) = %v, want an error naming it and saying it is not a Git repository", err)
	}
}

func TestTreeRejectsBadHash(t *testing.T) {
	dir, c := history(t)
	repo, err := gitsource.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Tree(c[0][:7]); err == nil {
		t.Error("Tree(short hash) succeeded; it needs a full hash from Resolve")
	}
	_, err = repo.Tree("0123456789abcdef0123456789abcdef01234567")
	if !errors.Is(err, gitsource.ErrNotFound) {
		t.Errorf("Tree(unknown hash) = %v, want ErrNotFound", err)
	}
}
