package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/pflag"

	"github.com/cairn-gitops/cairn/internal/github"
	"github.com/cairn-gitops/cairn/reconciler"
)

// githubFlags say how to reach the GitHub repository that holds the
// config repository: with --github-repo, the change policy's approval gate
// is on.
type githubFlags struct {
	repo, apiURL, tokenFile string
	appID, installation     int64
	appKeyFile              string
	owner, name             string
}

func (f *githubFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.repo, "github-repo", "", "OWNER/NAME of the config repository on GitHub: turns on the approval gate of policy.json")
	fs.StringVar(&f.apiURL, "github-api-url", "", "GitHub's REST API (default https://api.github.com/; GitHub Enterprise: https://HOST/api/v3/)")
	fs.StringVar(&f.tokenFile, "github-token-file", "", "file holding a GitHub token (or use a GitHub App)")
	fs.Int64Var(&f.appID, "github-app-id", 0, "GitHub App id (with --github-app-installation-id and --github-app-key-file)")
	fs.Int64Var(&f.installation, "github-app-installation-id", 0, "the App's installation on the repository's owner")
	fs.StringVar(&f.appKeyFile, "github-app-key-file", "", "the App's private key (PEM)")
}

// on reports whether GitHub is configured.
func (f *githubFlags) on() bool { return f.repo != "" }

// client connects to GitHub as the flags say.
func (f *githubFlags) client(log *slog.Logger) (*github.Client, error) {
	owner, name, ok := strings.Cut(f.repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("--github-repo %q: want OWNER/NAME", f.repo)
	}
	f.owner, f.name = owner, name
	cfg := github.Config{BaseURL: f.apiURL, TokenFile: f.tokenFile, Logger: log}
	if f.appID != 0 || f.installation != 0 || f.appKeyFile != "" {
		cfg.App = &github.App{ID: f.appID, InstallationID: f.installation, PrivateKeyFile: f.appKeyFile}
	}
	c, err := github.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("GitHub: %w", err)
	}
	return c, nil
}

// gate returns the approval gate for branch, nil without --github-repo.
func (f *githubFlags) gate(branch string, log *slog.Logger) (reconciler.Gate, error) {
	if !f.on() {
		return nil, nil
	}
	c, err := f.client(log)
	if err != nil {
		return nil, err
	}
	return approvalGate{github.Gate{API: c, Owner: f.owner, Repo: f.name, Branch: branch}}, nil
}

// approvalGate is the reconciler's Gate over GitHub.
type approvalGate struct{ g github.Gate }

func (a approvalGate) Judge(ctx context.Context, r reconciler.GateRequest) (reconciler.GateVerdict, error) {
	v, err := a.g.Evaluate(ctx, github.Request{Commits: r.Commits, Policy: r.Policy, Risk: r.Risk,
		Environments: r.Environments, Now: r.Now})
	if err != nil {
		return reconciler.GateVerdict{}, err
	}
	out := reconciler.GateVerdict{Allowed: v.Allowed, Missing: v.Messages(), Approvals: map[string]reconciler.Approval{}}
	if v.Wait != nil {
		out.WaitUntil, out.Wait = v.Wait.Until, v.Wait.Message
	}
	for _, c := range v.Commits {
		out.Approvals[c.Commit] = reconciler.Approval{PullRequest: c.PullRequest, Approvers: c.Approvers, Merger: c.Merger}
	}
	return out, nil
}
