package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-gitops/cairn/render"
)

// copyDir copies a directory tree.
func copyDir(t testing.TB, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

func TestRenderCommand(t *testing.T) {
	repo := "../../examples/config-repo"
	t.Run("yaml", func(t *testing.T) {
		code, out, errOut := runCairn(t, "render", repo)
		if code != 0 || errOut != "" {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		if n := strings.Count(out, "# Source: cairn-adapter/templates/deployment.yaml"); n != 16 {
			t.Errorf("%d Deployments, want 16", n)
		}
	})
	t.Run("one adapter", func(t *testing.T) {
		code, out, _ := runCairn(t, "render", repo, "--adapter", "prod/client-northwind-acceptor", "--output", "json")
		var releases []render.Release
		if code != 0 || json.Unmarshal([]byte(out), &releases) != nil || len(releases) != 1 {
			t.Fatalf("exit %d, %d releases", code, len(releases))
		}
		r := releases[0]
		if r.Namespace != "connectivity-prod" || !strings.HasPrefix(r.Digest, "sha256:") || r.Chart != "cairn-adapter-0.1.0" {
			t.Errorf("release %+v", r)
		}
		code, _, _ = runCairn(t, "render", repo, "--adapter", "client-northwind-acceptor")
		if code != 0 {
			t.Errorf("a bare name selects the adapter in every environment: exit %d", code)
		}
	})
	t.Run("unknown adapter", func(t *testing.T) {
		code, _, errOut := runCairn(t, "render", repo, "--adapter", "nope")
		if code != ExitError || !strings.Contains(errOut, `no adapter "nope"`) {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("invalid repository renders nothing", func(t *testing.T) {
		code, out, errOut := runCairn(t, "render", "../../examples/invalid/open-acceptor-any")
		if code != ExitFindings || out != "" || !strings.Contains(errOut, "[open-acceptor]") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("bad output", func(t *testing.T) {
		if code, _, _ := runCairn(t, "render", repo, "--output", "xml"); code != ExitError {
			t.Errorf("exit %d", code)
		}
	})
}

func TestRenderOutDir(t *testing.T) {
	out := filepath.Join(t.TempDir(), "deeper", "rendered")
	if code, _, errOut := runCairn(t, "render", "../../examples/config-repo", "--out-dir", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*", "*.yaml"))
	if len(files) != 16 {
		t.Fatalf("%d files, want 16", len(files))
	}
	// Refusals, before anything is rendered or touched.
	for _, bad := range []struct{ dir, msg string }{
		{"../../examples/config-repo", "holds the repository"},
		{"../..", "holds the repository"},
		{"render_test.go", "not a directory"},
		{".", "not written by cairn render"},
	} {
		code, _, errOut := runCairn(t, "render", "../../examples/config-repo", "--out-dir", bad.dir)
		if code != ExitError || !strings.Contains(errOut, bad.msg) {
			t.Errorf("--out-dir %s: exit %d, stderr %q, want %q", bad.dir, code, errOut, bad.msg)
		}
	}
	if _, err := os.Stat("render_test.go"); err != nil {
		t.Fatalf("a refused --out-dir touched a file: %v", err)
	}
	if info, err := os.Stat(out); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("out-dir mode %v, %v; want 0755", info.Mode().Perm(), err)
	}
	stale := filepath.Join(out, "stale.txt")
	if err := os.WriteFile(stale, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A failed render leaves the previous output as it was.
	if code, _, _ := runCairn(t, "render", "../../examples/invalid/open-acceptor-any", "--out-dir", out); code != ExitFindings {
		t.Fatalf("exit %d", code)
	}
	if _, err := os.Stat(stale); err != nil {
		t.Errorf("a failed render touched the output: %v", err)
	}
	// A successful one replaces it whole.
	if code, _, _ := runCairn(t, "render", "../../examples/config-repo", "--adapter", "uat/lse-fix-primary", "--out-dir", out); code != 0 {
		t.Fatalf("exit %d", code)
	}
	files, _ = filepath.Glob(filepath.Join(out, "*", "*.yaml"))
	if _, err := os.Stat(stale); err == nil || len(files) != 1 {
		t.Errorf("the output was not replaced whole: %d files, stale file kept: %v", len(files), err == nil)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".rendered.new-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary directories left behind: %v", leftovers)
	}
}

func TestRenderRepositoryChart(t *testing.T) {
	repo := t.TempDir()
	copyDir(t, "../../examples/config-repo", repo)
	copyDir(t, "../../charts/adapter", filepath.Join(repo, "charts", "custom"))
	edit(t, repo, "cairn.json", `"environments": {`, `"chart": { "path": "charts/custom" },
    "environments": {`)
	edit(t, repo, "charts/custom/templates/serviceaccount.yaml", "automountServiceAccountToken: false", "automountServiceAccountToken: false # custom chart")
	code, out, errOut := runCairn(t, "render", repo, "--adapter", "prod/lse-fix-primary")
	if code != 0 || !strings.Contains(out, "# custom chart") {
		t.Fatalf("the repository's chart was not used: exit %d, stderr %q", code, errOut)
	}
	edit(t, repo, "cairn.json", `"path": "charts/custom"`, `"path": "charts/missing"`)
	code, _, errOut = runCairn(t, "render", repo)
	if code != ExitFindings || !strings.Contains(errOut, "[chart-path] no chart at charts/missing") {
		t.Errorf("a missing chart: exit %d, stderr %q", code, errOut)
	}
}

func TestRenderStampsRevision(t *testing.T) {
	repo := exampleRepo(t) // a Git repository with one commit
	head := strings.TrimSpace(git(t, repo, "rev-parse", "HEAD"))
	code, out, errOut := runCairn(t, "render", repo, "--adapter", "prod/lse-fix-primary")
	if code != 0 || !strings.Contains(out, `cairn.dev/revision: "`+head+`"`) {
		t.Fatalf("HEAD %s not stamped: exit %d, stderr %q", head, code, errOut)
	}
	code, out, _ = runCairn(t, "render", repo, "--adapter", "prod/lse-fix-primary", "--revision", "v1.2.3")
	if code != 0 || !strings.Contains(out, `cairn.dev/revision: "v1.2.3"`) {
		t.Errorf("--revision not stamped: exit %d", code)
	}
}

func TestRenderRefusesLinkedChart(t *testing.T) {
	repo := t.TempDir()
	copyDir(t, "../../examples/config-repo", repo)
	copyDir(t, "../../charts/adapter", filepath.Join(repo, "vendor", "chart"))
	if err := os.Symlink("vendor/chart", filepath.Join(repo, "chart")); err != nil {
		t.Fatal(err)
	}
	edit(t, repo, "cairn.json", `"environments": {`, `"chart": { "path": "chart" },
    "environments": {`)
	code, out, errOut := runCairn(t, "render", repo)
	if code != ExitFindings || out != "" || !strings.Contains(errOut, "goes through a symbolic link") {
		t.Errorf("exit %d, stdout %d bytes, stderr %q", code, len(out), errOut)
	}
}
