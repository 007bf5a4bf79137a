package validate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/diag"
	"github.com/cairn-gitops/cairn/internal/manifest"
	"github.com/cairn-gitops/cairn/schema"
)

// Options tune a Validator. The zero value is ready to use.
type Options struct {
	// Manifest bounds file size, nesting, Jsonnet stack and time.
	Manifest manifest.Options
	// Workers is how many files are read and checked at once; 0 means GOMAXPROCS.
	Workers int
	// Now tells the time, for expiry of API keys and exceptions; nil means time.Now.
	Now func() time.Time
}

// Validator checks repositories. It is safe for concurrent use.
type Validator struct {
	schemas *schema.Set
	opts    Options
	zones   sync.Map // time zone name -> known
}

// New compiles the schemas once for many validations.
func New(opts Options) (*Validator, error) {
	set, err := schema.Load()
	if err != nil {
		return nil, fmt.Errorf("load schemas: %w", err)
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// Compile the schemas while the repository is walked; a compile error
	// surfaces from the first Validate that needs the schema.
	go func() { _ = set.Compile() }()
	return &Validator{schemas: set, opts: opts}, nil
}

// Adapter is a decoded Adapter with the document it came from.
type Adapter struct {
	*v1.Adapter
	Doc *manifest.Document
}

// Result is what a repository holds and what is wrong with it.
type Result struct {
	// Findings are sorted by file, line and column.
	Findings []diag.Finding
	// Files are the files read, repository-relative; Documents counts the
	// documents they held.
	Files     []string
	Documents int
	// The decoded documents that passed their schema. Use them only when Valid.
	Repository *v1.Repository
	Adapters   []Adapter
	Security   *v1.SecurityConfig
	Policy     *v1.ChangePolicy
	// RepositoryDoc, SecurityDoc and PolicyDoc are the documents they came from.
	RepositoryDoc, SecurityDoc, PolicyDoc *manifest.Document
}

// Valid reports whether the repository has no error-severity finding.
func (r *Result) Valid() bool { return diag.Errors(r.Findings) == 0 }

// checked is one document after the per-document checks.
type checked struct {
	doc      *manifest.Document
	findings []diag.Finding
	typed    any      // *v1.Adapter etc. when the document passed its schema
	secrets  []string // values that look like credentials, to keep out of messages
}

// Validate reads the repository in fsys and checks it. The error is for a
// repository that cannot be read at all; every problem inside it is a finding.
func (v *Validator) Validate(ctx context.Context, fsys fs.FS) (*Result, error) {
	entries, findings, err := manifest.Walk(fsys)
	if err != nil {
		return nil, err
	}
	env := ruleEnv{now: v.opts.Now(), zones: &v.zones, fsys: fsys}
	perFile := make([][]checked, len(entries))
	loadFindings := make([][]diag.Finding, len(entries))
	check := func(env ruleEnv, i int) {
		docs, fs := manifest.LoadFile(ctx, fsys, entries[i], v.opts.Manifest)
		loadFindings[i] = fs
		for _, d := range docs {
			perFile[i] = append(perFile[i], v.checkDocument(env, d))
		}
	}
	// cairn.json first, so that each adapter is checked against the
	// repository's defaults in parallel, as it loads.
	repoAt := slices.IndexFunc(entries, func(e manifest.Entry) bool { return e.Path == manifest.RepositoryFile })
	if repoAt >= 0 {
		check(env, repoAt)
		for _, c := range perFile[repoAt] {
			env.repo, _ = c.typed.(*v1.Repository)
		}
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < v.opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				check(env, i)
			}
		}()
	}
	for i := range entries {
		if i != repoAt {
			next <- i
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	res := &Result{Files: make([]string, len(entries))}
	for i, e := range entries {
		res.Files[i] = e.Path
	}
	res.Findings = findings
	for i := range entries {
		res.Findings = append(res.Findings, loadFindings[i]...)
		for _, c := range perFile[i] {
			res.Documents++
			res.Findings = append(res.Findings, c.findings...)
			res.collect(c)
		}
	}
	res.Findings = append(res.Findings, env.crossRules(res, entries)...)
	var secrets []string
	for i := range entries {
		for _, c := range perFile[i] {
			secrets = append(secrets, c.secrets...)
		}
	}
	redact(res.Findings, secrets)
	diag.Sort(res.Findings)
	return res, nil
}

// checkDocument applies the schema, the credential scan, strict decoding and
// the rules that need only this document.
func (v *Validator) checkDocument(env ruleEnv, d *manifest.Document) checked {
	c := checked{doc: d}
	hits := scanCredentials(d.Value)
	secret := map[string]bool{}
	for _, h := range hits {
		secret[h.pointer] = true
		c.secrets = append(c.secrets, h.secret)
		c.findings = append(c.findings, at(d, h.pointer, diag.RuleLiteralCredential,
			fmt.Sprintf("value looks like %s; store it in a Kubernetes Secret and reference it with secretRef (the value is not shown here)", h.what)))
	}
	violations, err := v.schemas.Validate(d.Kind, d.Value)
	if err != nil {
		c.findings = append(c.findings, at(d, "", diag.RuleSchema, err.Error()))
		return c
	}
	for _, vi := range violations {
		msg := vi.Message
		if secret[vi.Pointer] {
			msg = "value is not valid here (details withheld: the value looks like a credential)"
		}
		c.findings = append(c.findings, at(d, vi.Pointer, diag.RuleSchema, msg))
	}
	if len(violations) > 0 {
		return c
	}
	typed, err := decodeTyped(d)
	if err != nil {
		ptr, msg := "", err.Error()
		var de *manifest.DecodeError
		if errors.As(err, &de) {
			ptr, msg = de.Pointer, de.Msg
		}
		c.findings = append(c.findings, at(d, ptr, diag.RuleSchema, msg))
		return c
	}
	c.typed = typed
	c.findings = append(c.findings, env.documentRules(d, typed)...)
	// The typed document replaces the generic tree, which is several times
	// larger: at 10,000 adapters, keeping the trees would make every garbage
	// collection mark a hundred megabytes more.
	d.Value = nil
	return c
}

func decodeTyped(d *manifest.Document) (any, error) {
	var into any
	switch d.Kind {
	case v1.KindRepository:
		into = &v1.Repository{}
	case v1.KindAdapter:
		into = &v1.Adapter{}
	case v1.KindSecurityConfig:
		into = &v1.SecurityConfig{}
	case v1.KindChangePolicy:
		into = &v1.ChangePolicy{}
	default:
		return nil, fmt.Errorf("no type for kind %q", d.Kind)
	}
	return into, d.Decode(into)
}

func (r *Result) collect(c checked) {
	switch t := c.typed.(type) {
	case *v1.Repository:
		r.Repository, r.RepositoryDoc = t, c.doc
	case *v1.Adapter:
		r.Adapters = append(r.Adapters, Adapter{Adapter: t, Doc: c.doc})
	case *v1.SecurityConfig:
		r.Security, r.SecurityDoc = t, c.doc
	case *v1.ChangePolicy:
		r.Policy, r.PolicyDoc = t, c.doc
	}
}

// at builds a finding at a pointer inside a document.
func at(d *manifest.Document, ptr, rule, msg string) diag.Finding {
	r, _ := diag.Lookup(rule)
	pos := d.Position(ptr)
	return diag.Finding{File: d.File, Line: pos.Line, Column: pos.Column, Pointer: ptr, Document: d.Ref(),
		Rule: rule, Severity: r.Severity, Message: msg}
}

func itoa(i int) string { return strconv.Itoa(i) }
