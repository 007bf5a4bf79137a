package gitsource_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/manifest"
	"github.com/cairn-gitops/cairn/internal/validate"
)

// treeRepo commits a tree with files, an executable, symbolic links (to a
// file, to a directory, out of the tree, dangling, and a loop) and a
// submodule, and returns the repository and the commit.
func treeRepo(t *testing.T, withBadLinks bool) (*gitsource.Repo, string, string) {
	t.Helper()
	dir := t.TempDir()
	gitCmd(t, dir, "init", "-q", "-b", "main")
	writeFiles(t, dir, map[string]string{
		"README.md":              "hello\n",
		"a/b/c.json":             `{"x": 1}`,
		"a/b.d/e.txt":            "git sorts b.d before b, fs.ReadDir does not",
		"a/empty.txt":            "",
		"bin/run.sh":             "#!/bin/sh\necho run\n",
		"lib/fix.libsonnet":      "{}",
		"deep/1/2/3/4/5/leaf.md": "leaf",
	})
	if err := os.Chmod(filepath.Join(dir, "bin", "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"link-to-readme": "README.md",
		"a/link-up":      "../lib/fix.libsonnet",
		"link-to-dir":    "a/b",
	}
	if withBadLinks {
		links["outside"] = "../../etc/passwd"
		links["absolute"] = "/etc/passwd"
		links["dangling"] = "no-such-file"
		links["loop1"] = "loop2"
		links["loop2"] = "loop1"
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	gitCmd(t, dir, "add", "-A")
	// A submodule: a gitlink entry pointing at a commit of another repository.
	gitCmd(t, dir, "update-index", "--add", "--cacheinfo", "160000,0123456789abcdef0123456789abcdef01234567,vendor/sub")
	gitCmd(t, dir, "commit", "-q", "-m", "tree")
	repo, err := gitsource.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	return repo, dir, gitCmd(t, dir, "rev-parse", "HEAD")
}

func TestTreeFSPassesTestFS(t *testing.T) {
	repo, _, head := treeRepo(t, false)
	tree, err := repo.Tree(head)
	if err != nil {
		t.Fatal(err)
	}
	err = fstest.TestFS(tree,
		"README.md", "a/b/c.json", "a/b.d/e.txt", "a/empty.txt", "bin/run.sh", "lib/fix.libsonnet",
		"deep/1/2/3/4/5/leaf.md", "link-to-readme", "a/link-up", "link-to-dir", "vendor/sub")
	if err != nil {
		t.Fatal(err)
	}
}

func TestTreeFSEntries(t *testing.T) {
	repo, _, head := treeRepo(t, true)
	tree, err := repo.Tree(head)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string      // path in the tree
		lstat    fs.FileMode // Lstat's mode
		stat     fs.FileMode // Stat's mode (follows links); 0 means Stat fails
		link     string      // ReadLink's answer, "" when not a link
		contents string      // ReadFile's answer (following links), for files
	}{
		{name: "README.md", lstat: 0o644, stat: 0o644, contents: "hello\n"},
		{name: "bin/run.sh", lstat: 0o755, stat: 0o755, contents: "#!/bin/sh\necho run\n"},
		{name: "a", lstat: fs.ModeDir | 0o755, stat: fs.ModeDir | 0o755},
		{name: "vendor/sub", lstat: fs.ModeDir | 0o755, stat: fs.ModeDir | 0o755},
		{name: "link-to-readme", lstat: fs.ModeSymlink | 0o777, stat: 0o644, link: "README.md", contents: "hello\n"},
		{name: "a/link-up", lstat: fs.ModeSymlink | 0o777, stat: 0o644, link: "../lib/fix.libsonnet", contents: "{}"},
		{name: "link-to-dir", lstat: fs.ModeSymlink | 0o777, stat: fs.ModeDir | 0o755, link: "a/b"},
		{name: "link-to-dir/c.json", lstat: 0o644, stat: 0o644, contents: `{"x": 1}`},
		{name: "outside", lstat: fs.ModeSymlink | 0o777, link: "../../etc/passwd"},
		{name: "absolute", lstat: fs.ModeSymlink | 0o777, link: "/etc/passwd"},
		{name: "dangling", lstat: fs.ModeSymlink | 0o777, link: "no-such-file"},
		{name: "loop1", lstat: fs.ModeSymlink | 0o777, link: "loop2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			li, err := fs.Lstat(tree, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if li.Mode() != tt.lstat {
				t.Errorf("Lstat mode = %v, want %v", li.Mode(), tt.lstat)
			}
			si, err := fs.Stat(tree, tt.name)
			switch {
			case tt.stat == 0 && err == nil:
				t.Errorf("Stat followed a link it must not follow: %v", si.Mode())
			case tt.stat != 0 && err != nil:
				t.Errorf("Stat: %v", err)
			case tt.stat != 0 && si.Mode() != tt.stat:
				t.Errorf("Stat mode = %v, want %v", si.Mode(), tt.stat)
			}
			target, err := fs.ReadLink(tree, tt.name)
			if tt.link == "" && err == nil {
				t.Errorf("ReadLink of a non-link = %q", target)
			}
			if tt.link != "" && (err != nil || target != tt.link) {
				t.Errorf("ReadLink = %q, %v; want %q", target, err, tt.link)
			}
			if tt.contents != "" || tt.stat == 0o644 {
				b, err := fs.ReadFile(tree, tt.name)
				if err != nil || string(b) != tt.contents {
					t.Errorf("ReadFile = %q, %v; want %q", b, err, tt.contents)
				}
			}
		})
	}

	if entries, err := fs.ReadDir(tree, "vendor/sub"); err != nil || len(entries) != 0 {
		t.Errorf("submodule lists %v, %v; want an empty directory", entries, err)
	}
	var names []string
	entries, err := fs.ReadDir(tree, "a")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"b", "b.d", "empty.txt", "link-up"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ReadDir(a) = %v, want %v (name order)", names, want)
	}
	for name, want := range map[string]error{
		"outside":  fs.ErrNotExist,
		"missing":  fs.ErrNotExist,
		"../x":     fs.ErrInvalid,
		"a/b/../b": fs.ErrInvalid,
	} {
		if _, err := tree.Open(name); err == nil || (want == fs.ErrInvalid && !errors.Is(err, want)) {
			t.Errorf("Open(%q) = %v, want an error", name, err)
		}
	}
	if _, err := tree.Open("outside"); err == nil || !strings.Contains(err.Error(), "outside the tree") {
		t.Errorf("Open(outside) = %v, want a refusal to leave the tree", err)
	}
	if _, err := tree.Open("loop1"); err == nil || !strings.Contains(err.Error(), "symbolic links") {
		t.Errorf("Open of a link loop = %v, want too many links", err)
	}
}

func TestTreeFSModTimeIsCommitTime(t *testing.T) {
	repo, _, head := treeRepo(t, false)
	tree, err := repo.Tree(head)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := fs.Stat(tree, "a/b/c.json")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC); !fi.ModTime().Equal(want) {
		t.Errorf("ModTime = %v, want the committer time %v", fi.ModTime(), want)
	}
}

// TestTreeFSIsLazy removes a blob's object from the repository: the tree
// still opens and lists, Stat of other files works, and only reading that
// file fails.
func TestTreeFSIsLazy(t *testing.T) {
	repo, dir, head := treeRepo(t, false)
	blob := gitCmd(t, dir, "rev-parse", head+":a/b/c.json")
	if err := os.Remove(filepath.Join(dir, ".git", "objects", blob[:2], blob[2:])); err != nil {
		t.Fatal(err)
	}
	tree, err := repo.Tree(head)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.ReadDir(tree, "a/b"); err != nil {
		t.Fatalf("listing a directory read a blob: %v", err)
	}
	if _, err := fs.ReadFile(tree, "README.md"); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.ReadFile(tree, "a/b/c.json"); err == nil {
		t.Fatal("reading a removed blob succeeded")
	}
}

// TestTreeFSConcurrentReads reads every file from many goroutines at once;
// run with -race.
func TestTreeFSConcurrentReads(t *testing.T) {
	repo, dir, head := treeRepo(t, false)
	tree, err := repo.Tree(head)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	err = fs.WalkDir(tree, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(files))
	for i := 0; i < 8; i++ {
		for _, f := range files {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := fs.ReadFile(tree, f)
				want, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
				if err != nil || string(got) != string(want) {
					errs <- fmt.Errorf("%s: %q, %v", f, got, err)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestValidateTree commits the example repository and validates the commit's
// tree: the result is the one of validating the directory.
func TestValidateTree(t *testing.T) {
	src := filepath.Join("..", "..", "examples", "config-repo")
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	gitCmd(t, dir, "init", "-q", "-b", "main")
	gitCmd(t, dir, "add", "-A")
	gitCmd(t, dir, "commit", "-q", "-m", "example")
	repo, err := gitsource.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := repo.Resolve("main")
	if err != nil {
		t.Fatal(err)
	}
	tree, err := repo.Tree(c.Hash)
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.New(validate.Options{Now: func() time.Time { return time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	fromDir, err := v.Validate(context.Background(), manifest.DirFS(src))
	if err != nil {
		t.Fatal(err)
	}
	fromTree, err := v.Validate(context.Background(), tree)
	if err != nil {
		t.Fatal(err)
	}
	if !fromTree.Valid() {
		t.Fatalf("the committed example does not validate: %+v", fromTree.Findings)
	}
	if !reflect.DeepEqual(fromDir.Findings, fromTree.Findings) {
		t.Errorf("findings differ:\ndirectory: %+v\ntree:      %+v", fromDir.Findings, fromTree.Findings)
	}
	if !reflect.DeepEqual(fromDir.Files, fromTree.Files) || fromDir.Documents != fromTree.Documents {
		t.Errorf("files differ:\ndirectory: %v (%d documents)\ntree:      %v (%d documents)",
			fromDir.Files, fromDir.Documents, fromTree.Files, fromTree.Documents)
	}
	if got, want := adapterSources(fromTree), adapterSources(fromDir); !reflect.DeepEqual(got, want) {
		t.Errorf("adapters differ:\ndirectory: %v\ntree:      %v", want, got)
	}
	if !reflect.DeepEqual(fromDir.Security, fromTree.Security) || !reflect.DeepEqual(fromDir.Policy, fromTree.Policy) ||
		!reflect.DeepEqual(fromDir.Repository, fromTree.Repository) {
		t.Error("decoded cairn.json, security.json or policy.json differ")
	}
}

// adapterSources lists "environment/name <- sources" per adapter, sorted.
func adapterSources(r *validate.Result) []string {
	var out []string
	for _, a := range r.Adapters {
		out = append(out, fmt.Sprintf("%s/%s <- %v", a.Metadata.Environment, a.Metadata.Name, a.Doc.Sources))
	}
	sort.Strings(out)
	return out
}
