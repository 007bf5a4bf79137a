package manifest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/google/go-jsonnet"
	"github.com/google/go-jsonnet/ast"

	"github.com/cairn-gitops/cairn/internal/diag"
)

// loadJsonnet evaluates a Jsonnet program that yields one Adapter or a list.
func loadJsonnet(ctx context.Context, fsys fs.FS, e Entry, src []byte, opts Options) ([]*Document, []diag.Finding) {
	out, deps, f := evalJsonnet(ctx, fsys, e.Path, src, opts)
	if f != nil {
		return nil, []diag.Finding{*f}
	}
	if int64(len(out)) > opts.MaxFileBytes {
		return nil, []diag.Finding{fileFinding(e.Path, diag.RuleTooLarge, fmt.Sprintf("Jsonnet output is larger than the limit of %d bytes", opts.MaxFileBytes))}
	}
	v, _, err := parseJSON([]byte(out), opts.MaxDepth)
	if err != nil {
		return nil, []diag.Finding{fileFinding(e.Path, diag.RuleTooDeep, "Jsonnet output: "+err.(*SyntaxError).Msg)}
	}
	loc := newJsonnetLocator(e.Path, string(src))
	var values []any
	switch t := v.(type) {
	case map[string]any:
		values = []any{t}
	case []any:
		values = t
	default:
		return nil, []diag.Finding{fileFinding(e.Path, diag.RuleNotADocument, "Jsonnet must yield an Adapter object or a list of them, not "+typeName(v))}
	}
	var docs []*Document
	var findings []diag.Finding
	for i, item := range values {
		m, ok := item.(map[string]any)
		if !ok {
			pos := loc.element(i)
			findings = append(findings, diag.Finding{File: e.Path, Line: pos.Line, Column: pos.Column, Pointer: fmt.Sprintf("/%d", i),
				Rule: diag.RuleNotADocument, Severity: diag.Error, Message: fmt.Sprintf("element %d is %s, not an Adapter object", i, typeName(item))})
			continue
		}
		idx := i
		d := &Document{File: e.Path, Index: i, Value: m, Sources: deps,
			locate: func(ptr string) Position { return loc.position(idx, ptr) }}
		if bad := checkEnvelope(d, e.Kind); len(bad) > 0 {
			findings = append(findings, bad...)
			continue
		}
		docs = append(docs, d)
	}
	return docs, findings
}

// evalJsonnet runs one program with imports confined to the repository and
// bounded stack, time and memory. It returns the JSON output and the files
// read. Unless opts.JsonnetInProcess is set it runs the program in a child
// process (see sandbox.go), because go-jsonnet cannot be interrupted and a
// hostile program can exhaust the Go stack, which no recover can catch.
func evalJsonnet(ctx context.Context, fsys fs.FS, file string, src []byte, opts Options) (string, []string, *diag.Finding) {
	imp := &importer{fsys: fsys, max: opts.MaxFileBytes, deps: map[string]bool{file: true}}
	ctx, cancel := context.WithTimeout(ctx, opts.JsonnetTimeout)
	defer cancel()
	var out string
	var f *diag.Finding
	if opts.JsonnetInProcess {
		out, f = evalInProcess(ctx, imp, file, src, opts.JsonnetMaxStack)
	} else {
		out, f = evalInChild(ctx, imp, file, src, opts.JsonnetMaxStack)
	}
	if f != nil {
		if ctx.Err() == context.DeadlineExceeded {
			t := fileFinding(file, diag.RuleJsonnet, fmt.Sprintf("evaluation did not finish within %s (infinite recursion?)", opts.JsonnetTimeout))
			return "", nil, &t
		}
		if imp.escape() != "" {
			f.Rule = diag.RuleImportEscape
		}
		return "", nil, f
	}
	return out, imp.sources(), nil
}

// evalInProcess evaluates in a goroutine of this process. On timeout the
// evaluation is abandoned; its goroutine runs on until it ends by itself.
func evalInProcess(ctx context.Context, imp *importer, file string, src []byte, maxStack int) (string, *diag.Finding) {
	type result struct {
		out string
		f   *diag.Finding
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				f := fileFinding(file, diag.RuleJsonnet, fmt.Sprintf("evaluation failed: %v", r))
				done <- result{f: &f}
			}
		}()
		out, f := evaluate(file, src, maxStack, imp)
		done <- result{out, f}
	}()
	select {
	case r := <-done:
		return r.out, r.f
	case <-ctx.Done():
		f := fileFinding(file, diag.RuleJsonnet, fmt.Sprintf("evaluation cancelled: %v", ctx.Err()))
		return "", &f
	}
}

// evaluate runs the program on a fresh VM whose imports go through imp.
func evaluate(file string, src []byte, maxStack int, imp jsonnet.Importer) (string, *diag.Finding) {
	ef := &errorCapture{}
	vm := jsonnet.MakeVM()
	vm.MaxStack = maxStack
	vm.Importer(imp)
	vm.ErrorFormatter = ef
	out, err := vm.EvaluateAnonymousSnippet(file, string(src))
	if err != nil {
		f := ef.finding(file, err)
		return "", &f
	}
	return out, nil
}

// importer resolves imports relative to the importing file, then under lib/,
// and never outside the repository.
type importer struct {
	fsys fs.FS
	max  int64

	mu       sync.Mutex
	deps     map[string]bool
	escaped  string
	contents map[string]jsonnet.Contents
}

// Import implements jsonnet.Importer.
func (im *importer) Import(importedFrom, importedPath string) (jsonnet.Contents, string, error) {
	b, foundAt, err := im.lookup(importedFrom, importedPath)
	if err != nil {
		return jsonnet.Contents{}, "", err
	}
	im.mu.Lock()
	defer im.mu.Unlock()
	c, ok := im.contents[foundAt]
	if !ok {
		c = jsonnet.MakeContentsRaw(b)
		if im.contents == nil {
			im.contents = map[string]jsonnet.Contents{}
		}
		im.contents[foundAt] = c
	}
	return c, foundAt, nil
}

// lookup finds and reads an import: next to the importing file, then under
// lib/; never outside the repository and never through a symbolic link.
func (im *importer) lookup(importedFrom, importedPath string) ([]byte, string, error) {
	if path.IsAbs(importedPath) {
		return nil, "", im.refuse(importedPath, "absolute paths are outside the repository")
	}
	candidates := []string{path.Join(path.Dir(importedFrom), importedPath), path.Join(LibDir, importedPath)}
	for _, c := range candidates {
		if c == ".." || strings.HasPrefix(c, "../") {
			return nil, "", im.refuse(importedPath, "it leads outside the repository")
		}
		info, err := lstatNoLinks(im.fsys, c)
		if errors.Is(err, errLink) {
			return nil, "", im.refuse(importedPath, "its path goes through a symbolic link, which cairn never follows")
		}
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		return im.read(c)
	}
	return nil, "", fmt.Errorf("import %q: no such file next to %s or under %s/", importedPath, importedFrom, LibDir)
}

// errLink means a path goes through a symbolic link.
var errLink = errors.New("symbolic link in path")

// lstatNoLinks stats p, refusing a symbolic link at any element of it: a
// linked directory ("lib -> /etc") leads outside the repository as surely as
// a linked file.
func lstatNoLinks(fsys fs.FS, p string) (fs.FileInfo, error) {
	var info fs.FileInfo
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		var err error
		if info, err = fs.Lstat(fsys, p[:i]); err != nil {
			return nil, err
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			return nil, errLink
		}
	}
	return info, nil
}

func (im *importer) read(p string) ([]byte, string, error) {
	b, f := readFile(im.fsys, p, im.max)
	if f != nil {
		return nil, "", fmt.Errorf("import %s: %s", p, f.Message)
	}
	if _, f := checkText(p, b); f != nil {
		return nil, "", fmt.Errorf("import %s: %s", p, f.Message)
	}
	im.mu.Lock()
	im.deps[p] = true
	im.mu.Unlock()
	return trimBOM(b), p, nil
}

func (im *importer) refuse(p, why string) error {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.escaped == "" {
		im.escaped = p
	}
	return fmt.Errorf("import %q refused: %s", p, why)
}

func (im *importer) escape() string {
	im.mu.Lock()
	defer im.mu.Unlock()
	return im.escaped
}

func (im *importer) sources() []string {
	im.mu.Lock()
	defer im.mu.Unlock()
	return sortedKeys(im.deps)
}

// errorCapture is a jsonnet.ErrorFormatter that keeps the last raw error so
// that its location can become a finding.
type errorCapture struct {
	mu   sync.Mutex
	last error
}

func (e *errorCapture) Format(err error) string {
	e.mu.Lock()
	e.last = err
	e.mu.Unlock()
	return err.Error()
}
func (e *errorCapture) SetMaxStackTraceSize(int)                 {}
func (e *errorCapture) SetColorFormatter(jsonnet.ColorFormatter) {}

// finding turns an evaluation error into a finding at its location.
func (e *errorCapture) finding(file string, err error) diag.Finding {
	e.mu.Lock()
	raw := e.last
	e.mu.Unlock()
	f := diag.Finding{File: file, Line: 1, Column: 1, Rule: diag.RuleJsonnet, Severity: diag.Error, Message: err.Error()}
	var loc ast.LocationRange
	var rt jsonnet.RuntimeError
	var st interface{ Loc() ast.LocationRange }
	switch {
	case errors.As(raw, &rt):
		f.Message = rt.Msg
		for i := len(rt.StackTrace) - 1; i >= 0; i-- { // innermost frame last
			if fr := rt.StackTrace[i]; fr.Loc.IsSet() {
				loc = fr.Loc
				break
			}
		}
	case errors.As(raw, &st):
		loc = st.Loc()
		f.Message = strings.TrimSpace(strings.TrimPrefix(raw.Error(), loc.String()))
	}
	if loc.IsSet() {
		if loc.FileName != "" && loc.FileName != "<std>" {
			f.File = loc.FileName
		}
		f.Line, f.Column = loc.Begin.Line, loc.Begin.Column
	}
	if strings.Contains(f.Message, "max stack frames exceeded") {
		f.Message = "Jsonnet stack overflow (infinite recursion?): " + f.Message
	}
	return f
}
