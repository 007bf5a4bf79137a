package schema

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

//go:embed *.json
var files embed.FS

// BaseURL is the stable base of every schema's $id.
const BaseURL = "https://cairn.dev/schemas/v1alpha1/"

// kindFiles maps each document kind to its schema file.
var kindFiles = map[string]string{
	"Repository":     "repository.json",
	"Adapter":        "adapter.json",
	"SecurityConfig": "securityconfig.json",
	"ChangePolicy":   "changepolicy.json",
}

// Violation is one way a document breaks its schema.
type Violation struct {
	// Pointer is the JSON pointer (RFC 6901) of the offending value.
	Pointer string
	// Keyword is the schema keyword that failed, such as "required".
	Keyword string
	// Message says what is wrong in words a person understands.
	Message string
}

// Set is the schemas of every kind, each compiled on first use (compiling
// checks a schema against the draft 2020-12 meta-schema, which costs
// milliseconds). It is safe for concurrent use.
type Set struct {
	raw   map[string]any // file name -> schema with $refs inlined, for messages
	kinds map[string]*lazySchema
}

type lazySchema struct {
	once sync.Once
	file string
	doc  []byte
	sch  *jsonschema.Schema
	err  error
}

// Load reads the embedded schemas and inlines their $refs. Each kind's
// schema compiles when it is first used; Compile compiles them all now.
func Load() (*Set, error) {
	raw := map[string]any{}
	entries, err := files.ReadDir(".")
	if err != nil {
		return nil, fmt.Errorf("read embedded schemas: %w", err)
	}
	for _, e := range entries {
		b, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, fmt.Errorf("read schema %s: %w", e.Name(), err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("decode schema %s: %w", e.Name(), err)
		}
		raw[e.Name()] = doc
	}
	s := &Set{raw: map[string]any{}, kinds: map[string]*lazySchema{}}
	for name := range raw {
		doc, err := inlineRefs(raw, name)
		if err != nil {
			return nil, fmt.Errorf("inline schema %s: %w", name, err)
		}
		s.raw[name] = doc
	}
	for kind, file := range kindFiles {
		if _, ok := s.raw[file]; !ok {
			continue // a kind whose schema is not written yet is reported as unknown
		}
		b, err := json.Marshal(s.raw[file])
		if err != nil {
			return nil, fmt.Errorf("encode schema %s: %w", file, err)
		}
		s.kinds[kind] = &lazySchema{file: file, doc: b}
	}
	return s, nil
}

// Standalone returns a Set holding one schema that is not a cairn kind,
// such as a Helm chart's values.schema.json, under the given name: Validate
// it with that name. Its own $schema picks the draft; it may not $ref other
// documents.
func Standalone(name string, doc []byte) (*Set, error) {
	var raw map[string]any
	if err := json.Unmarshal(doc, &raw); err != nil {
		return nil, fmt.Errorf("decode schema %s: %w", name, err)
	}
	s := &Set{raw: map[string]any{name: raw}, kinds: map[string]*lazySchema{name: {file: name, doc: doc}}}
	if _, err := s.kinds[name].compile(); err != nil {
		return nil, err
	}
	return s, nil
}

// compile compiles one self-contained (inlined) schema with no loader: a
// schema can never reach the network or the file system.
func (l *lazySchema) compile() (*jsonschema.Schema, error) {
	l.once.Do(func() {
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft2020
		c.AssertFormat = true
		c.LoadURL = func(u string) (io.ReadCloser, error) {
			return nil, fmt.Errorf("schema %s: only embedded schemas are loaded", u)
		}
		if l.err = c.AddResource(BaseURL+l.file, bytes.NewReader(l.doc)); l.err != nil {
			return
		}
		if l.sch, l.err = c.Compile(BaseURL + l.file); l.err != nil {
			l.err = fmt.Errorf("compile schema %s: %w", l.file, l.err)
		}
	})
	return l.sch, l.err
}

// Compile compiles every kind's schema now, reporting the first error.
func (s *Set) Compile() error {
	for _, kind := range s.Kinds() {
		if _, err := s.kinds[kind].compile(); err != nil {
			return err
		}
	}
	return nil
}

// Kinds returns the kinds the set validates, sorted.
func (s *Set) Kinds() []string {
	kinds := make([]string, 0, len(s.kinds))
	for k := range s.kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// Has reports whether kind has a schema.
func (s *Set) Has(kind string) bool { return s.kinds[kind] != nil }

// Validate checks a decoded document (maps, slices, strings, bools, nil and
// json.Number or float64) against the schema of kind. It returns nil when the
// document is valid. An unknown kind is an error.
func (s *Set) Validate(kind string, doc any) ([]Violation, error) {
	l := s.kinds[kind]
	if l == nil {
		return nil, fmt.Errorf("no schema for kind %q", kind)
	}
	sch, err := l.compile()
	if err != nil {
		return nil, err
	}
	err = sch.Validate(doc)
	if err == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, fmt.Errorf("validate %s: %w", kind, err)
	}
	var out []Violation
	s.collect(ve, doc, &out)
	sortViolations(out)
	return dedupe(out), nil
}

// Export writes every schema into dir, creating it if needed, so that editors
// can validate documents as they are typed. It returns the files written.
func Export(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	entries, err := files.ReadDir(".")
	if err != nil {
		return nil, fmt.Errorf("read embedded schemas: %w", err)
	}
	var written []string
	for _, e := range entries {
		b, err := files.ReadFile(e.Name())
		if err != nil {
			return written, fmt.Errorf("read schema %s: %w", e.Name(), err)
		}
		p := filepath.Join(dir, e.Name())
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return written, fmt.Errorf("write %s: %w", p, err)
		}
		written = append(written, p)
	}
	return written, nil
}

// File returns the embedded schema file name for kind, or "" if none.
func File(kind string) string { return kindFiles[kind] }

func sortViolations(v []Violation) {
	sort.SliceStable(v, func(i, j int) bool {
		if v[i].Pointer != v[j].Pointer {
			return v[i].Pointer < v[j].Pointer
		}
		return v[i].Message < v[j].Message
	})
}

func dedupe(v []Violation) []Violation {
	out := v[:0]
	for i, x := range v {
		if i > 0 && x == v[i-1] {
			continue
		}
		out = append(out, x)
	}
	return out
}
