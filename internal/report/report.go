// Package report writes validation findings in the formats CI systems and
// people read: text, json, junit, sarif and github (workflow annotations).
//
// It formats what it is given and decides nothing: the findings already say
// file, line, column, pointer, rule, severity and message. The JSON shape is
// versioned ("version": "v1") and only grows.
package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/cairn-gitops/cairn/internal/diag"
)

// Formats lists the output formats, for flag help and validation.
var Formats = []string{"text", "json", "junit", "sarif", "github"}

// Summary describes what was checked.
type Summary struct {
	// Files are the repository-relative paths that were read.
	Files []string
	// Documents is how many documents the files held.
	Documents int
	// Version is cairn's version, for SARIF's tool section.
	Version string
}

// Write writes findings in format to w.
func Write(w io.Writer, format string, findings []diag.Finding, s Summary) error {
	switch format {
	case "text":
		return writeText(w, findings, s)
	case "json":
		return writeJSON(w, findings, s)
	case "junit":
		return writeJUnit(w, findings, s)
	case "sarif":
		return writeSARIF(w, findings, s)
	case "github":
		return writeGitHub(w, findings, s)
	}
	return fmt.Errorf("unknown output format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

func counts(findings []diag.Finding) (errs, warns int) {
	errs = diag.Errors(findings)
	return errs, len(findings) - errs
}

func location(f diag.Finding) string {
	switch {
	case f.Line > 0:
		return fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column)
	default:
		return f.File
	}
}

// oneLine keeps a value on its line: a file name or message holding a line
// break could otherwise forge a line of its own (a GitHub workflow command
// such as "::warning", read from the text output of a CI step).
var oneLine = strings.NewReplacer("\r", `\r`, "\n", `\n`)

func writeText(w io.Writer, findings []diag.Finding, s Summary) error {
	var b strings.Builder
	for _, f := range findings {
		fmt.Fprintf(&b, "%s: %s [%s] %s", oneLine.Replace(location(f)), f.Severity, f.Rule, oneLine.Replace(f.Message))
		if f.Pointer != "" {
			fmt.Fprintf(&b, " (at %s)", oneLine.Replace(f.Pointer))
		}
		b.WriteByte('\n')
	}
	errs, warns := counts(findings)
	verdict := "valid"
	if errs > 0 {
		verdict = "invalid"
	}
	fmt.Fprintf(&b, "%s: %d files, %d documents, %d errors, %d warnings\n", verdict, len(s.Files), s.Documents, errs, warns)
	_, err := io.WriteString(w, b.String())
	return err
}

// JSONReport is the documented shape of `--output json`.
type JSONReport struct {
	Version  string         `json:"version"`
	Valid    bool           `json:"valid"`
	Summary  JSONSummary    `json:"summary"`
	Findings []diag.Finding `json:"findings"`
}

// JSONSummary counts what was checked and found.
type JSONSummary struct {
	Files     int `json:"files"`
	Documents int `json:"documents"`
	Errors    int `json:"errors"`
	Warnings  int `json:"warnings"`
}

func writeJSON(w io.Writer, findings []diag.Finding, s Summary) error {
	errs, warns := counts(findings)
	if findings == nil {
		findings = []diag.Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(JSONReport{
		Version: "v1", Valid: errs == 0,
		Summary:  JSONSummary{Files: len(s.Files), Documents: s.Documents, Errors: errs, Warnings: warns},
		Findings: findings,
	})
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string         `xml:"name,attr"`
	Classname string         `xml:"classname,attr"`
	Failures  []junitFailure `xml:"failure"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes one test case per file; each error finding is a failure.
func writeJUnit(w io.Writer, findings []diag.Finding, s Summary) error {
	byFile := map[string][]diag.Finding{}
	files := append([]string(nil), s.Files...)
	for _, f := range findings {
		if _, ok := byFile[f.File]; !ok && !contains(files, f.File) {
			files = append(files, f.File)
		}
		byFile[f.File] = append(byFile[f.File], f)
	}
	sort.Strings(files)
	suite := junitSuite{Name: "cairn validate"}
	for _, file := range files {
		c := junitCase{Name: file, Classname: "cairn.validate"}
		for _, f := range byFile[file] {
			if f.Severity != diag.Error {
				continue
			}
			text := fmt.Sprintf("%s: [%s] %s", location(f), f.Rule, f.Message)
			if f.Pointer != "" {
				text += fmt.Sprintf(" (at %s)", f.Pointer)
			}
			c.Failures = append(c.Failures, junitFailure{Message: f.Message, Type: f.Rule, Text: text})
		}
		if len(c.Failures) > 0 {
			suite.Failures++
		}
		suite.Cases = append(suite.Cases, c)
	}
	suite.Tests = len(suite.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{suite}}); err != nil {
		return fmt.Errorf("encode junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// writeGitHub writes workflow commands that GitHub Actions shows as
// annotations on the pull request's files.
func writeGitHub(w io.Writer, findings []diag.Finding, s Summary) error {
	var b strings.Builder
	for _, f := range findings {
		cmd := "error"
		if f.Severity == diag.Warning {
			cmd = "warning"
		}
		fmt.Fprintf(&b, "::%s file=%s", cmd, ghProperty(f.File))
		if f.Line > 0 {
			fmt.Fprintf(&b, ",line=%d,col=%d", f.Line, f.Column)
		}
		msg := f.Message
		if f.Pointer != "" {
			msg += " (at " + f.Pointer + ")"
		}
		fmt.Fprintf(&b, ",title=%s::%s\n", ghProperty("cairn "+f.Rule), ghData(msg))
	}
	errs, warns := counts(findings)
	fmt.Fprintf(&b, "cairn validate: %d files, %d documents, %d errors, %d warnings\n", len(s.Files), s.Documents, errs, warns)
	_, err := io.WriteString(w, b.String())
	return err
}

func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
