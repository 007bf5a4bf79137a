package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/manifest"
	"github.com/cairn-gitops/cairn/internal/report"
)

// binVersion is stamped into the binary, so that `version` and SARIF's
// tool section can be checked.
const binVersion = "v0.0.0-clitest"

// cairnBin is the binary TestMain builds. It is also its own Jsonnet sandbox:
// main re-executes it as the child that evaluates Jsonnet.
var cairnBin string

func TestMain(m *testing.M) {
	if code, served := manifest.ServeChild(); served { // the Jsonnet sandbox of the tests' own validation
		os.Exit(code)
	}
	dir, err := os.MkdirTemp("", "cairn-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cairnBin = filepath.Join(dir, "cairn")
	build := exec.Command("go", "build", "-ldflags", "-X main.version="+binVersion, "-o", cairnBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build cairn:", err)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	if err := cluster.Stop(code != 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what a user sees of one run.
type result struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

// cairn runs the binary with args and returns its exit code and output. A
// run that is killed (by the 60 s safety net) fails the test.
func cairn(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cairnBin, args...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.Exited():
		r.code = exit.ExitCode()
	default:
		t.Fatalf("cairn %q did not exit by itself after %s: %v\nstderr: %s", args, r.elapsed, err, r.stderr)
	}
	return r
}

// wantCode fails the test unless the run ended with code.
func (r result) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// wantNoCrash fails the test if the run panicked or printed a Go stack.
func (r result) wantNoCrash(t *testing.T) {
	t.Helper()
	for _, s := range []string{"panic", "goroutine "} {
		if strings.Contains(r.stderr, s) || strings.Contains(r.stdout, s) {
			t.Errorf("output holds %q:\nstdout:\n%s\nstderr:\n%s", s, r.stdout, r.stderr)
		}
	}
}

func example(name string) string { return filepath.Join("..", "..", "examples", name) }

// repositoryJSON declares the environments prod and uat.
const repositoryJSON = `{
  "apiVersion": "cairn.dev/v1alpha1",
  "kind": "Repository",
  "metadata": {"name": "test"},
  "spec": {"environments": {"uat": {"namespace": "connectivity-uat"}, "prod": {"namespace": "connectivity-prod", "production": true}}}
}
`

// newRepo writes a repository holding cairn.json and files (slash-separated
// path -> content) into a temporary directory.
func newRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["cairn.json"] = repositoryJSON
	for p, content := range files {
		writeFile(t, filepath.Join(dir, filepath.FromSlash(p)), content)
	}
	return dir
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

var summaryLine = regexp.MustCompile(`(?m)^valid: (\d+) files, (\d+) documents, 0 errors, 0 warnings\n\z`)

func TestValidateValidRepository(t *testing.T) {
	t.Parallel()
	repo := example("config-repo")
	r := cairn(t, "validate", repo)
	r.wantCode(t, 0)
	m := summaryLine.FindStringSubmatch(r.stdout)
	if m == nil || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("stdout is not one valid summary line:\n%s", r.stdout)
	}
	files, _ := strconv.Atoi(m[1])
	docs, _ := strconv.Atoi(m[2])
	if want := countDocumentFiles(t, repo); files != want {
		t.Errorf("reports %d files, the repository has %d document files", files, want)
	}
	if docs < files {
		t.Errorf("reports %d documents for %d files", docs, files)
	}
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}
}

// countDocumentFiles counts the files cairn reads documents from: the three
// root files and .json/.jsonnet under adapters/.
func countDocumentFiles(t *testing.T, repo string) int {
	t.Helper()
	n := 0
	err := fs.WalkDir(os.DirFS(repo), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := path.Ext(p)
		if slices.Contains([]string{"cairn.json", "security.json", "policy.json"}, p) ||
			strings.HasPrefix(p, "adapters/") && (ext == ".json" || ext == ".jsonnet") {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestValidateInvalidExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir  string // under examples/invalid
		want string // a line of the text report starts with this
	}{
		{dir: "syntax-truncated", want: "adapters/prod/lse-fix-primary.json:16:17: error [syntax] "},
		{dir: "syntax-trailing-comma", want: "adapters/prod/lse-fix-primary.json:28:18: error [syntax] "},
		{dir: "duplicate-key", want: "adapters/prod/lse-fix-primary.json:28:5: error [duplicate-key] "},
		{dir: "encoding-latin1", want: "adapters/prod/lse-fix-primary.json:17:26: error [encoding] "},
		{dir: "schema-type", want: "adapters/prod/lse-fix-primary.json:27:7: error [schema] "},
		{dir: "schema-unknown-field", want: "adapters/prod/lse-fix-primary.json:24:7: error [schema] "},
		{dir: "literal-credential-env", want: "adapters/prod/lse-fix-primary.json:42:9: error [literal-credential] "},
		{dir: "port-conflict", want: "adapters/prod/client-two.json:17:7: error [port-conflict] "},
		{dir: "unknown-environment", want: "adapters/prod/lse-fix-primary.json:6:5: error [unknown-environment] "},
		{dir: "jsonnet-error", want: "adapters/family.jsonnet:3:17: error [jsonnet] "},
		{dir: "jsonnet-import-escape", want: "adapters/family.jsonnet:1:15: error [import-escape] "},
		{dir: "path-escape-symlink", want: "adapters/prod/shared.json:1:1: error [path-escape] "},
		{dir: "missing-repository", want: "cairn.json: error [missing-repository] "},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			t.Parallel()
			r := cairn(t, "validate", filepath.Join(example("invalid"), tt.dir))
			r.wantCode(t, 1)
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, tt.want) }) {
				t.Errorf("no line starts with %q:\n%s", tt.want, r.stdout)
			}
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "invalid: ") {
				t.Errorf("last line %q is not the invalid summary", last)
			}
			if r.stderr != "" {
				t.Errorf("stderr: %s", r.stderr)
			}
		})
	}
}

func TestValidateJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		repo      string // repository to validate
		wantCode  int    // exit code
		wantValid bool   // the report's "valid"
		wantRule  string // a finding with this rule, "" for none at all
	}{
		{repo: example("config-repo"), wantCode: 0, wantValid: true},
		{repo: filepath.Join(example("invalid"), "schema-type"), wantCode: 1, wantValid: false, wantRule: "schema"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.repo), func(t *testing.T) {
			t.Parallel()
			r := cairn(t, "validate", "--output", "json", tt.repo)
			r.wantCode(t, tt.wantCode)
			var got report.JSONReport
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
			}
			if got.Valid != tt.wantValid || got.Version != "v1" {
				t.Errorf("valid %v version %q, want %v v1", got.Valid, got.Version, tt.wantValid)
			}
			if got.Summary.Errors != len(got.Findings) {
				t.Errorf("summary counts %d errors, findings list %d", got.Summary.Errors, len(got.Findings))
			}
			switch {
			case tt.wantRule == "" && len(got.Findings) != 0:
				t.Errorf("unexpected findings: %+v", got.Findings)
			case tt.wantRule != "" && (len(got.Findings) == 0 || got.Findings[0].Rule != tt.wantRule || got.Findings[0].Line == 0):
				t.Errorf("findings %+v, want a located %q finding", got.Findings, tt.wantRule)
			}
		})
	}
}

// TestValidateFormats runs every format on a valid and an invalid
// repository and checks the exit code and that the output is what the
// format's consumer can read.
func TestValidateFormats(t *testing.T) {
	t.Parallel()
	repos := []struct {
		name string // subtest name
		dir  string // repository
		code int    // exit code
	}{
		{name: "valid", dir: example("config-repo"), code: 0},
		{name: "invalid", dir: filepath.Join(example("invalid"), "port-conflict"), code: 1},
	}
	for _, repo := range repos {
		for _, format := range report.Formats {
			t.Run(repo.name+"/"+format, func(t *testing.T) {
				t.Parallel()
				r := cairn(t, "validate", "-o", format, repo.dir)
				r.wantCode(t, repo.code)
				checkFormat(t, format, r.stdout, repo.code == 1)
			})
		}
	}
}

// checkFormat checks that out parses as format and reports problems exactly
// when invalid.
func checkFormat(t *testing.T, format, out string, invalid bool) {
	t.Helper()
	var problems bool
	switch format {
	case "text":
		problems = strings.Contains(out, "error [") && strings.Contains(out, "\ninvalid: ")
	case "json":
		var rep report.JSONReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		problems = !rep.Valid
	case "junit":
		var doc struct {
			Suite struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal([]byte(out), &doc); err != nil || doc.Suite.Tests == 0 {
			t.Fatalf("not a JUnit report (%v):\n%s", err, out)
		}
		problems = doc.Suite.Failures > 0
	case "sarif":
		var doc struct {
			Version string `json:"version"`
			Runs    []struct {
				Tool struct {
					Driver struct {
						Version string `json:"version"`
					} `json:"driver"`
				} `json:"tool"`
				Results []json.RawMessage `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Version != "2.1.0" || len(doc.Runs) != 1 {
			t.Fatalf("not a SARIF 2.1.0 log (%v):\n%s", err, out)
		}
		if v := doc.Runs[0].Tool.Driver.Version; v != binVersion {
			t.Errorf("tool version %q, want %q", v, binVersion)
		}
		problems = len(doc.Runs[0].Results) > 0
	case "github":
		problems = strings.HasPrefix(out, "::error file=") || strings.Contains(out, "\n::error file=")
	default:
		t.Fatalf("no check for format %q", format)
	}
	if problems != invalid {
		t.Errorf("%s output reports problems: %v, want %v:\n%s", format, problems, invalid, out)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	valid := example("config-repo")
	missing := filepath.Join(t.TempDir(), "no-such-repo")
	tests := []struct {
		name string   // subtest name
		args []string // command line
		want string   // stderr holds this
	}{
		{name: "unknown flag", args: []string{"validate", "--no-such-flag", valid}, want: "unknown flag: --no-such-flag"},
		{name: "unknown output", args: []string{"validate", "--output", "yaml", valid}, want: `unknown output format "yaml"`},
		{name: "two repositories", args: []string{"validate", valid, valid}, want: "accepts at most 1 arg"},
		{name: "missing path", args: []string{"validate", missing}, want: "no such file or directory"},
		{name: "path is a file", args: []string{"validate", filepath.Join(valid, "cairn.json")}, want: "is not a directory"},
		{name: "unknown command", args: []string{"frobnicate"}, want: `unknown command "frobnicate"`},
		{name: "schema export without dir", args: []string{"schema", "export"}, want: "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := cairn(t, tt.args...)
			r.wantCode(t, 2)
			if !strings.HasPrefix(r.stderr, "cairn: ") || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q, want cairn: ... %q", r.stderr, tt.want)
			}
			if r.stdout != "" {
				t.Errorf("a usage error wrote a report:\n%s", r.stdout)
			}
		})
	}
}

func TestSchemaExport(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "schemas")
	r := cairn(t, "schema", "export", dir)
	r.wantCode(t, 0)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"adapter.json", "changepolicy.json", "common.json", "repository.json", "securityconfig.json"}
	if !slices.Equal(names, want) {
		t.Fatalf("wrote %v, want %v", names, want)
	}
	for _, name := range names {
		p := filepath.Join(dir, name)
		if !strings.Contains(r.stdout, p+"\n") {
			t.Errorf("stdout does not list %s:\n%s", p, r.stdout)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			ID string `json:"$id"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Errorf("%s is not JSON: %v", name, err)
			continue
		}
		if want := "https://cairn.dev/schemas/v1alpha1/" + name; s.ID != want {
			t.Errorf("%s: $id %q, want %q", name, s.ID, want)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := cairn(t, "version")
	r.wantCode(t, 0)
	if want := "cairn " + binVersion + "\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
}

func TestFailOnWarning(t *testing.T) {
	t.Parallel()
	repo := filepath.Join(example("invalid"), "unexpected-place")
	tests := []struct {
		name string   // subtest name
		args []string // flags before the repository
		code int      // exit code
	}{
		{name: "warnings pass", args: nil, code: 0},
		{name: "warnings fail", args: []string{"--fail-on-warning"}, code: 1},
		{name: "warnings fail in json", args: []string{"--fail-on-warning", "-o", "json"}, code: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := cairn(t, append(append([]string{"validate"}, tt.args...), repo)...)
			r.wantCode(t, tt.code)
			if !strings.Contains(r.stdout, "unexpected-file") || !strings.Contains(r.stdout, "adapter/typo.json") {
				t.Errorf("the warning is not reported:\n%s", r.stdout)
			}
			if r.stderr != "" {
				t.Errorf("stderr: %s", r.stderr)
			}
		})
	}
}

// adapterJSON is a valid adapter; tests break it in one way each.
const adapterJSON = `{
  "apiVersion": "cairn.dev/v1alpha1",
  "kind": "Adapter",
  "metadata": {"name": "lse-fix-primary", "environment": "prod"},
  "spec": {
    "protocol": "fix",
    "role": "initiator",
    "fix": {"version": "FIX.4.4", "senderCompID": "ACME", "targetCompID": "LSE", "heartbeatSeconds": 30},
    "connect": {"host": "fix.lse.example.net", "port": 9876, "tls": true}
  }
}
`

// writeHuge writes an adapter of about 50 MB: one long annotation.
func writeHuge(t *testing.T, p string) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	if _, err := f.WriteString(`{"apiVersion": "cairn.dev/v1alpha1", "kind": "Adapter", "metadata": {"name": "huge", "annotations": {"a": "`); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.WriteString(`"}}}`); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func deepJSON(open, leaf, closing string) string {
	return `{"apiVersion": "cairn.dev/v1alpha1", "kind": "Adapter", "metadata": {"name": "deep"}, "spec": ` +
		strings.Repeat(open, 10000) + leaf + strings.Repeat(closing, 10000) + "}"
}

// TestHostileInput feeds the binary input written to hurt it. Each case
// must end in bounded time with exit 1 and a finding of the expected rule,
// never a crash, and never echo what lies outside the repository.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	outside := t.TempDir() // a directory next to, not inside, each repository
	writeFile(t, filepath.Join(outside, "secret.json"), `{"outside": "outside-the-repo-canary"}`)
	tests := []struct {
		name  string                         // subtest name
		files map[string]string              // repository files besides cairn.json
		setup func(t *testing.T, dir string) // more to do in the repository, or nil
		args  []string                       // flags before the repository
		rule  string                         // rule of the finding expected
		at    string                         // the finding's location starts with this
		msg   string                         // and its line holds this
	}{
		{name: "50 MB file", rule: "too-large", at: "adapters/prod/huge.json:1:1", msg: "larger than the limit",
			setup: func(t *testing.T, dir string) { writeHuge(t, filepath.Join(dir, "adapters", "prod", "huge.json")) }},
		{name: "arrays 10,000 deep", rule: "too-deep", at: "adapters/prod/deep.json:1:",
			files: map[string]string{"adapters/prod/deep.json": deepJSON("[", "1", "]")}},
		{name: "objects 10,000 deep", rule: "too-deep", at: "adapters/prod/deep.json:1:",
			files: map[string]string{"adapters/prod/deep.json": deepJSON(`{"a":`, "1", "}")}},
		{name: "Jsonnet 10,000 deep", rule: "jsonnet", at: "adapters/deep.jsonnet:",
			files: map[string]string{"adapters/deep.jsonnet": strings.Repeat("[", 10000) + strings.Repeat("]", 10000)}},
		{name: "truncated", rule: "syntax", at: "adapters/prod/lse-fix-primary.json:", msg: "truncated",
			files: map[string]string{"adapters/prod/lse-fix-primary.json": adapterJSON[:len(adapterJSON)/2]}},
		{name: "Latin-1 byte", rule: "encoding", at: "adapters/prod/lse-fix-primary.json:4:", msg: "invalid UTF-8",
			files: map[string]string{"adapters/prod/lse-fix-primary.json": strings.Replace(adapterJSON, "lse-fix-primary", "caf\xe9", 1)}},
		{name: "UTF-16", rule: "encoding", at: "adapters/prod/lse-fix-primary.json:1:1", msg: "invalid UTF-8",
			files: map[string]string{"adapters/prod/lse-fix-primary.json": "\xff\xfe{\x00}\x00"}},
		{name: "Jsonnet infinite recursion", rule: "jsonnet", at: "adapters/loop.jsonnet:", msg: "stack overflow",
			files: map[string]string{"adapters/loop.jsonnet": "local f(x) = f(x + 1) + 1;\nf(0)\n"}},
		{name: "Jsonnet tailstrict recursion crashes the sandbox", rule: "jsonnet", at: "adapters/loop.jsonnet:", msg: "crashed",
			files: map[string]string{"adapters/loop.jsonnet": "local f(x) = f(x) tailstrict; f(0)\n"}},
		{name: "Jsonnet too slow", rule: "jsonnet", at: "adapters/slow.jsonnet:", msg: "did not finish within 500ms",
			args:  []string{"--jsonnet-timeout", "500ms"},
			files: map[string]string{"adapters/slow.jsonnet": "std.foldl(function(a, b) a + b, std.range(1, 30000000), 0)\n"}},
		{name: "import cycle", rule: "jsonnet", at: "lib/", // where the cycle closes
			files: map[string]string{
				"adapters/cycle.jsonnet": "import 'a.libsonnet'\n",
				"lib/a.libsonnet":        "import 'b.libsonnet'\n",
				"lib/b.libsonnet":        "import 'a.libsonnet'\n",
			}},
		{name: "importstr /etc/passwd", rule: "import-escape", at: "adapters/p.jsonnet:", msg: `"/etc/passwd" refused`,
			files: map[string]string{"adapters/p.jsonnet": "{ apiVersion: 'cairn.dev/v1alpha1', kind: 'Adapter', metadata: { name: importstr '/etc/passwd' } }\n"}},
		{name: "import up and out", rule: "import-escape", at: "adapters/p.jsonnet:", msg: "refused",
			setup: func(t *testing.T, dir string) {
				rel, err := filepath.Rel(filepath.Join(dir, "adapters"), filepath.Join(outside, "secret.json"))
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(dir, "adapters", "p.jsonnet"), "import '"+filepath.ToSlash(rel)+"'\n")
			}},
		{name: "import through a symlink", rule: "import-escape", at: "adapters/p.jsonnet:", msg: "symbolic link",
			files: map[string]string{"adapters/p.jsonnet": "import 'secret.libsonnet'\n"},
			setup: func(t *testing.T, dir string) {
				symlink(t, filepath.Join(outside, "secret.json"), filepath.Join(dir, "lib", "secret.libsonnet"))
			}},
		{name: "absolute symlink out", rule: "path-escape", at: "adapters/prod/shared.json:1:1",
			setup: func(t *testing.T, dir string) {
				symlink(t, filepath.Join(outside, "secret.json"), filepath.Join(dir, "adapters", "prod", "shared.json"))
			}},
		{name: "relative symlink out", rule: "path-escape", at: "adapters/prod/shared.json:1:1",
			setup: func(t *testing.T, dir string) {
				link := filepath.Join(dir, "adapters", "prod", "shared.json")
				rel, err := filepath.Rel(filepath.Dir(link), filepath.Join(outside, "secret.json"))
				if err != nil {
					t.Fatal(err)
				}
				symlink(t, rel, link)
			}},
		{name: "symlinked directory out", rule: "path-escape", at: "adapters/uat:1:1",
			setup: func(t *testing.T, dir string) { symlink(t, outside, filepath.Join(dir, "adapters", "uat")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.files == nil {
				tt.files = map[string]string{}
			}
			repo := newRepo(t, tt.files)
			if err := os.MkdirAll(filepath.Join(repo, "adapters", "prod"), 0o755); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, repo)
			}
			r := cairn(t, append(append([]string{"validate"}, tt.args...), repo)...)
			if r.elapsed > 30*time.Second {
				t.Errorf("took %s", r.elapsed)
			}
			r.wantNoCrash(t)
			r.wantCode(t, 1)
			lines := strings.Split(r.stdout, "\n")
			i := slices.IndexFunc(lines, func(l string) bool {
				return strings.HasPrefix(l, tt.at) && strings.Contains(l, ": error ["+tt.rule+"] ")
			})
			if i < 0 {
				t.Fatalf("no %q finding at %q:\n%s", tt.rule, tt.at, r.stdout)
			}
			if !strings.Contains(lines[i], tt.msg) {
				t.Errorf("finding %q does not say %q", lines[i], tt.msg)
			}
			for _, leak := range []string{"outside-the-repo-canary", "root:x:"} {
				if strings.Contains(r.stdout+r.stderr, leak) {
					t.Errorf("output shows %q from outside the repository", leak)
				}
			}
			if r.stderr != "" {
				t.Errorf("stderr: %s", r.stderr)
			}
		})
	}
}

// credentialMarker is how each format names a literal-credential finding.
var credentialMarker = map[string]string{
	"text":   "error [literal-credential]",
	"json":   `"rule": "literal-credential"`,
	"junit":  `type="literal-credential"`,
	"sarif":  `"ruleId": "literal-credential"`,
	"github": "title=cairn literal-credential::",
}

// TestSecretsNeverLeak validates a repository holding two literal secrets in
// every format: each run fails and no output shows either value.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const password = "hunter2-super-secret"
	token := "ghp_" + strings.Repeat("aB3dE5gH9k", 4)[:36]
	adapter := strings.Replace(adapterJSON, `"environment": "prod"}`,
		`"environment": "prod", "annotations": {"owner-token": "`+token+`"}}`, 1)
	adapter = strings.Replace(adapter, `"tls": true}`,
		`"tls": true},
    "env": [{"name": "FIX_PASSWORD", "value": "`+password+`"}]`, 1)
	repo := newRepo(t, map[string]string{"adapters/prod/lse-fix-primary.json": adapter})
	for _, format := range report.Formats {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			r := cairn(t, "validate", "--output", format, repo)
			r.wantCode(t, 1)
			if n := strings.Count(r.stdout, credentialMarker[format]); n != 2 {
				t.Errorf("%d literal-credential findings, want one per secret:\n%s", n, r.stdout)
			}
			for _, secret := range []string{password, token, "hunter2", token[:12]} {
				if strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret) {
					t.Errorf("output shows %q:\nstdout:\n%s\nstderr:\n%s", secret, r.stdout, r.stderr)
				}
			}
		})
	}
}
