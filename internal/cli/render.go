package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-gitops/cairn/internal/diag"
	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/manifest"
	"github.com/cairn-gitops/cairn/internal/report"
	"github.com/cairn-gitops/cairn/internal/validate"
	"github.com/cairn-gitops/cairn/render"
)

type renderFlags struct {
	adapter  string
	output   string
	outDir   string
	revision string
}

func newRenderCmd(s Streams) *cobra.Command {
	var f renderFlags
	cmd := &cobra.Command{
		Use:   "render [DIR]",
		Short: "Render the Helm release of every adapter (no cluster needed)",
		Long: `Validate a config repository and render one Helm release per adapter with
the repository's chart (or the embedded one): the exact objects cairn would
apply. Values hold references to Secrets, never their contents.

With --out-dir, each release is written to DIR/ENVIRONMENT/NAME.yaml; the
directory is replaced as a whole, never left half-written.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runRender(cmd, dir, f, s)
		},
	}
	cmd.Flags().StringVar(&f.adapter, "adapter", "", "render only this adapter (NAME or ENVIRONMENT/NAME)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "yaml", "output format: yaml or json")
	cmd.Flags().StringVar(&f.outDir, "out-dir", "", "write each release to DIR/ENVIRONMENT/NAME.yaml instead of standard output")
	cmd.Flags().StringVar(&f.revision, "revision", "", "the revision stamped on every object (default: HEAD, when DIR is a Git repository)")
	return cmd
}

func runRender(cmd *cobra.Command, dir string, f renderFlags, s Streams) error {
	if f.output != "yaml" && f.output != "json" {
		return fmt.Errorf("unknown output format %q (want yaml or json)", f.output)
	}
	fsys, err := repoFS(dir)
	if err != nil {
		return err
	}
	if f.outDir != "" {
		if err := checkOutDir(f.outDir, dir); err != nil {
			return err
		}
	}
	tuneRuntime()
	if f.revision == "" {
		f.revision = headOf(dir)
	}
	releases, err := renderRepository(cmd.Context(), fsys, dir, func(string, string) string { return f.revision }, s)
	if err != nil {
		return err
	}
	if f.adapter != "" {
		releases = slices.DeleteFunc(releases, func(r render.Release) bool { return r.Name != f.adapter && r.Key() != f.adapter })
		if len(releases) == 0 {
			return fmt.Errorf("no adapter %q in the repository", f.adapter)
		}
	}
	if f.outDir != "" {
		return writeOutDir(f.outDir, releases, f.output)
	}
	if f.output == "json" {
		return writeJSON(s, releases)
	}
	return render.WriteYAML(s.Out, releases)
}

// repoFS opens a repository directory, refusing what is not one.
func repoFS(dir string) (fs.FS, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("repository: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("repository %s is not a directory", dir)
	}
	return manifest.DirFS(dir), nil
}

// headOf returns the commit HEAD names when dir is a Git repository, or "".
func headOf(dir string) string {
	repo, err := gitsource.Open(dir)
	if err != nil {
		return ""
	}
	defer repo.Close()
	c, err := repo.Resolve("HEAD")
	if err != nil {
		return ""
	}
	return c.Hash
}

// renderRepository validates the repository in fsys and renders it,
// stamping each release with the revision revisionOf gives for its key and
// digest. An invalid repository is reported on the error stream and renders
// nothing.
func renderRepository(ctx context.Context, fsys fs.FS, name string, revisionOf func(key, digest string) string, s Streams) ([]render.Release, error) {
	v, err := validate.New(validate.Options{})
	if err != nil {
		return nil, err
	}
	res, err := v.Validate(ctx, fsys)
	if err != nil {
		return nil, err
	}
	if !res.Valid() {
		if err := report.Write(s.Err, "text", res.Findings, report.Summary{Files: res.Files, Documents: res.Documents}); err != nil {
			return nil, err
		}
		return nil, &findingsError{n: diag.Errors(res.Findings)}
	}
	r, err := render.ForRepository(fsys, res.Repository)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	in := render.Input{Repository: res.Repository, Revision: revisionOf}
	for _, a := range res.Adapters {
		in.Adapters = append(in.Adapters, a.Adapter)
	}
	return r.Render(ctx, in)
}

func writeJSON(s Streams, releases []render.Release) error {
	enc := json.NewEncoder(s.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(releases)
}

// outDirMarker marks a directory written by cairn render: only such a
// directory, or an empty one, is ever replaced.
const outDirMarker = ".cairn-render"

// checkOutDir refuses an output directory that cairn did not write: a file,
// a directory with other content (the repository itself, the working
// directory, any ancestor of the repository), so that --out-dir can never
// delete what is not its own.
func checkOutDir(dir, repo string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("out-dir: %w", err)
	}
	repoAbs, err := filepath.Abs(repo)
	if err != nil {
		return fmt.Errorf("repository: %w", err)
	}
	if rel, err := filepath.Rel(abs, repoAbs); err == nil && (rel == "." || !strings.HasPrefix(rel, "..")) {
		return fmt.Errorf("out-dir %s holds the repository: choose a directory of its own", dir)
	}
	info, err := os.Stat(abs)
	switch {
	case os.IsNotExist(err):
		return nil
	case err != nil:
		return fmt.Errorf("out-dir: %w", err)
	case !info.IsDir():
		return fmt.Errorf("out-dir %s is not a directory", dir)
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return fmt.Errorf("out-dir: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(abs, outDirMarker)); err != nil {
		return fmt.Errorf("out-dir %s is not empty and was not written by cairn render (no %s): it would be replaced whole, so choose another", dir, outDirMarker)
	}
	return nil
}

// writeOutDir writes every release into a new directory beside dir, then
// swaps it into place, so that dir is never left half-written.
func writeOutDir(dir string, releases []render.Release, format string) error {
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("out-dir: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".new-")
	if err != nil {
		return fmt.Errorf("out-dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("out-dir: %w", err)
	}
	marker := "Written by cairn render: this directory is replaced whole on each run.\n"
	if err := os.WriteFile(filepath.Join(tmp, outDirMarker), []byte(marker), 0o644); err != nil {
		return fmt.Errorf("out-dir: %w", err)
	}
	for _, r := range releases {
		var b strings.Builder
		if format == "json" {
			out, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				return fmt.Errorf("encode %s: %w", r.Key(), err)
			}
			b.Write(append(out, '\n'))
		} else if err := render.WriteYAML(&b, []render.Release{r}); err != nil {
			return err
		}
		p := filepath.Join(tmp, r.Environment, r.Name+"."+format)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("out-dir: %w", err)
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("out-dir: %w", err)
		}
	}
	return swapDir(tmp, dir)
}

// swapDir replaces dir with the complete directory tmp.
func swapDir(tmp, dir string) error {
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("out-dir: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir) // put the previous output back
		}
		return fmt.Errorf("out-dir: %w", err)
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}
