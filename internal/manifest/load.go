package manifest

import (
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/cairn-gitops/cairn/internal/diag"
)

// APIVersion is the apiVersion every document must carry.
const APIVersion = "cairn.dev/v1alpha1"

var knownKinds = map[string]bool{"Repository": true, "Adapter": true, "SecurityConfig": true, "ChangePolicy": true}

// LoadFile reads the documents of one entry. Problems with the file or a
// document's envelope (apiVersion, kind) are findings; such a document is
// not returned. It is safe to call concurrently.
func LoadFile(ctx context.Context, fsys fs.FS, e Entry, opts Options) ([]*Document, []diag.Finding) {
	opts = opts.withDefaults()
	b, f := readFile(fsys, e.Path, opts.MaxFileBytes)
	if f != nil {
		return nil, []diag.Finding{*f}
	}
	if b, f = checkText(e.Path, b); f != nil {
		return nil, []diag.Finding{*f}
	}
	if e.Format == FormatJsonnet {
		return loadJsonnet(ctx, fsys, e, b, opts)
	}
	return loadJSON(e, b, opts)
}

func loadJSON(e Entry, b []byte, opts Options) ([]*Document, []diag.Finding) {
	v, dups, err := parseJSON(b, opts.MaxDepth)
	if err != nil {
		return nil, []diag.Finding{syntaxFinding(e.Path, b, err)}
	}
	locate := func(ptr string) Position { return lineCol(b, locateJSON(b, ptr)) }
	var findings []diag.Finding
	for _, d := range dups {
		pos := lineCol(b, d.Offset)
		findings = append(findings, diag.Finding{File: e.Path, Line: pos.Line, Column: pos.Column, Pointer: d.Pointer,
			Rule: diag.RuleDuplicateKey, Severity: diag.Error,
			Message: "key appears more than once in this object; decoders keep only the last"})
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, append(findings, diag.Finding{File: e.Path, Line: 1, Column: 1, Rule: diag.RuleNotADocument, Severity: diag.Error,
			Message: fmt.Sprintf("expected a JSON object holding %s, found %s", article(e.Kind), typeName(v))})
	}
	doc := &Document{File: e.Path, Value: m, Sources: []string{e.Path}, raw: b, locate: locate}
	if bad := checkEnvelope(doc, e.Kind); len(bad) > 0 {
		return nil, append(findings, bad...)
	}
	return []*Document{doc}, findings
}

// checkEnvelope fills Kind and Name and checks apiVersion and kind.
func checkEnvelope(d *Document, want string) []diag.Finding {
	meta, _ := d.Value["metadata"].(map[string]any)
	d.Name, _ = meta["name"].(string)
	kind, _ := d.Value["kind"].(string)
	d.Kind = kind
	at := func(ptr, rule, msg string) diag.Finding {
		pos := d.Position(ptr)
		return diag.Finding{File: d.File, Line: pos.Line, Column: pos.Column, Pointer: ptr, Document: d.Ref(),
			Rule: rule, Severity: diag.Error, Message: msg}
	}
	var out []diag.Finding
	if av, _ := d.Value["apiVersion"].(string); av != APIVersion {
		msg := fmt.Sprintf("apiVersion must be %q", APIVersion)
		if av != "" {
			msg = fmt.Sprintf("apiVersion %q is not supported; use %q", av, APIVersion)
		}
		out = append(out, at("/apiVersion", diag.RuleAPIVersion, msg))
	}
	switch {
	case kind == "":
		out = append(out, at("/kind", diag.RuleUnknownKind, fmt.Sprintf("missing kind; this file must hold %s", article(want))))
	case !knownKinds[kind]:
		out = append(out, at("/kind", diag.RuleUnknownKind, fmt.Sprintf("unknown kind %q; this file must hold %s", kind, article(want))))
	case kind != want:
		out = append(out, at("/kind", diag.RuleWrongKind, fmt.Sprintf("%s does not belong in %s; this file must hold %s", article(kind), d.File, article(want))))
	}
	return out
}

func syntaxFinding(file string, b []byte, err error) diag.Finding {
	rule, off, msg := diag.RuleSyntax, 0, err.Error()
	if se, ok := err.(*SyntaxError); ok {
		off, msg = se.Offset, se.Msg
		if se.Deep {
			rule = diag.RuleTooDeep
		}
	}
	pos := lineCol(b, off)
	return diag.Finding{File: file, Line: pos.Line, Column: pos.Column, Rule: rule, Severity: diag.Error, Message: msg}
}

func typeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	default:
		return "a number"
	}
}

// article prefixes a kind with "a" or "an".
func article(kind string) string {
	if kind != "" && strings.ContainsRune("AEIOU", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}
