// Package diag defines a finding (one problem in a config repository, named
// by file, line, column, JSON pointer and rule) and the catalogue of rules
// that produce findings.
//
// Every layer that reads a repository (loading, schema validation, domain
// rules) reports through this one type, so that every output format (text,
// JSON, JUnit, SARIF, GitHub annotations) shows the same facts. A finding
// never carries a secret value: rules that detect one say where it is, not
// what it is.
package diag

import (
	"cmp"
	"slices"
)

// Severity says whether a finding blocks a revision.
type Severity string

// Severities. An error blocks the revision; a warning is reported only.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Finding is one problem found in a repository.
type Finding struct {
	// File is the repository-relative, slash-separated path the finding is in.
	// For a document produced by Jsonnet it is the .jsonnet file.
	File string `json:"file"`
	// Line and Column are 1-based; Column counts characters. Zero when unknown.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Pointer is the RFC 6901 JSON pointer of the value, "" for the whole document.
	Pointer string `json:"pointer"`
	// Document is "Kind/name" of the document, when it could be read.
	Document string `json:"document,omitempty"`
	// Rule is the stable code of the rule that produced the finding.
	Rule string `json:"rule"`
	// Severity is error or warning.
	Severity Severity `json:"severity"`
	// Message says what is wrong and, where it helps, what to do.
	Message string `json:"message"`
}

// Sort orders findings by file, line, column, pointer, rule and message, so
// that output is stable from run to run.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.Pointer, b.Pointer),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// Errors counts the findings of severity Error.
func Errors(fs []Finding) int {
	n := 0
	for _, f := range fs {
		if f.Severity == Error {
			n++
		}
	}
	return n
}
