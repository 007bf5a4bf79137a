// Package validate decides whether a config repository may be applied: it
// loads every document (internal/manifest), checks each against its JSON
// Schema (schema), scans every value for literal credentials, decodes the
// documents strictly into their Go types, and applies the rules that span
// documents (unique names, declared environments, free ports, restricted
// acceptors, references between documents).
//
// Every problem is a diag.Finding naming file, line, column and JSON
// pointer, and every problem of a repository is reported in one run. A
// revision with any error-severity finding must not be applied; the Result
// carries the decoded documents only for the caller's use when it is valid.
// Findings never quote a value that looks like a credential.
package validate
