package gitsource_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/gittest"
)

// open opens the repository of a gittest.Repo, closing it with the test.
func open(t testing.TB, g *gittest.Repo) *gitsource.Repo {
	t.Helper()
	repo, err := gitsource.Open(g.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	return repo
}

// hashes are the hashes of infos, in order.
func hashes(infos []gitsource.CommitInfo) []string {
	var out []string
	for _, c := range infos {
		out = append(out, c.Hash)
	}
	return out
}

// linear makes n commits on main, the i-th writing n.txt = i.
func linear(t *testing.T, n int) (*gittest.Repo, []string) {
	t.Helper()
	g := gittest.New(t)
	var c []string
	for i := range n {
		g.Write("n.txt", strings.Repeat("x", i+1))
		c = append(c, g.Commit("commit "+string(rune('a'+i))))
	}
	return g, c
}

func TestCommitsRanges(t *testing.T) {
	g, c := linear(t, 5)
	repo := open(t, g)
	tests := []struct {
		name      string
		from, to  string
		limit     int      // HistoryOptions.Limit
		want      []string // hashes listed, oldest first
		truncated bool
	}{
		{name: "range", from: c[1], to: c[4], want: c[2:5]},
		{name: "whole history after root", from: c[0], to: c[4], want: c[1:5]},
		{name: "from equals to", from: c[3], to: c[3], want: nil},
		{name: "to alone", from: "", to: c[2], want: c[2:3]},
		{name: "revisions", from: "main~3", to: "main", want: c[2:5]},
		{name: "cut at limit keeps newest", from: c[0], to: c[4], limit: 2, want: c[3:5], truncated: true},
		{name: "limit exactly reached", from: c[1], to: c[4], limit: 3, want: c[2:5]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, truncated, err := repo.Commits(context.Background(), tt.from, tt.to,
				gitsource.HistoryOptions{Limit: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(hashes(got), tt.want) || truncated != tt.truncated {
				t.Fatalf("Commits = %v (truncated %v), want %v (truncated %v)",
					hashes(got), truncated, tt.want, tt.truncated)
			}
		})
	}
}

func TestCommitsCommitFields(t *testing.T) {
	g, c := linear(t, 2)
	repo := open(t, g)
	got, _, err := repo.Commits(context.Background(), c[0], c[1], gitsource.HistoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d commits", len(got))
	}
	ci := got[0]
	if ci.Subject() != "commit b" || ci.Author.Email != gittest.DefaultEmail ||
		!reflect.DeepEqual(ci.Parents, []string{c[0]}) || ci.Signature.Kind != "" {
		t.Fatalf("commit info = %+v", ci)
	}
}

func TestCommitsFiles(t *testing.T) {
	g := gittest.New(t)
	g.Write("keep.txt", "k")
	g.Write("mod.txt", "1")
	g.Write("gone.txt", "g")
	g.Write("dir/a.txt", "a")
	g.Write("dir/sub/b.txt", "b")
	g.Write("was-file", "f")
	g.Write("was-file.bak", "sorts between the file and the directory")
	root := g.Commit("root")
	g.Write("mod.txt", "2")
	g.Remove("gone.txt")
	g.Write("new/c.txt", "c")
	g.Remove("dir/sub")
	g.Remove("was-file")
	g.Write("was-file/inside.txt", "i")
	second := g.Commit("second")
	if err := os.Chmod(filepath.Join(g.Path(), "keep.txt"), 0o755); err != nil {
		t.Fatal(err)
	}
	third := g.Commit("mode only")
	repo := open(t, g)

	tests := []struct {
		name     string
		from, to string
		want     []gitsource.FileChange
	}{
		{name: "root adds all", from: "", to: root, want: []gitsource.FileChange{
			{Path: "dir/a.txt", Action: "add"}, {Path: "dir/sub/b.txt", Action: "add"},
			{Path: "gone.txt", Action: "add"}, {Path: "keep.txt", Action: "add"},
			{Path: "mod.txt", Action: "add"}, {Path: "was-file", Action: "add"},
			{Path: "was-file.bak", Action: "add"},
		}},
		{name: "add modify delete", from: root, to: second, want: []gitsource.FileChange{
			{Path: "dir/sub/b.txt", Action: "delete"}, {Path: "gone.txt", Action: "delete"},
			{Path: "mod.txt", Action: "modify"}, {Path: "new/c.txt", Action: "add"},
			{Path: "was-file", Action: "delete"}, {Path: "was-file/inside.txt", Action: "add"},
		}},
		{name: "mode change", from: second, to: third, want: []gitsource.FileChange{
			{Path: "keep.txt", Action: "modify"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := repo.Commits(context.Background(), tt.from, tt.to, gitsource.HistoryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0].Files, tt.want) {
				t.Fatalf("files = %+v, want %+v", got[len(got)-1].Files, tt.want)
			}
		})
	}
}

// A merge commit lists what it brought to the branch, and the commits of
// the merged branch are not listed on their own.
func TestCommitsFirstParentAcrossMerge(t *testing.T) {
	g := gittest.New(t)
	g.Write("base.txt", "b")
	base := g.Commit("base")
	g.Git("checkout", "-q", "-b", "feature")
	g.Write("feature.txt", "f1")
	g.Commit("feature one")
	g.Write("feature.txt", "f2")
	g.Commit("feature two")
	g.Git("checkout", "-q", "main")
	g.Write("main.txt", "m")
	m1 := g.Commit("main work")
	merge := g.Merge("feature", "merge feature")
	repo := open(t, g)

	got, truncated, err := repo.Commits(context.Background(), base, merge, gitsource.HistoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{m1, merge}; !reflect.DeepEqual(hashes(got), want) || truncated {
		t.Fatalf("Commits = %v, want %v", hashes(got), want)
	}
	wantFiles := []gitsource.FileChange{{Path: "feature.txt", Action: "add"}}
	if !reflect.DeepEqual(got[1].Files, wantFiles) {
		t.Fatalf("merge files = %+v, want %+v", got[1].Files, wantFiles)
	}
}

// from reached only through a second parent: main was merged into a
// feature branch, and main then fast-forwarded to the feature branch.
func TestCommitsFromOffFirstParentChain(t *testing.T) {
	g := gittest.New(t)
	g.Write("base.txt", "b")
	g.Commit("base")
	g.Git("checkout", "-q", "-b", "feature")
	g.Write("feature.txt", "f1")
	f1 := g.Commit("feature one")
	g.Git("checkout", "-q", "main")
	g.Write("main.txt", "m")
	oldMain := g.Commit("main work")
	g.Git("checkout", "-q", "feature")
	mergeMain := g.Merge("main", "merge main into feature")
	g.Write("feature.txt", "f2")
	f2 := g.Commit("feature two")
	g.Git("checkout", "-q", "main")
	g.Git("merge", "-q", "--ff-only", "feature")
	repo := open(t, g)

	got, truncated, err := repo.Commits(context.Background(), oldMain, "main", gitsource.HistoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{f1, mergeMain, f2}; !reflect.DeepEqual(hashes(got), want) || truncated {
		t.Fatalf("Commits = %v (truncated %v), want %v", hashes(got), truncated, want)
	}
	got, truncated, err = repo.Commits(context.Background(), oldMain, "main", gitsource.HistoryOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{mergeMain, f2}; !reflect.DeepEqual(hashes(got), want) || !truncated {
		t.Fatalf("Commits with limit 2 = %v (truncated %v), want %v truncated", hashes(got), truncated, want)
	}
}

func TestCommitsRewritten(t *testing.T) {
	g, c := linear(t, 3)
	g.ResetHard(c[0])
	g.Write("other.txt", "rewritten")
	rewritten := g.Commit("rewritten")
	g.Git("checkout", "-q", "--orphan", "unrelated")
	g.Write("u.txt", "u")
	unrelated := g.Commit("unrelated root")
	repo := open(t, g)

	tests := []struct {
		name      string
		from, to  string
		mergeBase string
	}{
		{name: "force push", from: c[2], to: rewritten, mergeBase: c[0]},
		{name: "unrelated histories", from: c[2], to: unrelated, mergeBase: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := repo.Commits(context.Background(), tt.from, tt.to, gitsource.HistoryOptions{})
			var re *gitsource.RewrittenError
			if !errors.As(err, &re) {
				t.Fatalf("Commits = %v, %v; want a *RewrittenError", hashes(got), err)
			}
			want := gitsource.RewrittenError{From: tt.from, To: tt.to, MergeBase: tt.mergeBase}
			if *re != want || got != nil {
				t.Fatalf("error %+v, commits %v; want %+v and no commits", *re, hashes(got), want)
			}
		})
	}
}

func TestCommitsUnknownRevision(t *testing.T) {
	g, c := linear(t, 1)
	repo := open(t, g)
	_, _, err := repo.Commits(context.Background(), "0123456789abcdef0123456789abcdef01234567", c[0],
		gitsource.HistoryOptions{})
	if !errors.Is(err, gitsource.ErrNotFound) {
		t.Fatalf("Commits(unknown from) = %v, want ErrNotFound", err)
	}
}

func TestCommitsCanceled(t *testing.T) {
	g, c := linear(t, 3)
	repo := open(t, g)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := repo.Commits(ctx, c[0], c[2], gitsource.HistoryOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commits with a canceled context = %v, want context.Canceled", err)
	}
}

func TestIsAncestor(t *testing.T) {
	g := gittest.New(t)
	root := g.Commit("root")
	g.Git("checkout", "-q", "-b", "feature")
	f := g.Commit("feature")
	g.Git("checkout", "-q", "main")
	m := g.Commit("main")
	merge := g.Merge("feature", "merge")
	repo := open(t, g)
	tests := []struct {
		name                 string
		ancestor, descendant string
		want                 bool
	}{
		{name: "itself", ancestor: m, descendant: m, want: true},
		{name: "first parent", ancestor: m, descendant: merge, want: true},
		{name: "second parent", ancestor: f, descendant: merge, want: true},
		{name: "root", ancestor: root, descendant: merge, want: true},
		{name: "descendant is not ancestor", ancestor: merge, descendant: root, want: false},
		{name: "sibling", ancestor: f, descendant: m, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := repo.IsAncestor(context.Background(), tt.ancestor, tt.descendant)
			if err != nil || got != tt.want {
				t.Fatalf("IsAncestor = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
