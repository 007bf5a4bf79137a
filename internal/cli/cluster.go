package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/helm"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/internal/validate"
	"github.com/cairn-gitops/cairn/reconciler"
)

// sourceFlags say which branch of which repository to follow, and with
// which credentials (each read from a file, never from a flag's value).
type sourceFlags struct {
	repo, branch, stateDir, instance              string
	usernameFile, passwordFile, tokenFile         string
	sshKeyFile, sshPassphraseFile, knownHostsFile string
}

func (f *sourceFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.repo, "repo", "", "Git repository to follow: https://, ssh://, git@host:path, or a local path (required)")
	fs.StringVar(&f.branch, "branch", "main", "branch to follow")
	fs.StringVar(&f.instance, "instance", "cairn", "this cairn's name: it manages only the releases labelled cairn.dev/instance=NAME")
	fs.StringVar(&f.stateDir, "state-dir", "", "where cairn keeps its clone (default: the user cache directory)")
	fs.StringVar(&f.usernameFile, "git-username-file", "", "file holding the HTTPS user name")
	fs.StringVar(&f.passwordFile, "git-password-file", "", "file holding the HTTPS password")
	fs.StringVar(&f.tokenFile, "git-token-file", "", "file holding an HTTPS access token")
	fs.StringVar(&f.sshKeyFile, "ssh-key-file", "", "file holding the SSH private key (PEM)")
	fs.StringVar(&f.sshPassphraseFile, "ssh-passphrase-file", "", "file holding the SSH key's passphrase")
	fs.StringVar(&f.knownHostsFile, "known-hosts-file", "", "known_hosts file for SSH remotes (required with SSH)")
}

// auth reads the credential files.
func (f *sourceFlags) auth() (gitsource.Auth, error) {
	var a gitsource.Auth
	var key, hosts string
	for _, c := range []struct {
		file string
		dst  *string
	}{{f.usernameFile, &a.Username}, {f.passwordFile, &a.Password}, {f.tokenFile, &a.Token},
		{f.sshKeyFile, &key}, {f.sshPassphraseFile, &a.SSHKeyPassphrase}, {f.knownHostsFile, &hosts}} {
		if c.file == "" {
			continue
		}
		b, err := os.ReadFile(c.file)
		if err != nil {
			return a, fmt.Errorf("credentials: %w", err)
		}
		*c.dst = strings.TrimRight(string(b), "\r\n")
	}
	if key != "" {
		a.SSHKey = []byte(key + "\n")
	}
	if hosts != "" {
		a.KnownHosts = []byte(hosts + "\n")
	}
	return a, nil
}

// open opens (or makes) the persistent clone.
func (f *sourceFlags) open(ctx context.Context, log *slog.Logger) (*gitsource.Remote, error) {
	if f.repo == "" {
		return nil, fmt.Errorf("--repo is required")
	}
	auth, err := f.auth()
	if err != nil {
		return nil, err
	}
	dir, err := f.cloneDir()
	if err != nil {
		return nil, err
	}
	return gitsource.OpenRemote(ctx, gitsource.RemoteOptions{URL: f.repo, Branch: f.branch, Dir: dir, Auth: auth, Logger: log})
}

// cloneDir is where the clone lives: under --state-dir, or the user cache
// directory, named after the repository and branch.
func (f *sourceFlags) cloneDir() (string, error) {
	base, err := stateDir(f.stateDir)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(f.repo + "\x00" + f.branch))
	return filepath.Join(base, "git", hex.EncodeToString(sum[:8])), nil
}

// clusterFlags say which cluster to apply to.
type clusterFlags struct {
	kubeconfig, context string
}

func (f *clusterFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account)")
	fs.StringVar(&f.context, "context", "", "kubeconfig context to use")
}

// restConfig loads the client configuration the way kubectl does.
func (f *clusterFlags) restConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if f.kubeconfig != "" {
		rules.ExplicitPath = f.kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: f.context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubernetes client configuration: %w", err)
	}
	cfg.UserAgent = "cairn"
	return cfg, nil
}

// wiring is a reconciler with what it is built from.
type wiring struct {
	branch string
	remote *gitsource.Remote
	helm   *helm.Client
	rest   *rest.Config
	store  history.Store
	rec    *reconciler.Reconciler
	// onApplied are called with each revision that applies (see
	// reconciler.Options.OnApplied); add them before the loop runs.
	onApplied []func(ctx context.Context, revision string, res *validate.Result)
}

func (w *wiring) Close() error { return errors.Join(w.remote.Close(), w.store.Close()) }

// wire builds a reconciler from the flags: audit records go to the store
// and to the log.
func wire(ctx context.Context, sf *sourceFlags, cf *clusterFlags, hf *historyFlags, gf *githubFlags, log *slog.Logger, obs reconciler.Observer) (_ *wiring, err error) {
	w := &wiring{branch: sf.branch}
	if w.rest, err = cf.restConfig(); err != nil {
		return nil, err
	}
	if w.helm, err = helm.New(helm.Options{REST: w.rest, Logger: log}); err != nil {
		return nil, err
	}
	gate, err := gf.gate(sf.branch, log)
	if err != nil {
		return nil, err
	}
	if w.store, err = hf.open(ctx); err != nil {
		return nil, err
	}
	last, err := lastApplied(ctx, w.store)
	if err == nil {
		w.remote, err = sf.open(ctx, log)
	}
	if err != nil {
		w.store.Close()
		return nil, err
	}
	w.rec, err = reconciler.New(reconciler.Options{
		Source: reconciler.GitSource{Remote: w.remote}, Applier: w.helm, Logger: log, LastApplied: last,
		Recorder: history.Tee{w.store, history.Log{Logger: log}}, Audit: w.store,
		OnApplied: func(ctx context.Context, rev string, res *validate.Result) {
			for _, fn := range w.onApplied {
				fn(ctx, rev, res)
			}
		},
		Status: status.NewStore(sf.repo, sf.branch), Instance: sf.instance, Observer: obs, Gate: gate,
	})
	if err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// lastApplied is the revision the audit store last records as applied in
// full, "" when there is none.
func lastApplied(ctx context.Context, st history.Store) (string, error) {
	for before := int64(0); ; {
		page, err := st.List(ctx, history.Filter{Events: []history.Event{history.RevisionApplied}, Before: before, Limit: 100})
		if err != nil {
			return "", fmt.Errorf("audit store: %w", err)
		}
		for _, r := range page {
			if r.Outcome == history.Succeeded {
				return r.Revision, nil
			}
		}
		if len(page) < 100 {
			return "", nil
		}
		before = page[len(page)-1].Seq
	}
}

// stateDir is --state-dir, or the user cache directory's cairn folder.
func stateDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("--state-dir not given and no user cache directory: %w", err)
	}
	return filepath.Join(cache, "cairn"), nil
}
