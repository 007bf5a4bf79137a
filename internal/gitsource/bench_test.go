package gitsource_test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/cairn-gitops/cairn/internal/gitsource"
)

// bigHistory makes a bare repository whose main has n commits, with git
// fast-import (one pack, as a fetch leaves it): the first commit adds 200
// files in 10 directories, each later one changes one of them.
func bigHistory(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	gitCmd(tb, dir, "init", "-q", "--bare", "-b", "main")
	var in bytes.Buffer
	for i := range n {
		msg := fmt.Sprintf("commit %d", i)
		fmt.Fprintf(&in, "commit refs/heads/main\ncommitter A <a@example.com> %d +0000\ndata %d\n%s\n",
			1_700_000_000+i*60, len(msg), msg)
		files := []int{i % 200}
		if i == 0 {
			files = make([]int, 200)
			for f := range files {
				files[f] = f
			}
		}
		for _, f := range files {
			content := fmt.Sprintf("file %d version %d\n%s", f, i, strings.Repeat("line\n", 20))
			fmt.Fprintf(&in, "M 100644 inline dir%d/file%d.yaml\ndata %d\n%s\n", f%10, f, len(content), content)
		}
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = dir
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("git fast-import: %v\n%s", err, out)
	}
	return dir
}

// BenchmarkCommits lists 999 commits with their files.
func BenchmarkCommits(b *testing.B) {
	dir := bigHistory(b, 1000)
	repo, err := gitsource.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer repo.Close()
	root := gitCmd(b, dir, "rev-list", "--max-parents=0", "main")
	for b.Loop() {
		got, truncated, err := repo.Commits(context.Background(), root, "main", gitsource.HistoryOptions{})
		if err != nil || truncated || len(got) != 999 || len(got[0].Files) != 1 {
			b.Fatalf("Commits = %d commits, truncated %v, %v", len(got), truncated, err)
		}
	}
}

// BenchmarkIsAncestor walks the whole history to the root.
func BenchmarkIsAncestor(b *testing.B) {
	dir := bigHistory(b, 1000)
	repo, err := gitsource.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer repo.Close()
	root := gitCmd(b, dir, "rev-list", "--max-parents=0", "main")
	for b.Loop() {
		if ok, err := repo.IsAncestor(context.Background(), root, "main"); !ok || err != nil {
			b.Fatalf("IsAncestor = %v, %v", ok, err)
		}
	}
}
