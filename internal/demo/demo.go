package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth/apikey"
	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/testcluster"
)

// Options say where the demo finds cairn and writes its files.
type Options struct {
	// Root is the cairn source tree (examples/, .cache/).
	Root string
	// Cairn is the cairn binary to run as `cairn serve`.
	Cairn string
	// Listen is serve's HTTP address.
	Listen string
	// Out receives the demo's messages and serve's logs.
	Out io.Writer
}

// Run starts the control plane, makes the repository, seeds the Secrets,
// and runs `cairn serve` until ctx ends; then it stops everything.
func Run(ctx context.Context, opts Options) error {
	dir := filepath.Join(opts.Root, ".cache", "demo")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fmt.Fprintln(opts.Out, "==> starting a local Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)")
	cluster, err := startCluster(ctx, opts.Root, dir)
	if err != nil {
		return err
	}
	defer cluster.Stop()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := copyFile(cluster.Kubeconfig(), kubeconfig); err != nil {
		return err
	}
	key, entry, err := apikey.NewKey("demo-admin", []string{"admin"}, time.Now().Add(30*24*time.Hour))
	if err != nil {
		return err
	}
	repo, err := makeRepository(ctx, opts.Out, opts.Root, dir, cluster, entry)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "api-key"), []byte(key), 0o600); err != nil {
		return err
	}
	banner(opts, dir, repo, kubeconfig)
	return serve(ctx, opts, dir, repo, kubeconfig)
}

func startCluster(ctx context.Context, root, dir string) (*testcluster.Cluster, error) {
	log, err := os.Create(filepath.Join(dir, "cluster.log"))
	if err != nil {
		return nil, err
	}
	return testcluster.Start(ctx, testcluster.Options{BinDir: filepath.Join(root, ".cache", "cluster-bins"),
		Nodes: 2, ControllerManager: true, Scheduler: true, Kwok: true, Log: log})
}

// makeRepository commits examples/config-repo into a new repository and
// creates the Secrets its adapters reference. Its security.json is the
// example's with three changes for a laptop: the audit file destination in
// the demo's folder (cairn cannot write /var/log/cairn here), loopback in
// the IP allowlist, and an admin API key (key) for the banner's curl.
func makeRepository(ctx context.Context, out io.Writer, root, dir string, cluster *testcluster.Cluster, key v1.APIKey) (string, error) {
	src := filepath.Join(root, "examples", "config-repo")
	staged := filepath.Join(dir, "config-repo-src")
	entry, err := json.Marshal(key)
	if err != nil {
		return "", err
	}
	edits := [][2]string{
		{"/var/log/cairn/audit.log", auditPath(dir)},
		{`"ranges": [`, `"ranges": ["127.0.0.0/8", `},
		{`"bindings": [`, `"bindings": [{"subject": {"type": "serviceAccount", "name": "demo-admin"}, "role": "admin"}, `},
	}
	if err := copyTree(src, staged, func(rel string, b []byte) []byte {
		if rel != "security.json" {
			return b
		}
		sec := string(b)
		for _, e := range edits {
			sec = strings.Replace(sec, e[0], e[1], 1)
		}
		return []byte(insertAPIKey(sec, string(entry)))
	}); err != nil {
		return "", err
	}
	repo := filepath.Join(dir, "config-repo")
	if _, err := gitsource.CommitDir(repo, staged, "main", "Import the example connectivity configuration",
		gitsource.Signature{Name: "Demo Operator", Email: "operator@acme.example"}); err != nil {
		return "", err
	}
	cs, err := kubernetes.NewForConfig(cluster.RESTConfig())
	if err != nil {
		return "", err
	}
	n, err := SeedSecrets(ctx, cs, src)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(out, "==> created %d Secrets the adapters reference (random placeholder values)\n", n)
	return repo, nil
}

func banner(opts Options, dir, repo, kubeconfig string) {
	fmt.Fprintf(opts.Out, `==> cairn serve is following %s (branch main)

  Git repository   %s   (edit, git commit, and cairn applies it within 10 s)
  kubeconfig       %s
  health           http://%s/healthz
  compare          %s diff --kubeconfig %s %s
  cluster log      %s
  audit trail      %s history list --state-dir %s   (a copy of each record: %s)
  status API       curl -H "Authorization: Bearer $(cat %s)" http://%s/api/v1/adapters

  Try: change "replicas" or "heartbeatSeconds" of an adapter in
  %s/adapters/prod/lse-fix-primary.json and commit it: only that release is
  upgraded. Delete an adapter file and commit: only it is uninstalled. Commit an
  invalid document: nothing applies and the log names the file and why.
  Press Ctrl-C to stop everything.

`, repo, repo, kubeconfig, opts.Listen, opts.Cairn, kubeconfig, repo, filepath.Join(dir, "cluster.log"),
		opts.Cairn, filepath.Join(dir, "state"), auditPath(dir), filepath.Join(dir, "api-key"), opts.Listen, repo)
}

// serve runs `cairn serve` until ctx ends.
func serve(ctx context.Context, opts Options, dir, repo, kubeconfig string) error {
	cmd := exec.Command(opts.Cairn, "serve", "--repo", repo, "--branch", "main", "--kubeconfig", kubeconfig,
		"--state-dir", filepath.Join(dir, "state"), "--listen", opts.Listen, "--interval", "10s",
		"--drift-interval", "1m", "--drift", "correct", "--log-level", "info")
	cmd.Stdout, cmd.Stderr = opts.Out, opts.Out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start cairn serve: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return fmt.Errorf("cairn serve stopped: %w", err)
	case <-ctx.Done():
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		fmt.Fprintln(opts.Out, "==> stopped; the control plane is stopping too")
		return nil
	}
}

// insertAPIKey puts entry at the head of security.json's API keys.
func insertAPIKey(sec, entry string) string {
	at := strings.Index(sec, `"apiKeys"`)
	if at < 0 {
		return sec
	}
	k := strings.Index(sec[at:], `"keys": [`)
	if k < 0 {
		return sec
	}
	pos := at + k + len(`"keys": [`)
	return sec[:pos] + entry + ", " + sec[pos:]
}

// schemaPath is the pattern security.json's audit file paths must match.
var schemaPath = regexp.MustCompile(`^(/[A-Za-z0-9_.@+-]+)+$`)

// auditPath is where the demo's audit file destination writes: in its
// folder when the path is one security.json accepts, else in /tmp.
func auditPath(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		if p := filepath.Join(abs, "audit", "audit.log"); schemaPath.MatchString(p) {
			return p
		}
	}
	return "/tmp/cairn-demo-audit.log"
}

// copyTree copies the regular files under src to dst (replaced), passing
// each through edit with its slash-separated path.
func copyTree(src, dst string, edit func(rel string, b []byte) []byte) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, edit(filepath.ToSlash(rel), b), 0o644)
	})
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}
