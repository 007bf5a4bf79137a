package cli

// Review tests of `cairn render` and `cairn plan` end to end, on copies of
// examples/config-repo, for behaviour that is right today.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-gitops/cairn/internal/plan"
)

// reviewCopy copies examples/config-repo into a new directory.
func reviewCopy(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "examples", "config-repo"))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// reviewJSON edits a JSON file of dir through a generic map.
func reviewJSON(t *testing.T, dir, file string, edit func(m map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(file))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.MarshalIndent(m, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func obj(m map[string]any, path ...string) map[string]any {
	for _, k := range path {
		m = m[k].(map[string]any)
	}
	return m
}

// TestReviewRenderLayoutIndependent: the same adapters in other files and
// folders (and from a Jsonnet list) render the same bytes.
func TestReviewRenderLayoutIndependent(t *testing.T) {
	dir := reviewCopy(t)
	code, want, errOut := runCairn(t, "render", dir)
	if code != 0 {
		t.Fatalf("render: exit %d: %s", code, errOut)
	}
	code, again, _ := runCairn(t, "render", dir)
	if code != 0 || again != want {
		t.Fatal("two renders of one repository differ")
	}
	moved := reviewCopy(t)
	if err := os.MkdirAll(filepath.Join(moved, "adapters", "deep", "er"), 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(moved, "adapters", "prod"))
	if err != nil {
		t.Fatal(err)
	}
	var docs []json.RawMessage
	for i, e := range entries {
		p := filepath.Join(moved, "adapters", "prod", e.Name())
		if i%2 == 0 {
			if err := os.Rename(p, filepath.Join(moved, "adapters", "deep", "er", "z-"+e.Name())); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs = append([]json.RawMessage{b}, docs...) // reversed
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	list, err := json.Marshal(docs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(moved, "adapters", "a-list.jsonnet"), list, 0o644); err != nil {
		t.Fatal(err)
	}
	code, got, errOut := runCairn(t, "render", moved)
	if code != 0 {
		t.Fatalf("render of the moved layout: exit %d: %s", code, errOut)
	}
	if got != want {
		t.Error("the same adapters in another layout render other bytes")
	}
}

// TestReviewRenderOutDir: --out-dir writes ENV/NAME files (creating missing
// parents); a failing render leaves the previous output as it was.
func TestReviewRenderOutDir(t *testing.T) {
	dir := reviewCopy(t)
	out := filepath.Join(t.TempDir(), "no", "such", "parent", "rendered")
	if code, _, errOut := runCairn(t, "render", dir, "--out-dir", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(filepath.Join(out, "prod", "client-northwind-acceptor.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "kind: NetworkPolicy") || !strings.Contains(string(b), "# Release: connectivity-prod/client-northwind-acceptor") {
		t.Errorf("unexpected release file:\n%s", b)
	}
	n := 0
	if err := filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n != 17 {
		t.Errorf("%d files, want 16 releases and the %s marker", n, outDirMarker)
	}

	// An invalid repository: exit 1, findings on stderr, output untouched.
	broken := reviewCopy(t)
	if err := os.WriteFile(filepath.Join(broken, "adapters", "uat", "lse-fix-primary.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCairn(t, "render", broken, "--out-dir", out)
	if code != 1 || !strings.Contains(errOut, "adapters/uat/lse-fix-primary.json") {
		t.Errorf("invalid repository: exit %d, stderr %s", code, errOut)
	}
	// A chart that fails to render: exit 2, names the adapter, output untouched.
	failing := reviewCopy(t)
	if err := os.CopyFS(filepath.Join(failing, "chart"), os.DirFS(filepath.Join("..", "..", "charts", "adapter"))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(failing, "chart", "templates", "bad.yaml"), []byte("{{ .Values.nope.nope }}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reviewJSON(t, failing, "cairn.json", func(m map[string]any) { obj(m, "spec")["chart"] = map[string]any{"path": "chart"} })
	code, _, errOut = runCairn(t, "render", failing, "--out-dir", out)
	if code != 2 || !strings.Contains(errOut, "render adapter") || !strings.Contains(errOut, "bad.yaml") {
		t.Errorf("failing chart: exit %d, stderr %s", code, errOut)
	}
	after, err := os.ReadFile(filepath.Join(out, "prod", "client-northwind-acceptor.yaml"))
	if err != nil || string(after) != string(b) {
		t.Errorf("a failed render changed the previous output (%v)", err)
	}
	siblings, err := os.ReadDir(filepath.Dir(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(siblings) != 1 {
		t.Errorf("left-overs beside the output: %v", siblings)
	}
}

// TestReviewRepositoryChart: a copy of the embedded chart named by
// spec.chart.path renders the same bytes; a symlink to a chart outside the
// repository is refused.
func TestReviewRepositoryChart(t *testing.T) {
	dir := reviewCopy(t)
	_, want, _ := runCairn(t, "render", dir)
	if err := os.CopyFS(filepath.Join(dir, "deploy", "chart"), os.DirFS(filepath.Join("..", "..", "charts", "adapter"))); err != nil {
		t.Fatal(err)
	}
	reviewJSON(t, dir, "cairn.json", func(m map[string]any) {
		obj(m, "spec")["chart"] = map[string]any{"path": "deploy/chart"}
	})
	code, got, errOut := runCairn(t, "render", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got != want {
		t.Error("a copy of the embedded chart renders other bytes")
	}

	outside := filepath.Join(t.TempDir(), "chart")
	if err := os.CopyFS(outside, os.DirFS(filepath.Join("..", "..", "charts", "adapter"))); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "deploy", "chart")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "deploy", "chart")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCairn(t, "render", dir)
	if code == 0 || out != "" || !strings.Contains(errOut, "path-escape") {
		t.Errorf("a chart outside the repository: exit %d, stdout %d bytes, stderr %s", code, len(out), errOut)
	}
}

// TestReviewRenderJSONHoldsReferencesOnly: "password" appears in render
// JSON only as a Secret key or part of a variable name.
func TestReviewRenderJSONHoldsReferencesOnly(t *testing.T) {
	code, out, errOut := runCairn(t, "render", reviewCopy(t), "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rels []map[string]any
	if err := json.Unmarshal([]byte(out), &rels); err != nil {
		t.Fatal(err)
	}
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch t2 := v.(type) {
		case map[string]any:
			for k, x := range t2 {
				walk(x, k)
			}
		case []any:
			for _, x := range t2 {
				walk(x, key)
			}
		case string:
			if key == "yaml" {
				return // the objects; checked by the chart tests
			}
			if strings.Contains(strings.ToLower(t2), "password") && key != "keys" && key != "key" && key != "name" {
				t.Errorf("%s = %q", key, t2)
			}
		}
	}
	walk(any(func() []any {
		out := make([]any, len(rels))
		for i := range rels {
			out[i] = rels[i]
		}
		return out
	}()), "")
}

// TestReviewPlanScenarios commits one change per branch and checks the plan.
func TestReviewPlanScenarios(t *testing.T) {
	dir := exampleRepo(t)
	branch := func(name string, change func()) {
		change()
		commit(t, dir, name, name)
	}
	js := func(file string, edit func(m map[string]any)) func() {
		return func() { reviewJSON(t, dir, file, edit) }
	}
	branch("narrow", js("adapters/prod/client-northwind-acceptor.json", func(m map[string]any) {
		obj(m, "spec", "listen")["allowedSources"] = []any{"198.51.100.0/27", "2001:db8:100::/56"}
	}))
	branch("widen-v6", js("adapters/prod/client-northwind-acceptor.json", func(m map[string]any) {
		obj(m, "spec", "listen")["allowedSources"] = []any{"198.51.100.0/26", "2001:db8::/32"}
	}))
	branch("port", js("adapters/prod/client-northwind-acceptor.json", func(m map[string]any) {
		obj(m, "spec", "listen")["port"] = 9885
	}))
	branch("move", js("adapters/prod/lse-fix-dropcopy.json", func(m map[string]any) {
		obj(m, "metadata")["environment"] = "uat"
	}))
	branch("creds", js("adapters/prod/lse-fix-primary.json", func(m map[string]any) {
		obj(m, "spec", "credentials", "secretRef")["name"] = "lse-fix-credentials-v2"
	}))
	branch("jwt", js("security.json", func(m map[string]any) {
		j := obj(m, "spec", "authentication", "jwt")
		j["algorithms"] = append(j["algorithms"].([]any), "PS512")
	}))
	branch("timeout", js("security.json", func(m map[string]any) { obj(m, "spec", "sessions")["timeout"] = "7d" }))
	branch("apikey", js("security.json", func(m map[string]any) {
		k := obj(m, "spec", "authentication", "apiKeys")
		k["keys"] = append(k["keys"].([]any), map[string]any{"id": "k_0badc0de", "name": "new-bot",
			"hash": "sha256:" + strings.Repeat("c", 64), "scopes": []any{"sync:create"}, "expires": "2027-01-01T00:00:00Z"})
	}))
	branch("approvals", js("policy.json", func(m map[string]any) { obj(m, "spec", "approvals")["required"] = 0 }))
	branch("lib", func() {
		edit(t, dir, "lib/fix-session.libsonnet", "heartbeatSeconds: 30", "heartbeatSeconds: 45")
	})

	tests := []struct {
		head, key, kind string
		status          plan.Status
		risk            plan.Risk // of the change
		adapters        int       // listed in the plan
	}{
		{"narrow", "prod/client-northwind-acceptor", plan.KindAllowedSourcesNarrowed, plan.StatusChanged, plan.RiskLow, 1},
		{"widen-v6", "prod/client-northwind-acceptor", plan.KindAllowedSourcesWidened, plan.StatusChanged, plan.RiskHigh, 1},
		{"port", "prod/client-northwind-acceptor", plan.KindPortOpened, plan.StatusChanged, plan.RiskHigh, 1},
		{"move", "uat/lse-fix-dropcopy", plan.KindAdapterMoved, plan.StatusMoved, plan.RiskHigh, 1},
		{"creds", "prod/lse-fix-primary", plan.KindCredentialsChanged, plan.StatusChanged, plan.RiskMedium, 1},
		{"jwt", "security.json", plan.KindJWTAlgorithms, "", plan.RiskHigh, 0},
		{"timeout", "security.json", plan.KindSessionTimeout, "", plan.RiskHigh, 0},
		{"apikey", "security.json", plan.KindAPIKeyAdded, "", plan.RiskHigh, 0},
		{"approvals", "policy.json", plan.KindApprovalsLowered, "", plan.RiskHigh, 0},
		{"lib", "prod/aquis-fix-orders", plan.KindSessionChanged, plan.StatusChanged, plan.RiskLow, 6},
	}
	for _, tt := range tests {
		t.Run(tt.head, func(t *testing.T) {
			code, out, errOut := runCairn(t, "plan", "--repo", dir, "--base", "main", "--head", tt.head, "--output", "json")
			if code != 1 {
				t.Fatalf("exit %d, want 1: %s", code, errOut)
			}
			var p plan.Plan
			if err := json.Unmarshal([]byte(out), &p); err != nil {
				t.Fatal(err)
			}
			var raw map[string]any
			if err := json.Unmarshal([]byte(out), &raw); err != nil || raw["version"] != "v1" {
				t.Errorf("version %v (%v)", raw["version"], err)
			}
			if len(p.Adapters) != tt.adapters {
				t.Errorf("%d adapters listed, want %d", len(p.Adapters), tt.adapters)
			}
			var found *plan.Change
			var changes []plan.Change
			switch tt.key {
			case "security.json":
				changes = p.Security
			case "policy.json":
				changes = p.Policy
			default:
				for _, a := range p.Adapters {
					if a.Key == tt.key {
						if a.Status != tt.status {
							t.Errorf("status %s, want %s", a.Status, tt.status)
						}
						changes = a.Changes
					}
				}
			}
			for i := range changes {
				if changes[i].Kind == tt.kind {
					found = &changes[i]
				}
			}
			if found == nil {
				t.Fatalf("no %s in %s:\n%s", tt.kind, tt.key, out)
			}
			if found.Risk != tt.risk {
				t.Errorf("risk %s, want %s", found.Risk, tt.risk)
			}
			if strings.Contains(out, strings.Repeat("c", 64)) {
				t.Error("the plan shows an API key's hash")
			}
			// text and markdown say the same, with the same exit code
			for _, f := range []string{"text", "markdown"} {
				code, txt, _ := runCairn(t, "plan", "--repo", dir, "--base", "main", "--head", tt.head, "--output", f)
				if code != 1 || !strings.Contains(txt, tt.key) && tt.adapters > 0 {
					t.Errorf("%s: exit %d or no %s", f, code, tt.key)
				}
				if len(txt) > plan.GitHubCommentLimit && f == "markdown" {
					t.Errorf("markdown of %d bytes", len(txt))
				}
			}
		})
	}

	t.Run("base equals head", func(t *testing.T) {
		for _, f := range []string{"text", "markdown", "json"} {
			code, out, errOut := runCairn(t, "plan", "--repo", dir, "--base", "lib", "--head", "lib", "--output", f)
			if code != 0 || errOut != "" {
				t.Errorf("%s: exit %d, stderr %s", f, code, errOut)
			}
			if f == "json" && !strings.Contains(out, `"risk": "none"`) {
				t.Errorf("json: %s", out)
			}
		}
	})
	t.Run("comment-only library change", func(t *testing.T) {
		git(t, dir, "checkout", "-q", "lib")
		if err := os.WriteFile(filepath.Join(dir, "lib", "fix-session.libsonnet"),
			append(must(os.ReadFile(filepath.Join(dir, "lib", "fix-session.libsonnet"))), "\n// a comment\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		git(t, dir, "checkout", "-q", "-b", "lib-comment")
		git(t, dir, "commit", "-q", "-am", "comment")
		git(t, dir, "checkout", "-q", "main")
		code, _, errOut := runCairn(t, "plan", "--repo", dir, "--base", "lib", "--head", "lib-comment")
		if code != 0 {
			t.Errorf("exit %d, want 0: %s", code, errOut)
		}
	})
	t.Run("missing base commit", func(t *testing.T) {
		code, _, errOut := runCairn(t, "plan", "--repo", dir, "--base", "0123456789abcdef0123456789abcdef01234567", "--head", "main")
		if code != 2 || !strings.Contains(errOut, "base ref 0123456789abcdef0123456789abcdef01234567") {
			t.Errorf("exit %d, stderr %s", code, errOut)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
