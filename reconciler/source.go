package reconciler

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/cairn-gitops/cairn/internal/gitsource"
)

// Source is where revisions come from: a fetched branch of a Git repository.
type Source interface {
	// Fetch brings the branch up to date and returns its head.
	Fetch(ctx context.Context) (gitsource.Commit, error)
	// Tree is the file tree of a commit fetched before.
	Tree(ctx context.Context, hash string) (fs.FS, error)
	// Commits lists the first-parent commits after from up to to, oldest
	// first; a *gitsource.RewrittenError when from is not an ancestor.
	Commits(ctx context.Context, from, to string) ([]gitsource.CommitInfo, error)
}

// GitSource is a Source over a persistent clone of a remote branch.
type GitSource struct {
	Remote *gitsource.Remote
}

var _ Source = GitSource{}

// Fetch fetches the branch.
func (g GitSource) Fetch(ctx context.Context) (gitsource.Commit, error) {
	return g.Remote.Fetch(ctx)
}

// Tree returns the commit's tree.
func (g GitSource) Tree(_ context.Context, hash string) (fs.FS, error) {
	return g.Remote.Repo().Tree(hash)
}

// Commits lists the commits between two revisions.
func (g GitSource) Commits(ctx context.Context, from, to string) ([]gitsource.CommitInfo, error) {
	commits, truncated, err := g.Remote.Repo().Commits(ctx, from, to, gitsource.HistoryOptions{})
	if err != nil {
		return nil, err
	}
	if truncated {
		return commits, fmt.Errorf("commits %s..%s: more than the history limit; the oldest are not listed", from, to)
	}
	return commits, nil
}
