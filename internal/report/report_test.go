package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-gitops/cairn/internal/diag"
	"github.com/cairn-gitops/cairn/internal/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Files of the hand-built report. Their names carry what each format must
// escape: a comma, a colon and a percent sign (GitHub properties, SARIF),
// and a newline followed by a forged workflow command (a file name crafted
// to inject an annotation).
const (
	fileClean    = "adapters/prod/clean.json"
	filePrimary  = "adapters/prod/lse-fix-primary.json"
	fileOdd      = "adapters/uat/odd, name: 100%.json"
	fileInjected = "adapters/uat/evil\n::error file=x.json::forged.json"
	fileTypo     = "adapter/typo.json"
	fileSecurity = "security.json"
	fileRepo     = "cairn.json" // named only by a finding, not in Summary.Files
)

// oddMessage holds every character some format must escape: newline, carriage
// return, %, a literal "%0A" (so % must be escaped before newlines are),
// comma, colon, "::", both quotes, <, > and &.
const oddMessage = "value \"<b>&amp;</b>\" is 100% wrong: expected one of 'a,b' or a::b\r\nsecond line\nliteral %0A stays & ends <here>"

// sampleFindings exercises errors and warnings, a finding without a line,
// pointers with escaped tokens (~0 ~1) and messages that need escaping.
func sampleFindings() []diag.Finding {
	fs := []diag.Finding{
		{File: fileTypo, Line: 1, Column: 1, Rule: diag.RuleUnexpectedFile, Severity: diag.Warning,
			Message: "cairn reads no documents here; adapters go under adapters/, libraries under lib/"},
		{File: filePrimary, Line: 11, Column: 7, Pointer: "/metadata/annotations/cairn.dev~1owner~0team", Document: "Adapter/lse-fix-primary",
			Rule: diag.RuleLiteralCredential, Severity: diag.Error,
			Message: "value looks like a GitHub token; store it in a Kubernetes Secret and reference it with secretRef (the value is not shown here)"},
		{File: filePrimary, Line: 27, Column: 7, Pointer: "/spec/connect/port", Document: "Adapter/lse-fix-primary",
			Rule: diag.RuleSchema, Severity: diag.Error, Message: "expected integer, but got string"},
		{File: fileOdd, Line: 3, Column: 17, Pointer: "/metadata/annotations/a~1b~0c,d:e", Document: "Adapter/odd",
			Rule: diag.RuleSchema, Severity: diag.Error, Message: oddMessage},
		{File: fileInjected, Line: 2, Column: 3, Pointer: "/kind", Rule: diag.RuleUnknownKind, Severity: diag.Error,
			Message: "unknown kind \"Deployment\"; this file must hold an Adapter"},
		{File: fileSecurity, Line: 12, Column: 9, Pointer: "/spec/apiKeys/0/expires", Document: "SecurityConfig/security",
			Rule: diag.RuleExpired, Severity: diag.Warning, Message: "API key \"ci\" expired on 2024-01-31; remove it or issue a new one"},
		{File: fileRepo, Rule: diag.RuleMissingRepository, Severity: diag.Error,
			Message: "the repository has no cairn.json; add one (kind Repository) declaring the environments"},
	}
	diag.Sort(fs)
	return fs
}

func sampleSummary() report.Summary {
	return report.Summary{
		Files:     []string{fileClean, filePrimary, fileOdd, fileInjected, fileTypo, fileSecurity},
		Documents: 7,
		Version:   "v1.2.3-test",
	}
}

// reportCase is one input to every format.
type reportCase struct {
	name     string         // golden files are testdata/NAME.FORMAT.golden
	findings []diag.Finding // what the report is given
	summary  report.Summary // what was checked
}

func reportCases() []reportCase {
	return []reportCase{
		{name: "findings", findings: sampleFindings(), summary: sampleSummary()},
		{name: "empty", findings: nil, summary: report.Summary{Files: []string{"cairn.json", fileClean}, Documents: 2, Version: "v1.2.3-test"}},
	}
}

// write renders one format and fails the test on error.
func write(t *testing.T, format string, fs []diag.Finding, s report.Summary) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.Write(&buf, format, fs, s); err != nil {
		t.Fatalf("Write(%s): %v", format, err)
	}
	return buf.Bytes()
}

func TestWriteGolden(t *testing.T) {
	for _, c := range reportCases() {
		for _, format := range report.Formats {
			t.Run(c.name+"/"+format, func(t *testing.T) {
				got := write(t, format, c.findings, c.summary)
				golden := filepath.Join("testdata", c.name+"."+format+".golden")
				if *update {
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s output differs from %s (run go test -update if the change is intended)\n--- got\n%s\n--- want\n%s", format, golden, got, want)
				}
			})
		}
	}
}

func TestWriteJSON(t *testing.T) {
	tests := []struct {
		name      string         // subtest name
		findings  []diag.Finding // input
		wantValid bool           // the "valid" field
		wantErrs  int            // summary.errors
		wantWarns int            // summary.warnings
	}{
		{name: "errors and warnings", findings: sampleFindings(), wantValid: false, wantErrs: 5, wantWarns: 2},
		{name: "warnings only", findings: onlySeverity(sampleFindings(), diag.Warning), wantValid: true, wantErrs: 0, wantWarns: 2},
		{name: "nothing", findings: nil, wantValid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sampleSummary()
			var got report.JSONReport
			if err := json.Unmarshal(write(t, "json", tt.findings, s), &got); err != nil {
				t.Fatalf("output is not JSON: %v", err)
			}
			want := report.JSONSummary{Files: len(s.Files), Documents: s.Documents, Errors: tt.wantErrs, Warnings: tt.wantWarns}
			if got.Version != "v1" || got.Valid != tt.wantValid || got.Summary != want {
				t.Errorf("got version %q valid %v summary %+v; want v1, %v, %+v", got.Version, got.Valid, got.Summary, tt.wantValid, want)
			}
			wantFindings := tt.findings
			if wantFindings == nil {
				wantFindings = []diag.Finding{}
			}
			if !reflect.DeepEqual(got.Findings, wantFindings) {
				t.Errorf("findings do not round-trip:\ngot  %+v\nwant %+v", got.Findings, wantFindings)
			}
		})
	}
}

func onlySeverity(fs []diag.Finding, s diag.Severity) []diag.Finding {
	return slices.DeleteFunc(fs, func(f diag.Finding) bool { return f.Severity != s })
}

func TestWriteEmpty(t *testing.T) {
	for _, tt := range []struct {
		name     string         // subtest name
		findings []diag.Finding // nil and empty must read the same
	}{
		{name: "nil", findings: nil},
		{name: "empty", findings: []diag.Finding{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := report.Summary{Files: []string{"cairn.json"}, Documents: 1}
			text := string(write(t, "text", tt.findings, s))
			if want := "valid: 1 files, 1 documents, 0 errors, 0 warnings\n"; text != want {
				t.Errorf("text = %q, want %q", text, want)
			}
			js := write(t, "json", tt.findings, s)
			if !bytes.Contains(js, []byte(`"findings": []`)) {
				t.Errorf("json has no empty findings array:\n%s", js)
			}
			var got map[string]any
			if err := json.Unmarshal(js, &got); err != nil {
				t.Fatal(err)
			}
			if got["valid"] != true || got["findings"] == nil {
				t.Errorf("json valid = %v, findings = %v; want true and []", got["valid"], got["findings"])
			}
		})
	}
}

// junitDoc is what a JUnit consumer reads.
type junitDoc struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name     string `xml:"name,attr"`
			Failures []struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestWriteJUnit(t *testing.T) {
	fs, s := sampleFindings(), sampleSummary()
	var doc junitDoc
	if err := xml.Unmarshal(write(t, "junit", fs, s), &doc); err != nil {
		t.Fatalf("output is not XML: %v", err)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("got %d test suites, want 1", len(doc.Suites))
	}
	suite := doc.Suites[0]
	// One test case per file read or named by a finding; a file fails when it
	// has an error (warnings do not fail a build).
	files := map[string]bool{}
	for _, f := range s.Files {
		files[f] = true
	}
	failing := map[string][]diag.Finding{}
	for _, f := range fs {
		files[f.File] = true
		if f.Severity == diag.Error {
			failing[f.File] = append(failing[f.File], f)
		}
	}
	if suite.Tests != len(files) || len(suite.Cases) != len(files) || suite.Failures != len(failing) {
		t.Errorf("tests=%d cases=%d failures=%d; want %d, %d, %d", suite.Tests, len(suite.Cases), suite.Failures, len(files), len(files), len(failing))
	}
	seen := map[string]bool{}
	for _, c := range suite.Cases {
		seen[c.Name] = true
		want := failing[c.Name]
		if len(c.Failures) != len(want) {
			t.Errorf("case %q has %d failures, want %d", c.Name, len(c.Failures), len(want))
			continue
		}
		for i, f := range c.Failures {
			if f.Message != want[i].Message || f.Type != want[i].Rule || !strings.Contains(f.Text, want[i].Pointer) {
				t.Errorf("case %q failure %d = %+v; want message %q, type %q, text naming %q", c.Name, i, f, want[i].Message, want[i].Rule, want[i].Pointer)
			}
		}
	}
	for _, f := range []string{fileClean, fileTypo, fileRepo} {
		if !seen[f] {
			t.Errorf("no test case for %q", f)
		}
	}
}

// sarifDoc is what a code-scanning tool reads.
type sarifDoc struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name    string `json:"name"`
				Version string `json:"version"`
				Rules   []struct {
					ID                   string `json:"id"`
					DefaultConfiguration struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    *string `json:"ruleId"`
			RuleIndex *int    `json:"ruleIndex"`
			Level     string  `json:"level"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				Physical struct {
					Artifact struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region *struct {
						StartLine   int `json:"startLine"`
						StartColumn int `json:"startColumn"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
		} `json:"results"`
	} `json:"runs"`
}

func TestWriteSARIF(t *testing.T) {
	fs, s := sampleFindings(), sampleSummary()
	var doc sarifDoc
	if err := json.Unmarshal(write(t, "sarif", fs, s), &doc); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if doc.Version != "2.1.0" || len(doc.Runs) != 1 {
		t.Fatalf("version %q with %d runs; want 2.1.0 with 1", doc.Version, len(doc.Runs))
	}
	run := doc.Runs[0]
	if d := run.Tool.Driver; d.Name != "cairn" || d.Version != s.Version {
		t.Errorf("driver %q %q; want cairn %q", d.Name, d.Version, s.Version)
	}
	ids := map[string]bool{}
	for _, r := range run.Tool.Driver.Rules {
		if ids[r.ID] {
			t.Errorf("rule %q listed twice", r.ID)
		}
		ids[r.ID] = true
		if dr, ok := diag.Lookup(r.ID); !ok || r.DefaultConfiguration.Level != string(dr.Severity) {
			t.Errorf("rule %q: default level %q, catalogue severity %q (known %v)", r.ID, r.DefaultConfiguration.Level, dr.Severity, ok)
		}
	}
	if len(run.Results) != len(fs) {
		t.Fatalf("got %d results, want %d", len(run.Results), len(fs))
	}
	levels := map[diag.Severity]string{diag.Error: "error", diag.Warning: "warning"}
	for i, r := range run.Results {
		f := fs[i]
		if r.RuleID == nil || *r.RuleID != f.Rule || r.RuleIndex == nil {
			t.Errorf("result %d: ruleId %v ruleIndex %v; want %q and an index", i, r.RuleID, r.RuleIndex, f.Rule)
			continue
		}
		rules := run.Tool.Driver.Rules
		if *r.RuleIndex < 0 || *r.RuleIndex >= len(rules) || rules[*r.RuleIndex].ID != f.Rule {
			t.Errorf("result %d (%s): ruleIndex %d does not point at its rule", i, f.Rule, *r.RuleIndex)
		}
		if r.Level != levels[f.Severity] {
			t.Errorf("result %d: level %q for severity %q", i, r.Level, f.Severity)
		}
		if !strings.Contains(r.Message.Text, f.Message) || !strings.Contains(r.Message.Text, f.Pointer) {
			t.Errorf("result %d: message %q does not hold %q and %q", i, r.Message.Text, f.Message, f.Pointer)
		}
		if len(r.Locations) != 1 {
			t.Errorf("result %d: locations %+v, want one at %q", i, r.Locations, f.File)
			continue
		}
		if u, err := url.Parse(r.Locations[0].Physical.Artifact.URI); err != nil || u.Path != f.File {
			t.Errorf("result %d: artifact URI %q is not the file %q as a relative URI (%v)", i, r.Locations[0].Physical.Artifact.URI, f.File, err)
			continue
		}
		reg := r.Locations[0].Physical.Region
		switch {
		case f.Line == 0 && reg != nil:
			t.Errorf("result %d: region %+v for a finding without a line", i, *reg)
		case f.Line > 0 && (reg == nil || reg.StartLine != f.Line || reg.StartColumn != f.Column):
			t.Errorf("result %d: region %+v, want line %d column %d", i, reg, f.Line, f.Column)
		}
	}
}

// ghUnescape undoes GitHub's workflow-command escaping the way the runner
// does: %25 %0D %0A in data, and also %3A %2C in properties.
var ghUnescape = strings.NewReplacer("%25", "%", "%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",")

// ghCommand is one parsed workflow command.
type ghCommand struct {
	name  string            // error or warning
	props map[string]string // unescaped properties
	data  string            // unescaped message
}

// parseGitHub splits one line the way the Actions runner does: the
// properties end at the first "::" after the command name.
func parseGitHub(t *testing.T, line string) ghCommand {
	t.Helper()
	head, data, ok := strings.Cut(strings.TrimPrefix(line, "::"), "::")
	if !ok {
		t.Fatalf("not a workflow command: %q", line)
	}
	name, props, _ := strings.Cut(head, " ")
	c := ghCommand{name: name, props: map[string]string{}, data: ghUnescape.Replace(data)}
	if strings.Contains(data, "\r") || hasBareEscape(data, "%25", "%0D", "%0A") {
		t.Errorf("data badly escaped: %q", data)
	}
	for _, p := range strings.Split(props, ",") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.Contains(v, ":") || hasBareEscape(v, "%25", "%0D", "%0A", "%3A", "%2C") {
			t.Errorf("property %q badly escaped in %q", p, line)
		}
		c.props[k] = ghUnescape.Replace(v)
	}
	return c
}

// hasBareEscape reports a % that does not start one of the escapes.
func hasBareEscape(s string, escapes ...string) bool {
	for i := strings.IndexByte(s, '%'); i >= 0; i = strings.IndexByte(s, '%') {
		if !slices.ContainsFunc(escapes, func(e string) bool { return strings.HasPrefix(s[i:], e) }) {
			return true
		}
		s = s[i+1:]
	}
	return false
}

func TestWriteGitHub(t *testing.T) {
	fs, s := sampleFindings(), sampleSummary()
	out := string(write(t, "github", fs, s))
	var commands []string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if strings.HasPrefix(line, "::") {
			commands = append(commands, line)
		}
	}
	if len(commands) != len(fs) {
		t.Fatalf("got %d workflow commands for %d findings:\n%s", len(commands), len(fs), out)
	}
	for i, line := range commands {
		f, c := fs[i], parseGitHub(t, line)
		if c.name != string(f.Severity) {
			t.Errorf("command %d is ::%s, want ::%s", i, c.name, f.Severity)
		}
		if c.props["file"] != f.File {
			t.Errorf("command %d: file %q, want %q", i, c.props["file"], f.File)
		}
		wantLine, wantCol := "", ""
		if f.Line > 0 {
			wantLine, wantCol = strconv.Itoa(f.Line), strconv.Itoa(f.Column)
		}
		if c.props["line"] != wantLine || c.props["col"] != wantCol {
			t.Errorf("command %d: line %q col %q, want %q %q", i, c.props["line"], c.props["col"], wantLine, wantCol)
		}
		if !strings.Contains(c.props["title"], f.Rule) {
			t.Errorf("command %d: title %q does not name rule %q", i, c.props["title"], f.Rule)
		}
		if !strings.HasPrefix(c.data, f.Message) || !strings.Contains(c.data, f.Pointer) {
			t.Errorf("command %d: message %q, want %q at %q", i, c.data, f.Message, f.Pointer)
		}
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	var buf bytes.Buffer
	err := report.Write(&buf, "yaml", sampleFindings(), sampleSummary())
	if err == nil || !strings.Contains(err.Error(), `"yaml"`) {
		t.Errorf("Write(yaml) = %v, want an error naming the format", err)
	}
	if buf.Len() != 0 {
		t.Errorf("Write(yaml) wrote %q", buf.String())
	}
}
