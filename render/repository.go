package render

import (
	"fmt"
	"io/fs"
	"path"

	"github.com/cairn-gitops/cairn/charts"
	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// ForRepository returns a renderer for the chart a repository names in
// cairn.json (a directory of the repository in fsys), or for the embedded
// adapter chart when it names none.
func ForRepository(fsys fs.FS, repo *v1.Repository) (*Renderer, error) {
	if c := repo.Spec.Chart; c != nil && c.Path != "" {
		p := path.Clean(c.Path)
		if info, err := fs.Stat(fsys, p); err != nil || !info.IsDir() {
			return nil, fmt.Errorf("chart %s (named in cairn.json): no such directory in the repository", c.Path)
		}
		sub, err := fs.Sub(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", c.Path, err)
		}
		return New(sub)
	}
	chart, err := charts.Adapter()
	if err != nil {
		return nil, err
	}
	return New(chart)
}
