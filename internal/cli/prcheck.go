package cli

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/cairn-gitops/cairn/internal/changereq"
	"github.com/cairn-gitops/cairn/internal/diag"
	"github.com/cairn-gitops/cairn/internal/github"
	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/plan"
	"github.com/cairn-gitops/cairn/internal/report"
	"github.com/cairn-gitops/cairn/internal/validate"
)

type prCheckFlags struct {
	repo, base, head, targetURL string
	number                      int
	github                      githubFlags
}

func newPRCmd(s Streams) *cobra.Command {
	cmd := &cobra.Command{Use: "pr", Short: "Check pull requests (change requests) on GitHub"}
	cmd.AddCommand(newPRCheckCmd(s))
	return cmd
}

func newPRCheckCmd(s Streams) *cobra.Command {
	var f prCheckFlags
	cmd := &cobra.Command{
		Use:   "check --repo DIR --pr N --github-repo OWNER/NAME",
		Short: "Validate a pull request's head, plan it against its base, and report both on the pull request",
		Long: `pr check validates the head of pull request N (its head commit as GitHub
has it, which must be in the clone at --repo), plans it against --base, and
posts or updates one comment on the pull request with the findings and the
plan, sets the commit statuses cairn/validate and cairn/plan on its head, and
labels a high-risk change cairn:high-risk. It exits 1 when the head does not
validate. A pull request from a fork is not checked (cairn's token never
acts on a fork's code).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runPRCheck(cmd.Context(), &f, s) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.repo, "repo", ".", "the clone holding the pull request's commits")
	fl.IntVar(&f.number, "pr", 0, "the pull request's number")
	fl.StringVar(&f.base, "base", "origin/main", "the revision to plan against")
	fl.StringVar(&f.head, "head", "", "the revision to check (default: the pull request's head commit)")
	fl.StringVar(&f.targetURL, "target-url", "", "a link for the commit statuses (the CI run)")
	f.github.register(fl)
	return cmd
}

func runPRCheck(ctx context.Context, f *prCheckFlags, s Streams) error {
	if f.number <= 0 || !f.github.on() {
		return fmt.Errorf("pr check needs --pr and --github-repo")
	}
	log := slog.New(slog.NewTextHandler(s.Err, &slog.HandlerOptions{Level: slog.LevelWarn}))
	client, err := f.github.client(log)
	if err != nil {
		return err
	}
	pr, err := client.PullRequest(ctx, f.github.owner, f.github.name, f.number)
	if err != nil {
		return err
	}
	if pr.Fork() {
		fmt.Fprintf(s.Out, "pull request #%d comes from a fork: not checked\n", f.number)
		return nil
	}
	repo, err := gitsource.Open(f.repo)
	if err != nil {
		return err
	}
	defer repo.Close()
	headRef := f.head
	if headRef == "" {
		headRef = pr.HeadSHA
	}
	base, err := resolveRef(repo, "base", f.base)
	if err != nil {
		return err
	}
	head, err := resolveRef(repo, "head", headRef)
	if err != nil {
		return err
	}
	pr.HeadSHA = head.Hash
	res, err := planChange(ctx, repo, base, head)
	if err != nil {
		return err
	}
	out, err := github.PRCheck(ctx, client, prReport(f.github.owner, f.github.name, pr, res, f.targetURL))
	if err != nil {
		return err
	}
	verb := "updated"
	if out.Created {
		verb = "posted"
	}
	fmt.Fprintf(s.Out, "pull request #%d: %s; comment %s\n", f.number, summaryLine(res), verb)
	if !res.Valid {
		return &findingsError{n: diag.Errors(res.Findings)}
	}
	return nil
}

// planChange validates head and plans it against base.
func planChange(ctx context.Context, repo *gitsource.Repo, base, head gitsource.Commit) (changereq.Result, error) {
	v, err := validate.New(validate.Options{})
	if err != nil {
		return changereq.Result{}, err
	}
	return changereq.Plan(ctx, repo, v, base, head)
}

// prReport turns a change request's result into what goes on the pull
// request.
func prReport(owner, name string, pr github.PullRequest, res changereq.Result, targetURL string) github.PRReport {
	r := github.PRReport{Owner: owner, Repo: name, PullRequest: pr, TargetURL: targetURL}
	var findings bytes.Buffer
	_ = report.Write(&findings, "text", res.Findings, report.Summary{})
	r.Validation = github.Result{OK: res.Valid, Summary: validationLine(res),
		Markdown: "```\n" + findings.String() + "```\n"}
	if res.Plan == nil {
		r.Plan = github.Result{OK: false, Summary: "no plan: the head does not validate"}
		return r
	}
	var md bytes.Buffer
	_ = plan.Write(&md, "markdown", res.Plan)
	r.Plan, r.Risk = github.Result{OK: true, Summary: planLine(res.Plan), Markdown: md.String()}, res.Plan.Risk.String()
	return r
}

func validationLine(res changereq.Result) string {
	if !res.Valid {
		return fmt.Sprintf("%d errors", diag.Errors(res.Findings))
	}
	return "valid"
}

func planLine(p *plan.Plan) string {
	return fmt.Sprintf("%d added, %d changed, %d removed; risk %s", p.Summary.Added, p.Summary.Changed, p.Summary.Removed, p.Risk)
}

func summaryLine(res changereq.Result) string {
	if res.Plan == nil {
		return validationLine(res)
	}
	return validationLine(res) + "; " + planLine(res.Plan)
}
