package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cairn-gitops/cairn/internal/helm"
	"github.com/cairn-gitops/cairn/reconciler"
	"github.com/cairn-gitops/cairn/render"
)

type diffFlags struct {
	cluster  clusterFlags
	instance string
}

func newDiffCmd(s Streams) *cobra.Command {
	var f diffFlags
	cmd := &cobra.Command{
		Use:   "diff [DIR]",
		Short: "Compare the render of a repository with the live objects in the cluster",
		Long: `diff validates and renders the repository in DIR (default ".") and compares
every release with the cluster: releases not installed, objects missing, fields
that differ from the render (a unified diff), and releases installed by cairn
that the repository no longer has. It changes nothing. Exit status: 0 no
difference; 1 differences (or an invalid repository); 2 anything else.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runDiff(cmd.Context(), dir, &f, s)
		},
	}
	f.cluster.register(cmd.Flags())
	cmd.Flags().StringVar(&f.instance, "instance", "cairn", "the cairn instance whose releases to compare (label cairn.dev/instance)")
	return cmd
}

func runDiff(ctx context.Context, dir string, f *diffFlags, s Streams) error {
	cfg, err := f.cluster.restConfig()
	if err != nil {
		return err
	}
	hc, err := helm.New(helm.Options{REST: cfg})
	if err != nil {
		return err
	}
	live, err := hc.List(ctx)
	if err != nil {
		return err
	}
	deployed := map[string]helm.Deployed{}
	for _, d := range live {
		if env := d.Labels[reconciler.LabelEnvironment]; env != "" && d.Labels[reconciler.LabelInstance] == f.instance {
			deployed[env+"/"+d.Name] = d
		}
	}
	releases, err := renderForDiff(ctx, dir, deployed, s)
	if err != nil {
		return err
	}
	n, err := writeDiff(ctx, s.Out, hc, releases, deployed)
	if err != nil {
		return err
	}
	if n > 0 {
		return &findingsError{n: n}
	}
	fmt.Fprintln(s.Out, "no differences")
	return nil
}

// renderForDiff renders DIR, stamping each release with the revision the
// cluster holds, so that only real differences show.
func renderForDiff(ctx context.Context, dir string, deployed map[string]helm.Deployed, s Streams) ([]render.Release, error) {
	fsys, err := repoFS(dir)
	if err != nil {
		return nil, err
	}
	return renderRepository(ctx, fsys, dir, func(key, _ string) string {
		return deployed[key].Labels[reconciler.LabelRevision]
	}, s)
}

// writeDiff prints every difference and returns how many releases differ.
func writeDiff(ctx context.Context, w io.Writer, hc *helm.Client, releases []render.Release, deployed map[string]helm.Deployed) (int, error) {
	n := 0
	for _, rel := range releases {
		d, ok := deployed[rel.Key()]
		delete(deployed, rel.Key())
		if !ok {
			fmt.Fprintf(w, "+ %s: not installed (release %s/%s)\n", rel.Key(), rel.Namespace, rel.Name)
			n++
			continue
		}
		if d.Namespace != rel.Namespace {
			fmt.Fprintf(w, "~ %s: installed in namespace %s, the repository says %s\n", rel.Key(), d.Namespace, rel.Namespace)
			n++
			continue
		}
		objs, err := hc.Drift(ctx, rel.Namespace, rel.Objects)
		if err != nil {
			return n, fmt.Errorf("%s: %w", rel.Key(), err)
		}
		if writeObjectDrift(w, rel.Key(), objs) {
			n++
		}
	}
	for key, d := range deployed {
		fmt.Fprintf(w, "- %s: installed (release %s/%s) but not in the repository\n", key, d.Namespace, d.Name)
		n++
	}
	return n, nil
}

// writeObjectDrift prints one release's differing objects.
func writeObjectDrift(w io.Writer, key string, objs []helm.ObjectDrift) bool {
	differs := false
	for _, o := range objs {
		switch o.State {
		case helm.Missing:
			fmt.Fprintf(w, "~ %s: %s/%s missing from the cluster\n", key, o.Kind, o.Name)
			differs = true
		case helm.Changed:
			fmt.Fprintf(w, "~ %s: %s/%s differs\n%s", key, o.Kind, o.Name, o.Diff)
			differs = true
		}
	}
	return differs
}
