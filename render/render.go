package render

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	"sigs.k8s.io/yaml"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/schema"
)

// Renderer renders releases with one chart. It is safe for concurrent use.
type Renderer struct {
	chart       *chart.Chart
	chartDigest string
	workers     int
	// values is the chart's values schema, compiled once: Helm would
	// compile it again for every release, a third of a render's time.
	values *schema.Set
}

// valuesSchema names the chart's values schema in a schema.Set.
const valuesSchema = "values.schema.json"

// Input is what a render needs: the decoded documents of one revision.
type Input struct {
	Repository *v1.Repository
	Adapters   []*v1.Adapter
	// Revisions names, per adapter ("environment/name"), the Git revision
	// that last changed it, stamped on its objects; it is not part of the
	// release digest.
	Revisions map[string]string
	// Revision, when set, overrides Revisions: it is asked for the revision
	// to stamp on each release, given the release's key and digest, so that
	// a caller can keep the revision of a release that did not change.
	Revision func(key, digest string) string
}

// Release is one adapter's Helm release.
type Release struct {
	// Name is the release name: the adapter's name.
	Name        string `json:"name"`
	Namespace   string `json:"namespace"`
	Environment string `json:"environment"`
	// Chart is "name-version" of the chart.
	Chart string `json:"chart"`
	// Values are the chart values (references to Secrets, never their contents).
	Values map[string]any `json:"values"`
	// ValuesDigest is "sha256:" + hex of the canonical JSON of Values without
	// the revision stamp; Digest covers the chart and the values. A release
	// whose Digest did not change needs no upgrade.
	ValuesDigest string   `json:"valuesDigest"`
	Digest       string   `json:"digest"`
	Objects      []Object `json:"objects"`
}

// Key names the release as "environment/name".
func (r *Release) Key() string { return r.Environment + "/" + r.Name }

// Object is one rendered Kubernetes object.
type Object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	// Template is the chart template that produced the object.
	Template string `json:"template"`
	// YAML is the object as rendered.
	YAML string `json:"yaml"`
}

// New loads a chart from the files of its directory (fsys rooted at the
// chart, such as charts.Adapter() or os.DirFS of a chart in the repository).
func New(fsys fs.FS) (*Renderer, error) {
	var files []*loader.BufferedFile
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files = append(files, &loader.BufferedFile{Name: p, Data: b})
		if rendersFrom(p) {
			fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
			h.Write(b)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read chart: %w", err)
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("load chart: %w", err)
	}
	if err := ch.Validate(); err != nil {
		return nil, fmt.Errorf("chart %s: %w", ch.Name(), err)
	}
	r := &Renderer{chart: ch, chartDigest: hex.EncodeToString(h.Sum(nil)), workers: runtime.GOMAXPROCS(0)}
	if ch.Schema != nil && len(ch.Dependencies()) == 0 {
		if r.values, err = schema.Standalone(valuesSchema, ch.Schema); err != nil {
			return nil, fmt.Errorf("chart %s: %w", ch.Name(), err)
		}
	}
	return r, nil
}

// checkValues validates the coalesced values against the chart's schema,
// as Helm would, naming each field that does not fit.
func (r *Renderer) checkValues(rv chartutil.Values) error {
	vals, ok := rv["Values"].(chartutil.Values)
	if !ok {
		return fmt.Errorf("no values to check")
	}
	violations, err := r.values.Validate(valuesSchema, map[string]any(vals))
	if err != nil {
		return err
	}
	if len(violations) == 0 {
		return nil
	}
	msgs := make([]string, len(violations))
	for i, v := range violations {
		msgs[i] = v.Pointer + ": " + v.Message
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}

// rendersFrom reports whether a chart file can change what renders (so
// that editing the chart's README does not upgrade every release).
func rendersFrom(p string) bool {
	switch p {
	case "Chart.yaml", "values.yaml", "values.schema.json":
		return true
	}
	return strings.HasPrefix(p, "templates/") || strings.HasPrefix(p, "charts/") || strings.HasPrefix(p, "crds/")
}

// Chart returns the loaded chart, for the Helm package to install. The
// caller must not modify it: renders share it.
func (r *Renderer) Chart() *chart.Chart { return r.chart }

// ChartDigest is the sha256 of the chart files that affect rendering.
func (r *Renderer) ChartDigest() string { return "sha256:" + r.chartDigest }

// Render renders one release per adapter, in parallel, and returns them
// sorted by environment and name. The first failure is returned, naming the
// adapter; no partial result is returned with an error.
func (r *Renderer) Render(ctx context.Context, in Input) ([]Release, error) {
	if in.Repository == nil {
		return nil, fmt.Errorf("render: no repository (cairn.json)")
	}
	out := make([]Release, len(in.Adapters))
	errs := make([]error, len(in.Adapters))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < r.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i], errs[i] = r.release(in, in.Adapters[i])
			}
		}()
	}
loop:
	for i := range in.Adapters {
		select {
		case next <- i:
		case <-ctx.Done():
			break loop
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, nil
}

// release renders one adapter.
func (r *Renderer) release(in Input, a *v1.Adapter) (Release, error) {
	name, env := a.Metadata.Name, a.Metadata.Environment
	fail := func(err error) (Release, error) {
		return Release{}, fmt.Errorf("render adapter %s/%s: %w", env, name, err)
	}
	e, ok := in.Repository.Spec.Environments[env]
	if !ok {
		return fail(fmt.Errorf("environment %q is not declared in cairn.json", env))
	}
	vals, err := values(in.Repository, a)
	if err != nil {
		return fail(err)
	}
	valuesDigest, err := digestOf(vals)
	if err != nil {
		return fail(err)
	}
	sum := sha256.Sum256([]byte(r.chartDigest + "\x00" + valuesDigest))
	digest := "sha256:" + hex.EncodeToString(sum[:])
	revision := in.Revisions[env+"/"+name]
	if in.Revision != nil {
		revision = in.Revision(env+"/"+name, digest)
	}
	vals["cairn"] = map[string]any{"revision": revision, "valuesDigest": valuesDigest}
	r.replaceNotMerge(vals, "orchestrator", "podLabels")
	rv, err := chartutil.ToRenderValuesWithSchemaValidation(r.chart, vals,
		chartutil.ReleaseOptions{Name: name, Namespace: e.Namespace, Revision: 1, IsInstall: true},
		chartutil.DefaultCapabilities, r.values != nil)
	if err == nil && r.values != nil {
		err = r.checkValues(rv)
	}
	if err != nil {
		return fail(fmt.Errorf("values do not fit chart %s: %w", r.chart.Name(), err))
	}
	files, err := engine.Render(r.chart, rv)
	if err != nil {
		return fail(fmt.Errorf("chart %s: %w", r.chart.Name(), err))
	}
	objects, err := objectsOf(files)
	if err != nil {
		return fail(err)
	}
	return Release{
		Name: name, Namespace: e.Namespace, Environment: env,
		Chart:  r.chart.Name() + "-" + r.chart.Metadata.Version,
		Values: vals, ValuesDigest: valuesDigest, Digest: digest,
		Objects: objects,
	}, nil
}

// replaceNotMerge makes the map at path in vals replace the chart's default
// instead of merging into it: Helm merges maps, so a default label the
// repository does not name would otherwise stay in a selector. A key of the
// default that vals lacks is set to null, which Helm reads as "remove".
func (r *Renderer) replaceNotMerge(vals map[string]any, path ...string) {
	def, cur := map[string]any(r.chart.Values), vals
	for _, k := range path[:len(path)-1] {
		d, ok1 := def[k].(map[string]any)
		c, ok2 := cur[k].(map[string]any)
		if !ok1 || !ok2 {
			return
		}
		def, cur = d, c
	}
	last := path[len(path)-1]
	d, ok1 := def[last].(map[string]any)
	c, ok2 := cur[last].(map[string]any)
	if !ok1 || !ok2 {
		return
	}
	for k := range d {
		if _, ok := c[k]; !ok {
			c[k] = nil
		}
	}
}

// digestOf hashes the canonical JSON of values (encoding/json sorts keys).
func digestOf(vals map[string]any) (string, error) {
	b, err := json.Marshal(vals)
	if err != nil {
		return "", fmt.Errorf("encode values: %w", err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// objectsOf splits rendered templates into objects in Helm's install order
// (by kind, then name, then template), dropping empty documents and
// partials. Only the head of each object is read (apiVersion, kind,
// metadata.name); a full YAML parse of every object cost a fifth of a render.
func objectsOf(files map[string]string) ([]Object, error) {
	var out []Object
	for name, content := range files {
		if strings.HasPrefix(pathBase(name), "_") || strings.HasSuffix(name, "NOTES.txt") {
			continue
		}
		for _, doc := range splitDocs(content) {
			doc = strings.TrimSpace(doc)
			if doc == "" {
				continue
			}
			o, err := headOf(doc)
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", name, err)
			}
			if strings.Contains(doc, "helm.sh/hook") && isHook(doc) {
				return nil, fmt.Errorf("the chart renders Helm hooks (%s), which cairn does not run", name)
			}
			o.Template, o.YAML = name, doc+"\n"
			out = append(out, o)
		}
	}
	kindRank := func(k string) int {
		if i := slices.Index(releaseutil.InstallOrder, k); i >= 0 {
			return i
		}
		return len(releaseutil.InstallOrder)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ra, rb := kindRank(a.Kind), kindRank(b.Kind); ra != rb {
			return ra < rb
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Template < b.Template
	})
	return out, nil
}

// splitDocs splits a YAML stream at its "---" lines (Helm's own splitter is
// a regular expression, and cost a sixth of a render).
func splitDocs(stream string) []string {
	var docs []string
	start := 0
	for i := 0; i <= len(stream); {
		end := strings.IndexByte(stream[i:], '\n')
		if end < 0 {
			end = len(stream)
		} else {
			end += i
		}
		if line := strings.TrimRight(stream[i:end], " \t\r"); line == "---" || strings.HasPrefix(line, "--- ") {
			docs = append(docs, stream[start:i])
			start = end + 1
		}
		i = end + 1
	}
	if start < len(stream) {
		docs = append(docs, stream[start:])
	}
	return docs
}

// objectHead is what Helm and cairn need to know of an object.
type objectHead struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
}

// headOf reads apiVersion, kind and metadata.name from the top-level lines
// of a rendered object, falling back to a YAML parse when a value is not a
// plain or simply quoted scalar.
func headOf(doc string) (Object, error) {
	var o Object
	inMeta, simple := false, true
	for _, line := range strings.Split(doc, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] != ' ' {
			inMeta = line == "metadata:"
			switch {
			case strings.HasPrefix(line, "apiVersion:"):
				o.APIVersion, simple = scalar(line[len("apiVersion:"):], simple)
			case strings.HasPrefix(line, "kind:"):
				o.Kind, simple = scalar(line[len("kind:"):], simple)
			case strings.HasPrefix(line, "metadata:") && !inMeta:
				simple = false // metadata in flow style
			}
			continue
		}
		if inMeta && o.Name == "" && strings.HasPrefix(line, "  name:") {
			o.Name, simple = scalar(line[len("  name:"):], simple)
		}
	}
	if simple && o.APIVersion != "" && o.Kind != "" && o.Name != "" {
		return o, nil
	}
	var h objectHead
	if err := yaml.Unmarshal([]byte(doc), &h); err != nil {
		return o, fmt.Errorf("rendered object is not valid YAML: %w", err)
	}
	if h.Kind == "" || h.Metadata.Name == "" {
		return o, fmt.Errorf("rendered object has no kind or metadata.name")
	}
	return Object{APIVersion: h.APIVersion, Kind: h.Kind, Name: h.Metadata.Name}, nil
}

// scalar reads a plain or double-quoted YAML scalar without escapes; ok
// turns false for anything else, so that the caller parses the document.
func scalar(v string, ok bool) (string, bool) {
	v = strings.TrimSpace(v)
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		inner := v[1 : len(v)-1]
		if strings.ContainsAny(inner, "\\'\"") {
			return "", false
		}
		return inner, ok
	}
	if v == "" || strings.ContainsAny(v[:1], "{[&*!|>%@`") {
		return "", false
	}
	return v, ok
}

// isHook reports whether an object is a Helm hook.
func isHook(doc string) bool {
	var h objectHead
	if err := yaml.Unmarshal([]byte(doc), &h); err != nil {
		return false
	}
	_, hook := h.Metadata.Annotations["helm.sh/hook"]
	return hook
}

func pathBase(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// WriteYAML writes releases as one YAML stream, each object under a comment
// naming its release and template, as `helm template` does.
func WriteYAML(w io.Writer, releases []Release) error {
	var b bytes.Buffer
	for _, r := range releases {
		for _, o := range r.Objects {
			fmt.Fprintf(&b, "---\n# Release: %s/%s (%s)\n# Source: %s\n%s", r.Namespace, r.Name, r.Digest, o.Template, o.YAML)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}
