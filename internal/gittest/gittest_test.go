package gittest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/gittest"
)

func TestCommitWriteRemove(t *testing.T) {
	r := gittest.New(t)
	r.Write("a/b.txt", "one")
	first := r.Commit("first")
	if len(first) != 40 || first != r.Head() {
		t.Fatalf("Commit = %q, Head = %q", first, r.Head())
	}
	if got := r.Git("show", "HEAD:a/b.txt"); got != "one" {
		t.Fatalf("a/b.txt at HEAD = %q", got)
	}
	r.Remove("a")
	second := r.Commit("second")
	if got := r.Git("ls-tree", "-r", "--name-only", second); got != "" {
		t.Fatalf("files after Remove = %q, want none", got)
	}
	if got := r.Git("rev-parse", "HEAD^"); got != first {
		t.Fatalf("parent of second = %s, want %s", got, first)
	}
	if got := r.Git("rev-parse", "--abbrev-ref", "HEAD"); got != "main" {
		t.Fatalf("branch = %q, want main", got)
	}
}

func TestCommitOptions(t *testing.T) {
	r := gittest.New(t)
	at := time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)
	r.Commit("opts", gittest.Author("Ann", "ann@example.com"),
		gittest.Committer("Cid", "cid@example.com"), gittest.At(at))
	got := r.Git("log", "-1", "--format=%an <%ae>|%cn <%ce>|%at|%ct")
	want := "Ann <ann@example.com>|Cid <cid@example.com>|1749283750|1749283750"
	if got != want {
		t.Fatalf("log = %q, want %q", got, want)
	}
}

// Two repositories built by the same steps have the same hashes.
func TestDeterministicHashes(t *testing.T) {
	build := func() string {
		r := gittest.New(t)
		r.Write("f", "x")
		r.Commit("one")
		r.Write("f", "y")
		return r.Commit("two")
	}
	if a, b := build(), build(); a != b {
		t.Fatalf("same steps gave %s and %s", a, b)
	}
}

func TestCopyDirAndResetHard(t *testing.T) {
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "sub", "new.txt"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := gittest.New(t)
	r.Write("old.txt", "old")
	first := r.Commit("first")
	r.CopyDir(src)
	r.Commit("copied")
	if got := r.Git("ls-tree", "-r", "--name-only", "HEAD"); got != "sub/new.txt" {
		t.Fatalf("files after CopyDir = %q, want only sub/new.txt", got)
	}
	r.ResetHard(first)
	if r.Head() != first {
		t.Fatalf("Head after ResetHard = %s, want %s", r.Head(), first)
	}
	if _, err := os.Stat(filepath.Join(r.Path(), "old.txt")); err != nil {
		t.Fatalf("worktree not reset: %v", err)
	}
}

func TestMerge(t *testing.T) {
	r := gittest.New(t)
	base := r.Commit("base")
	r.Git("checkout", "-q", "-b", "feature")
	r.Write("f", "feature")
	feature := r.Commit("feature work")
	r.Git("checkout", "-q", "main")
	merge := r.Merge("feature", "merge feature")
	parents := strings.Fields(r.Git("log", "-1", "--format=%P", merge))
	if len(parents) != 2 || parents[0] != base || parents[1] != feature {
		t.Fatalf("merge parents = %v, want [%s %s]", parents, base, feature)
	}
}
