package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/manifest"
	"github.com/cairn-gitops/cairn/internal/plan"
)

// TestMain lets this test binary serve as the Jsonnet sandbox child, which
// the validator starts from the current executable.
func TestMain(m *testing.M) {
	if code, served := manifest.ServeChild(); served {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// git runs the git CLI in dir with a fixed identity, failing the test on error.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=Ada Author", "GIT_AUTHOR_EMAIL=ada@example.com",
		"GIT_COMMITTER_NAME=Ada Author", "GIT_COMMITTER_EMAIL=ada@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// exampleRepo commits examples/config-repo to a new repository on branch
// main and returns its directory.
func exampleRepo(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "examples", "config-repo"))); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "example")
	return dir
}

// edit replaces old with new in a file of the repository, failing when old
// is not there.
func edit(t testing.TB, dir, file, old, new string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(file))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	if err := os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// commit commits every change on a new branch and returns to main.
func commit(t testing.TB, dir, branch, msg string) {
	t.Helper()
	git(t, dir, "checkout", "-q", "-b", branch)
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", msg)
	git(t, dir, "checkout", "-q", "main")
}

// runCairn runs the command line as main does and returns the exit code,
// standard output and standard error.
func runCairn(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	root := NewRoot("test", Streams{Out: &out, Err: &errb})
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err != nil && !Reported(err) {
		fmt.Fprintln(&errb, "cairn:", err)
	}
	return ExitCode(err), out.String(), errb.String()
}

func TestPlanCommand(t *testing.T) {
	dir := exampleRepo(t)
	edit(t, dir, "adapters/prod/client-bluefin-acceptor.json", `"allowedSources": ["192.0.2.128/25"]`, `"allowedSources": ["192.0.2.0/24"]`)
	commit(t, dir, "widen", "Widen Bluefin's allowed sources")
	git(t, dir, "rm", "-q", "adapters/prod/lse-fix-dropcopy.json")
	commit(t, dir, "decommission", "Decommission the LSE drop copy")
	edit(t, dir, "security.json", `"bindings": [`,
		`"bindings": [ { "subject": { "type": "user", "name": "mallory@acme.example" }, "role": "admin" },`)
	commit(t, dir, "grant", "Make mallory an admin")
	edit(t, dir, "adapters/uat/lse-fix-primary.json", `"protocol": "fix",`, `"protocol": "fix", "suspended": "yes",`)
	commit(t, dir, "broken", "Suspend, wrongly")

	tests := []struct {
		name    string
		args    []string // after plan --repo DIR
		code    int      // exit code
		risk    string   // the plan's risk, when JSON is written
		kind    string   // a change kind the plan must hold
		key     string   // the adapter (or document) it is in
		stderr  string   // what standard error must say
		changed int      // adapters listed in the plan
	}{
		{name: "widen", args: []string{"--base", "main", "--head", "widen"}, code: 1, risk: "high",
			kind: plan.KindAllowedSourcesWidened, key: "prod/client-bluefin-acceptor", changed: 1},
		{name: "remove prod adapter", args: []string{"--base", "main", "--head", "decommission"}, code: 1, risk: "high",
			kind: plan.KindAdapterRemovedProd, key: "prod/lse-fix-dropcopy", changed: 1},
		{name: "rbac binding", args: []string{"--base", "main", "--head", "grant"}, code: 1, risk: "high",
			kind: plan.KindBindingAdded, key: "security.json", changed: 0},
		{name: "no change", args: []string{"--base", "main", "--head", "HEAD"}, code: 0, risk: "none"},
		{name: "short hashes and ancestry", args: []string{"--base", "grant~1", "--head", "grant"}, code: 1, risk: "high",
			kind: plan.KindBindingAdded, key: "security.json"},
		{name: "missing base", args: []string{"--base", "nope", "--head", "main"}, code: 2, stderr: "base ref nope: not found"},
		{name: "missing head", args: []string{"--base", "main", "--head", "main~5"}, code: 2, stderr: "head ref main~5: not found"},
		{name: "invalid head", args: []string{"--base", "main", "--head", "broken"}, code: 2,
			stderr: "head revision broken"},
		{name: "bad format", args: []string{"--base", "main", "--head", "widen", "-o", "yaml"}, code: 2, stderr: "unknown output format"},
		{name: "no head", args: []string{"--base", "main"}, code: 2, stderr: "--base and --head"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"plan", "--repo", dir, "--output", "json"}, tt.args...)
			code, out, errOut := runCairn(t, args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			if tt.stderr != "" && !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errOut)
			}
			if tt.risk == "" {
				return
			}
			var p plan.Plan
			if err := json.Unmarshal([]byte(out), &p); err != nil {
				t.Fatalf("output is not a JSON plan: %v\n%s", err, out)
			}
			if p.Risk.String() != tt.risk {
				t.Errorf("risk %s, want %s", p.Risk, tt.risk)
			}
			if tt.changed > 0 && len(p.Adapters) != tt.changed {
				t.Errorf("%d adapters in the plan, want %d", len(p.Adapters), tt.changed)
			}
			if tt.kind != "" && !hasChange(&p, tt.key, tt.kind) {
				t.Errorf("no %s change in %s; plan:\n%s", tt.kind, tt.key, out)
			}
		})
	}

	// The invalid revision's findings name the file and the revision.
	_, _, errOut := runCairn(t, "plan", "--repo", dir, "--base", "main", "--head", "broken")
	for _, want := range []string{"head revision broken (", "does not validate", "adapters/uat/lse-fix-primary.json"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// Every format writes, with the same exit code.
	for _, format := range plan.Formats {
		code, out, _ := runCairn(t, "plan", "--repo", dir, "--base", "main", "--head", "widen", "-o", format)
		if code != 1 || !strings.Contains(out, "prod/client-bluefin-acceptor") {
			t.Errorf("%s: exit %d, output:\n%s", format, code, out)
		}
	}
}

// hasChange reports whether the plan has a change of kind in the adapter
// key, or in security.json, policy.json or cairn.json named by key.
func hasChange(p *plan.Plan, key, kind string) bool {
	var list []plan.Change
	switch key {
	case "security.json":
		list = p.Security
	case "policy.json":
		list = p.Policy
	case "cairn.json":
		list = p.Repository
	default:
		for _, a := range p.Adapters {
			if a.Key == key {
				list = a.Changes
			}
		}
	}
	for _, c := range list {
		if c.Kind == kind {
			return true
		}
	}
	return false
}

// TestPlanBareRepository plans in a bare clone, as CI does with a mirror.
func TestPlanBareRepository(t *testing.T) {
	dir := exampleRepo(t)
	edit(t, dir, "adapters/prod/lse-fix-primary.json", `"replicas": 2`, `"replicas": 3`)
	commit(t, dir, "scale", "Scale LSE")
	bare := filepath.Join(t.TempDir(), "mirror.git")
	git(t, dir, "clone", "-q", "--bare", dir, bare)
	code, out, errOut := runCairn(t, "plan", "--repo", bare, "--base", "main", "--head", "scale")
	if code != 1 || !strings.Contains(out, "replicas-changed") || !strings.Contains(out, "risk: low") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestPlanNoSecretValues commits a Kubernetes Secret manifest with a value
// beside the config (cairn does not read it) and points an adapter at that
// Secret: the plan shows the reference and never the value. No Secret
// exists in any cluster either; the plan needs none.
func TestPlanNoSecretValues(t *testing.T) {
	const canary = "c4n4ry-S3cret-Value-91f2"
	dir := exampleRepo(t)
	if err := os.MkdirAll(filepath.Join(dir, "ops"), 0o755); err != nil {
		t.Fatal(err)
	}
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: lse-fix-credentials-2027\nstringData:\n  username: acme\n  password: " + canary + "\n"
	if err := os.WriteFile(filepath.Join(dir, "ops", "lse-secret.yaml"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	edit(t, dir, "adapters/prod/lse-fix-primary.json", `"name": "lse-fix-credentials"`, `"name": "lse-fix-credentials-2027"`)
	edit(t, dir, "adapters/prod/kafka-orders-bridge.json", `"key": "password"`, `"key": "password-2027"`)
	commit(t, dir, "rotate", "Rotate LSE credentials")
	for _, format := range plan.Formats {
		code, out, errOut := runCairn(t, "plan", "--repo", dir, "--base", "main", "--head", "rotate", "-o", format)
		if code != 1 {
			t.Fatalf("%s: exit %d\n%s", format, code, errOut)
		}
		if strings.Contains(out, canary) || strings.Contains(errOut, canary) {
			t.Errorf("%s: the Secret's value appears in the plan", format)
		}
		for _, want := range []string{"lse-fix-credentials-2027", "password-2027", "prod/lse-fix-primary", "prod/kafka-orders-bridge"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: plan lacks the reference %q", format, want)
			}
		}
	}
}

// generatedRepo writes a repository of n adapters to dir: the example's
// documents and the two adapters its security.json names, and n-2
// generated FIX sessions (initiators, every tenth an acceptor).
func generatedRepo(t testing.TB, dir string, n int) {
	t.Helper()
	for _, f := range []string{"cairn.json", "security.json", "policy.json", "adapters/uat/lse-fix-primary.json", "adapters/uat/kafka-orders-bridge.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "examples", "config-repo", filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n-2; i++ {
		env := []string{"prod", "uat"}[i%2]
		var spec string
		if i%10 == 0 {
			spec = fmt.Sprintf(`"role": "acceptor",
    "listen": { "port": %d, "tls": true, "allowedSources": ["10.%d.%d.0/24"] }`, 20000+i, i/256, i%256)
		} else {
			spec = fmt.Sprintf(`"role": "initiator",
    "connect": { "host": "fix.venue%04d.example.net", "port": %d, "tls": true },
    "egress": { "cidrs": ["10.%d.%d.0/28"] }`, i, 9000+i%500, i/256, i%256)
		}
		doc := fmt.Sprintf(`{
  "apiVersion": "cairn.dev/v1alpha1",
  "kind": "Adapter",
  "metadata": { "name": "venue-%04d-fix", "environment": %q, "labels": { "venue": "venue%04d" } },
  "spec": {
    "protocol": "fix",
    %s,
    "fix": { "version": "FIX.4.4", "senderCompID": "ACME", "targetCompID": "V%04d", "heartbeatSeconds": 30 },
    "credentials": { "secretRef": { "name": "venue-%04d-credentials", "keys": ["username", "password"] } }
  }
}
`, i, env, i, spec, i, i)
		p := filepath.Join(dir, "adapters", env, fmt.Sprintf("venue-%04d-fix.json", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPlanThousandAdapters plans between two revisions of a 1,000-adapter
// repository that differ in one adapter.
func TestPlanThousandAdapters(t *testing.T) {
	dir := t.TempDir()
	generatedRepo(t, dir, 1000)
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "1,000 adapters")
	edit(t, dir, "adapters/prod/venue-0500-fix.json", `"allowedSources": ["10.1.244.0/24"]`, `"allowedSources": ["10.1.0.0/16"]`)
	commit(t, dir, "widen", "Widen venue 500")

	start := time.Now()
	code, md, errOut := runCairn(t, "plan", "--repo", dir, "--base", "main", "--head", "widen", "-o", "markdown")
	t.Logf("cairn plan of 1,000 adapters with one change took %v (in the test binary)", time.Since(start))
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if len(md) > plan.GitHubCommentLimit {
		t.Errorf("markdown is %d bytes, over %d", len(md), plan.GitHubCommentLimit)
	}
	code, out, errOut := runCairn(t, "plan", "--repo", dir, "--base", "main", "--head", "widen", "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Adapters) != 1 || p.Summary.Changed != 1 || p.Summary.Unchanged != 999 || p.Adapters[0].Key != "prod/venue-0500-fix" {
		t.Fatalf("summary %+v, adapters %d", p.Summary, len(p.Adapters))
	}
	if p.Risk != plan.RiskHigh || !hasChange(&p, "prod/venue-0500-fix", plan.KindAllowedSourcesWidened) {
		t.Errorf("risk %s; changes %+v", p.Risk, p.Adapters[0].Changes)
	}
}
