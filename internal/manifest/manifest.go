package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cairn-gitops/cairn/internal/diag"
)

// The well-known paths of a config repository.
const (
	RepositoryFile = "cairn.json"
	SecurityFile   = "security.json"
	PolicyFile     = "policy.json"
	AdaptersDir    = "adapters"
	LibDir         = "lib"
)

// Options bound the work done on each file. The zero value means the defaults.
type Options struct {
	// MaxFileBytes is the largest file read, and the largest Jsonnet output.
	MaxFileBytes int64
	// MaxDepth is the deepest nesting of objects and arrays.
	MaxDepth int
	// JsonnetMaxStack is the deepest Jsonnet call stack.
	JsonnetMaxStack int
	// JsonnetTimeout bounds one Jsonnet evaluation.
	JsonnetTimeout time.Duration
	// JsonnetInProcess evaluates Jsonnet in this process instead of a child
	// process. It is faster, but a hostile program can crash the process
	// (go-jsonnet can exhaust the Go stack): for trusted input only.
	JsonnetInProcess bool
}

// Defaults for Options.
const (
	DefaultMaxFileBytes    = 8 << 20
	DefaultMaxDepth        = 64
	DefaultJsonnetMaxStack = 500
	DefaultJsonnetTimeout  = 10 * time.Second
)

func (o Options) withDefaults() Options {
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.JsonnetMaxStack <= 0 {
		o.JsonnetMaxStack = DefaultJsonnetMaxStack
	}
	if o.JsonnetTimeout <= 0 {
		o.JsonnetTimeout = DefaultJsonnetTimeout
	}
	return o
}

// Format is how a file is read.
type Format int

// Formats of document files.
const (
	FormatJSON Format = iota
	FormatJsonnet
)

// Entry is one file that holds or produces documents.
type Entry struct {
	// Path is repository-relative and slash-separated.
	Path string
	// Kind is the document kind expected at this path.
	Kind   string
	Format Format
}

// Document is one document read from a repository.
type Document struct {
	// File holds the document, or produced it (a .jsonnet file).
	File string
	// Index is the document's position in a Jsonnet list, or 0.
	Index int
	// Kind and Name are read from the document ("" when absent).
	Kind, Name string
	// Value is the decoded document: map[string]any, []any, string,
	// json.Number, bool and nil.
	Value map[string]any
	// Sources are the files the document was produced from, sorted: the file
	// itself and, for Jsonnet, every file it imported.
	Sources []string

	raw    []byte // the JSON text Value was decoded from, when it was a file
	locate func(ptr string) Position
}

// Ref names the document as "Kind/name" for messages.
func (d *Document) Ref() string {
	if d.Name == "" {
		return d.Kind
	}
	return d.Kind + "/" + d.Name
}

// Position returns where the value at a JSON pointer is written in File.
func (d *Document) Position(ptr string) Position {
	if d.locate == nil {
		return Position{Line: 1, Column: 1}
	}
	return d.locate(ptr)
}

// Decode decodes the document strictly into v: a field v does not declare
// is an error.
func (d *Document) Decode(v any) error {
	if err := decodeTree(d.Value, v); err != nil {
		return fmt.Errorf("decode %s: %w", d.Ref(), err)
	}
	return nil
}

// Walk lists the files of a repository that hold or produce documents, and
// reports files and links that break the repository's rules. Directories
// whose names start with "." are skipped. The error is for a repository that
// cannot be read at all.
func Walk(fsys fs.FS) ([]Entry, []diag.Finding, error) {
	var entries []Entry
	var findings []diag.Finding
	var charts []string // directories holding a Chart.yaml: Helm charts, not documents
	inChart := func(p string) bool {
		return slices.ContainsFunc(charts, func(c string) bool { return strings.HasPrefix(p, c+"/") })
	}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			findings = append(findings, fileFinding(p, diag.RuleSyntax, fmt.Sprintf("cannot read: %v", err)))
			return nil
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if f, ok := checkLink(fsys, p); ok {
				findings = append(findings, f)
			}
			return nil
		}
		if d.IsDir() {
			if _, err := fs.Stat(fsys, path.Join(p, "Chart.yaml")); err == nil && p != "." {
				charts = append(charts, p)
			}
			return nil
		}
		if inChart(p) {
			return nil // a chart's files (its symbolic links are still checked above)
		}
		if e, ok := classify(p); ok {
			entries = append(entries, e)
		} else if isConfigLike(p) {
			findings = append(findings, diag.Finding{File: p, Line: 1, Column: 1, Rule: diag.RuleUnexpectedFile, Severity: diag.Warning,
				Message: "cairn reads no documents here; adapters go under adapters/, libraries under lib/"})
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read repository: %w", err)
	}
	return entries, findings, nil
}

// classify says what a file at path p holds.
func classify(p string) (Entry, bool) {
	switch p {
	case RepositoryFile:
		return Entry{Path: p, Kind: "Repository"}, true
	case SecurityFile:
		return Entry{Path: p, Kind: "SecurityConfig"}, true
	case PolicyFile:
		return Entry{Path: p, Kind: "ChangePolicy"}, true
	}
	if !strings.HasPrefix(p, AdaptersDir+"/") {
		return Entry{}, false
	}
	switch path.Ext(p) {
	case ".json":
		return Entry{Path: p, Kind: "Adapter", Format: FormatJSON}, true
	case ".jsonnet":
		return Entry{Path: p, Kind: "Adapter", Format: FormatJsonnet}, true
	}
	return Entry{}, false
}

// isConfigLike reports a file that looks like a document but sits where
// cairn reads none (libraries under lib/ and adapters/ are expected).
func isConfigLike(p string) bool {
	switch path.Ext(p) {
	case ".json", ".jsonnet":
		return !strings.HasPrefix(p, LibDir+"/")
	case ".libsonnet":
		return !strings.HasPrefix(p, LibDir+"/") && !strings.HasPrefix(p, AdaptersDir+"/")
	}
	return false
}

// checkLink reports a symlink: an error when it leads outside the
// repository, a warning (it is not followed) otherwise.
func checkLink(fsys fs.FS, p string) (diag.Finding, bool) {
	target, err := fs.ReadLink(fsys, p)
	if err != nil {
		return fileFinding(p, diag.RulePathEscape, fmt.Sprintf("cannot read symbolic link: %v", err)), true
	}
	if escapes(p, target) {
		return fileFinding(p, diag.RulePathEscape, "symbolic link leads outside the repository; cairn never follows it"), true
	}
	if _, ok := classify(p); !ok && !isConfigLike(p) && path.Ext(p) != ".libsonnet" {
		return diag.Finding{}, false
	}
	return diag.Finding{File: p, Line: 1, Column: 1, Rule: diag.RuleSymlink, Severity: diag.Warning,
		Message: "symbolic link is not followed; commit the file itself"}, true
}

// escapes reports whether target, named from the file at p, resolves
// outside the repository root.
func escapes(p, target string) bool {
	if path.IsAbs(target) || strings.HasPrefix(target, "/") {
		return true
	}
	j := path.Join(path.Dir(p), target)
	return j == ".." || strings.HasPrefix(j, "../")
}

func fileFinding(p, rule, msg string) diag.Finding {
	r, _ := diag.Lookup(rule)
	return diag.Finding{File: p, Line: 1, Column: 1, Rule: rule, Severity: r.Severity, Message: msg}
}

// readFile reads one file, refusing one larger than max without reading it.
func readFile(fsys fs.FS, p string, max int64) ([]byte, *diag.Finding) {
	cannot := func(err error) ([]byte, *diag.Finding) {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		f := fileFinding(p, diag.RuleSyntax, fmt.Sprintf("cannot read: %v", err))
		return nil, &f
	}
	tooLarge := func() ([]byte, *diag.Finding) {
		f := fileFinding(p, diag.RuleTooLarge, fmt.Sprintf("file is larger than the limit of %d bytes", max))
		return nil, &f
	}
	if lr, ok := fsys.(limitedReadFS); ok {
		b, err := lr.readFileLimit(p, max)
		switch {
		case errors.Is(err, errTooLarge):
			return tooLarge()
		case err != nil:
			return cannot(err)
		}
		return b, nil
	}
	f, err := fsys.Open(p)
	if err != nil {
		return cannot(err)
	}
	defer f.Close()
	size := int64(512)
	if info, err := f.Stat(); err == nil && info.Size() > 0 {
		if info.Size() > max {
			return tooLarge()
		}
		size = info.Size() + 1 // one more byte to see the end of the file
	}
	b := make([]byte, 0, size)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > max {
			return tooLarge()
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return cannot(err)
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// checkText rejects bytes that are not UTF-8 and strips a byte order mark.
func checkText(p string, b []byte) ([]byte, *diag.Finding) {
	b = trimBOM(b)
	if utf8.Valid(b) {
		return b, nil
	}
	off := 0
	for off < len(b) {
		r, n := utf8.DecodeRune(b[off:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		off += n
	}
	pos := lineCol(b, off)
	return nil, &diag.Finding{File: p, Line: pos.Line, Column: pos.Column, Rule: diag.RuleEncoding, Severity: diag.Error,
		Message: fmt.Sprintf("invalid UTF-8 at byte %d; save the file as UTF-8", off)}
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}

// sortedKeys returns the keys of a set, sorted.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
