package manifest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cairn-gitops/cairn/internal/diag"
)

const adapterJSON = `{"apiVersion":"cairn.dev/v1alpha1","kind":"Adapter","metadata":{"name":"a","environment":"uat"},"spec":{}}`

// loadAll walks fsys and loads every entry, returning documents and findings.
func loadAll(t *testing.T, fsys fstest.MapFS, opts Options) ([]*Document, []diag.Finding) {
	t.Helper()
	entries, findings, err := Walk(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var docs []*Document
	for _, e := range entries {
		d, f := LoadFile(context.Background(), fsys, e, opts)
		docs = append(docs, d...)
		findings = append(findings, f...)
	}
	return docs, findings
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

// only asserts exactly one finding with the given rule, file and position.
func only(t *testing.T, fs []diag.Finding, rule, path string, line, col int, msg string) {
	t.Helper()
	if len(fs) != 1 {
		t.Fatalf("want one finding, got %+v", fs)
	}
	f := fs[0]
	if f.Rule != rule || f.File != path || (line > 0 && (f.Line != line || f.Column != col)) || !strings.Contains(f.Message, msg) {
		t.Fatalf("got %+v; want rule %s at %s:%d:%d containing %q", f, rule, path, line, col, msg)
	}
}

func TestWalkClassifiesFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"cairn.json":                 file(`{}`),
		"security.json":              file(`{}`),
		"policy.json":                file(`{}`),
		"adapters/prod/a.json":       file(`{}`),
		"adapters/b.jsonnet":         file(`[]`),
		"adapters/helpers.libsonnet": file(`{}`),
		"lib/x.libsonnet":            file(`{}`),
		"README.md":                  file(`# hi`),
		".github/workflows/ci.json":  file(`{}`),
		"stray/adapter.json":         file(`{}`),
	}
	entries, findings, err := Walk(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Path+"="+e.Kind)
	}
	want := []string{"adapters/b.jsonnet=Adapter", "adapters/prod/a.json=Adapter", "cairn.json=Repository", "policy.json=ChangePolicy", "security.json=SecurityConfig"}
	if !slices.Equal(got, want) {
		t.Errorf("entries: got %v, want %v", got, want)
	}
	only(t, findings, diag.RuleUnexpectedFile, "stray/adapter.json", 1, 1, "adapters go under adapters/")
}

func TestLoadJSONFindings(t *testing.T) {
	tests := []struct {
		name      string
		data      string
		rule      string
		line, col int
		msg       string
		docs      int // documents still returned for further checks
	}{
		{"truncated", "{\n  \"kind\": \"Adapter\",\n  \"spec\": {", diag.RuleSyntax, 3, 12, "truncated", 0},
		{"not an object", `[1, 2]`, diag.RuleNotADocument, 1, 1, "found an array", 0},
		{"wrong api version", `{"apiVersion":"v1","kind":"Adapter","metadata":{"name":"a"}}`, diag.RuleAPIVersion, 1, 2, `"v1" is not supported`, 0},
		{"missing kind", `{"apiVersion":"cairn.dev/v1alpha1"}`, diag.RuleUnknownKind, 1, 1, "missing kind", 0},
		{"unknown kind", `{"apiVersion":"cairn.dev/v1alpha1","kind":"Deployment"}`, diag.RuleUnknownKind, 1, 36, `unknown kind "Deployment"`, 0},
		{"wrong kind", `{"apiVersion":"cairn.dev/v1alpha1","kind":"SecurityConfig"}`, diag.RuleWrongKind, 1, 36, "must hold an Adapter", 0},
		{"duplicate key", "{\"apiVersion\":\"cairn.dev/v1alpha1\",\n\"kind\":\"Adapter\",\"kind\":\"Adapter\"}", diag.RuleDuplicateKey, 2, 18, "more than once", 1},
		{"not utf-8", "{\"kind\":\n\"Ad\xffapter\"}", diag.RuleEncoding, 2, 4, "invalid UTF-8", 0},
		{"deep", strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000), diag.RuleTooDeep, 1, 321, "nesting deeper than 64", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, fs := loadAll(t, fstest.MapFS{"adapters/x.json": file(tt.data)}, Options{})
			if want := tt.docs; len(docs) != want {
				t.Errorf("want %d documents, got %d", want, len(docs))
			}
			only(t, fs, tt.rule, "adapters/x.json", tt.line, tt.col, tt.msg)
		})
	}
}

func TestLoadJSONTooLargeIsNotReadWhole(t *testing.T) {
	big := `{"a":"` + strings.Repeat("x", 50<<20) + `"}`
	_, fs := loadAll(t, fstest.MapFS{"adapters/big.json": file(big)}, Options{})
	only(t, fs, diag.RuleTooLarge, "adapters/big.json", 1, 1, "larger than the limit")
}

func TestLoadJSONDocument(t *testing.T) {
	docs, fs := loadAll(t, fstest.MapFS{"adapters/a.json": file("\xEF\xBB\xBF" + adapterJSON)}, Options{})
	if len(fs) != 0 || len(docs) != 1 {
		t.Fatalf("docs %d findings %+v", len(docs), fs)
	}
	d := docs[0]
	if d.Kind != "Adapter" || d.Name != "a" || d.Ref() != "Adapter/a" || !slices.Equal(d.Sources, []string{"adapters/a.json"}) {
		t.Errorf("got %+v", d)
	}
	if p := d.Position("/metadata/environment"); p != (Position{1, 76}) {
		t.Errorf("position %+v", p)
	}
	var into struct {
		Kind string `json:"kind"`
	}
	if err := d.Decode(&into); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("strict decoding must reject unknown fields, got %v", err)
	}
}

func TestLoadJsonnet(t *testing.T) {
	fsys := fstest.MapFS{
		"lib/session.libsonnet":   file(`{ make(name, port):: { apiVersion: 'cairn.dev/v1alpha1', kind: 'Adapter', metadata: { name: name, environment: 'uat' }, spec: { listen: { port: port } } } }`),
		"adapters/family.jsonnet": file("local s = import 'session.libsonnet';\n[\n  s.make('a', 1),\n  s.make('b', 2),\n]\n"),
		"adapters/one.jsonnet":    file("{\n  apiVersion: 'cairn.dev/v1alpha1',\n  kind: 'Adapter',\n  metadata: { name: 'c', environment: 'uat' },\n  spec: {\n    listen: {\n      port: 3,\n    },\n  },\n}\n"),
	}
	docs, fs := loadAll(t, fsys, Options{})
	if len(fs) != 0 || len(docs) != 3 {
		t.Fatalf("docs %d findings %+v", len(docs), fs)
	}
	byName := map[string]*Document{}
	for _, d := range docs {
		byName[d.Name] = d
	}
	b := byName["b"]
	if b.File != "adapters/family.jsonnet" || b.Index != 1 || !slices.Equal(b.Sources, []string{"adapters/family.jsonnet", "lib/session.libsonnet"}) {
		t.Errorf("b: %+v", b)
	}
	if p := b.Position("/kind"); p != (Position{4, 3}) {
		t.Errorf("a pointer with no field in the file falls back to the list element, got %+v", p)
	}
	if p := byName["c"].Position("/spec/listen/port"); p != (Position{7, 7}) {
		t.Errorf("port position %+v", p)
	}
	if p := byName["c"].Position("/spec/listen/allowedSources/0"); p != (Position{6, 5}) {
		t.Errorf("missing field falls back to its parent, got %+v", p)
	}
}

func TestJsonnetBadInput(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("s3cr3t"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		src  string
		rule string
		msg  string
	}{
		{"syntax", "{ a: }", diag.RuleJsonnet, "Unexpected"},
		{"runtime error", "error 'boom'", diag.RuleJsonnet, "boom"},
		{"infinite recursion", "local f(x) = f(x + 1) + 1; f(0)", diag.RuleJsonnet, "stack overflow"},
		{"tail-call loop", "local f(x) = f(x) tailstrict; f(0)", diag.RuleJsonnet, "Go stack overflow"},
		{"long computation", "local f(n) = if n == 0 then 0 else f(n - 1) + 1; std.foldl(function(a, i) a + f(400), std.range(1, 1000000), 0)", diag.RuleJsonnet, "did not finish within"},
		{"import cycle", "import 'cycle.jsonnet'", diag.RuleJsonnet, ""},
		{"importstr /etc/passwd", "importstr '/etc/passwd'", diag.RuleImportEscape, "absolute paths are outside the repository"},
		{"import outside", "importstr '../../" + filepath.Base(outside) + "/secret.txt'", diag.RuleImportEscape, "leads outside the repository"},
		{"import missing", "import 'nope.libsonnet'", diag.RuleJsonnet, "no such file"},
		{"a string", "'just a string'", diag.RuleNotADocument, "not a string"},
		{"list of numbers", "[1]", diag.RuleNotADocument, "element 0 is a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"adapters/x.jsonnet":     file(tt.src),
				"adapters/cycle.jsonnet": &fstest.MapFile{Data: []byte("import 'cycle.jsonnet'")},
			}
			start := time.Now()
			e := Entry{Path: "adapters/x.jsonnet", Kind: "Adapter", Format: FormatJsonnet}
			docs, fs := LoadFile(context.Background(), fsys, e, Options{JsonnetTimeout: 5 * time.Second})
			if len(docs) != 0 {
				t.Fatalf("no document may be returned, got %d", len(docs))
			}
			if len(fs) != 1 || fs[0].Rule != tt.rule || !strings.Contains(fs[0].Message, tt.msg) {
				t.Fatalf("got %+v, want one %s finding containing %q", fs, tt.rule, tt.msg)
			}
			if fs[0].Line < 1 {
				t.Errorf("finding has no line: %+v", fs[0])
			}
			if strings.Contains(fs[0].Message, "s3cr3t") {
				t.Errorf("a file outside the repository leaked into the finding")
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}
