package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-gitops/cairn/internal/changereq"
	"github.com/cairn-gitops/cairn/internal/diag"
	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/plan"
	"github.com/cairn-gitops/cairn/internal/report"
	"github.com/cairn-gitops/cairn/internal/validate"
)

type planFlags struct {
	repo   string
	base   string
	head   string
	output string
}

func newPlanCmd(s Streams) *cobra.Command {
	var f planFlags
	cmd := &cobra.Command{
		Use:   "plan --repo DIR --base REF --head REF",
		Short: "Show what changes between two revisions, for review (no cluster needed)",
		Long: `Validate and render two revisions of a config repository straight from Git
and report, per adapter, what is added, removed, moved or changed: the
semantic changes with a risk each (an acceptor's allowed ranges widened, a
port opened, credentials references changed, RBAC bindings added, ...), the
changes to security.json and policy.json, and a unified diff of the rendered
objects. REF is a branch, a tag, a full or short commit hash, HEAD, or any
of them followed by ~N or ^.

Output: text (the default), markdown (a pull request comment that always
fits GitHub's 65,536-character limit, saying what it cut) or json (a
versioned document: "version": "v1").

Exit codes: 0 no change, 1 changes, 2 usage or I/O error, a ref that does
not exist, or a revision that does not validate (its findings go to
standard error).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runPlan(cmd.Context(), f, s) },
	}
	cmd.Flags().StringVar(&f.repo, "repo", ".", "the Git repository (a worktree or a bare repository)")
	cmd.Flags().StringVar(&f.base, "base", "", "the revision the change starts from, such as main (required)")
	cmd.Flags().StringVar(&f.head, "head", "", "the revision with the change, such as HEAD (required)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: "+strings.Join(plan.Formats, ", "))
	return cmd
}

// changesError means the plan has changes (exit 1); the plan is written.
type changesError struct{ findingsError }

func (e *changesError) Error() string { return fmt.Sprintf("%d changes", e.n) }

// Unwrap lets ExitCode and Reported see a findingsError.
func (e *changesError) Unwrap() error { return &e.findingsError }

func runPlan(ctx context.Context, f planFlags, s Streams) error {
	if !slices.Contains(plan.Formats, f.output) {
		return fmt.Errorf("unknown output format %q (want one of %s)", f.output, strings.Join(plan.Formats, ", "))
	}
	if f.base == "" || f.head == "" {
		return errors.New("plan needs --base and --head")
	}
	tuneRuntime()
	repo, err := gitsource.Open(f.repo)
	if err != nil {
		return err
	}
	defer repo.Close()
	baseCommit, err := resolveRef(repo, "base", f.base)
	if err != nil {
		return err
	}
	headCommit, err := resolveRef(repo, "head", f.head)
	if err != nil {
		return err
	}
	v, err := validate.New(validate.Options{})
	if err != nil {
		return err
	}
	base, err := loadRevision(ctx, repo, v, "base", f.base, baseCommit, s)
	if err != nil {
		return err
	}
	head, err := loadRevision(ctx, repo, v, "head", f.head, headCommit, s)
	if err != nil {
		return err
	}
	p, err := changereq.Compare(ctx, base, head)
	if err != nil {
		return err
	}
	if err := plan.Write(s.Out, f.output, p); err != nil {
		return err
	}
	if p.Changed() {
		return &changesError{findingsError{n: len(p.Adapters) + len(p.Repository) + len(p.Security) + len(p.Policy)}}
	}
	return nil
}

// resolveRef resolves the base or head revision, naming which one failed.
func resolveRef(repo *gitsource.Repo, which, ref string) (gitsource.Commit, error) {
	c, err := repo.Resolve(ref)
	var re *gitsource.RevisionError
	if errors.As(err, &re) {
		return c, fmt.Errorf("%s ref %s: %w", which, ref, re.Err)
	}
	if err != nil {
		return c, fmt.Errorf("%s ref %s: %w", which, ref, err)
	}
	return c, nil
}

// loadRevision validates a commit's tree and loads the chart the revision
// names. An invalid revision's findings go to the error stream.
func loadRevision(ctx context.Context, repo *gitsource.Repo, v *validate.Validator, which, ref string, c gitsource.Commit, s Streams) (*changereq.Revision, error) {
	name := fmt.Sprintf("%s revision %s (%s)", which, ref, c.Short())
	r, err := changereq.Load(ctx, repo, v, ref, c)
	var inv *changereq.InvalidError
	if errors.As(err, &inv) {
		fmt.Fprintf(s.Err, "%s does not validate:\n", name)
		if err := report.Write(s.Err, "text", inv.Result.Findings, report.Summary{Files: inv.Result.Files, Documents: inv.Result.Documents}); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s does not validate: %d errors, listed above", name, diag.Errors(inv.Result.Findings))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}
