package plan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/manifest"
	"github.com/cairn-gitops/cairn/internal/validate"
	"github.com/cairn-gitops/cairn/render"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestMain lets this test binary serve as the Jsonnet sandbox child, which
// the validator starts from the current executable.
func TestMain(m *testing.M) {
	if code, served := manifest.ServeChild(); served {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// fixedNow is the validation clock: the example's API keys have not expired.
var fixedNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

var (
	exampleOnce sync.Once
	exampleRes  *validate.Result
	exampleErr  error
)

// example returns a fresh copy of the validated example repository, to be
// edited freely.
func example(t testing.TB) *validate.Result {
	t.Helper()
	exampleOnce.Do(func() {
		v, err := validate.New(validate.Options{Now: func() time.Time { return fixedNow }})
		if err != nil {
			exampleErr = err
			return
		}
		exampleRes, exampleErr = v.Validate(context.Background(), manifest.DirFS("../../examples/config-repo"))
	})
	if exampleErr != nil {
		t.Fatal(exampleErr)
	}
	if !exampleRes.Valid() {
		t.Fatalf("the example does not validate: %+v", exampleRes.Findings)
	}
	return clone(t, exampleRes)
}

// clone deep-copies the decoded documents of a result (the documents they
// came from are shared: they are only read).
func clone(t testing.TB, r *validate.Result) *validate.Result {
	t.Helper()
	out := *r
	out.Repository = deepCopy(t, r.Repository)
	out.Security = deepCopy(t, r.Security)
	out.Policy = deepCopy(t, r.Policy)
	out.Adapters = make([]validate.Adapter, len(r.Adapters))
	for i, a := range r.Adapters {
		out.Adapters[i] = validate.Adapter{Adapter: deepCopy(t, a.Adapter), Doc: a.Doc}
	}
	return &out
}

func deepCopy[T any](t testing.TB, v *T) *T {
	t.Helper()
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// find returns the adapter environment/name of r, failing the test when absent.
func find(t testing.TB, r *validate.Result, key string) *v1.Adapter {
	t.Helper()
	for _, a := range r.Adapters {
		if a.Metadata.Environment+"/"+a.Metadata.Name == key {
			return a.Adapter
		}
	}
	t.Fatalf("no adapter %s", key)
	return nil
}

// drop removes the adapter environment/name from r.
func drop(t testing.TB, r *validate.Result, key string) {
	t.Helper()
	for i, a := range r.Adapters {
		if a.Metadata.Environment+"/"+a.Metadata.Name == key {
			r.Adapters = append(r.Adapters[:i], r.Adapters[i+1:]...)
			return
		}
	}
	t.Fatalf("no adapter %s", key)
}

// revision makes a Revision of r with releases built by fakeReleases and
// a commit named after ref.
func revision(t testing.TB, ref string, r *validate.Result) Revision {
	t.Helper()
	sum := sha256.Sum256([]byte(ref))
	when := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	return Revision{
		Ref: ref,
		Commit: gitsource.Commit{Hash: hex.EncodeToString(sum[:20]),
			Author:    gitsource.Signature{Name: "Ada Author", Email: "ada@example.com", When: when},
			Committer: gitsource.Signature{Name: "Ada Author", Email: "ada@example.com", When: when},
			Message:   "Change " + ref + "\n\nbody"},
		Result:   r,
		Releases: fakeReleases(t, r),
	}
}

// fakeReleases stands in for the renderer: one release per adapter whose
// values are the manifest's spec and whose one object is a ConfigMap
// holding them, so that diffs have something to show. Digests are hashes
// of the values, as the renderer's are.
func fakeReleases(t testing.TB, r *validate.Result) []render.Release {
	t.Helper()
	var out []render.Release
	for _, a := range r.Adapters {
		b, err := json.MarshalIndent(a.Spec, "    ", "  ")
		if err != nil {
			t.Fatal(err)
		}
		var vals map[string]any
		if err := json.Unmarshal(b, &vals); err != nil {
			t.Fatal(err)
		}
		env := a.Metadata.Environment
		ns := r.Repository.Spec.Environments[env].Namespace
		sum := sha256.Sum256(append([]byte(ns+"\x00"), b...))
		vd := "sha256:" + hex.EncodeToString(sum[:])
		dsum := sha256.Sum256([]byte("chart\x00" + vd))
		yaml := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  spec.json: |\n    %s\n",
			a.Metadata.Name, ns, string(b))
		out = append(out, render.Release{Name: a.Metadata.Name, Namespace: ns, Environment: env, Chart: "cairn-adapter-0.1.0",
			Values: vals, ValuesDigest: vd, Digest: "sha256:" + hex.EncodeToString(dsum[:]),
			Objects: []render.Object{{APIVersion: "v1", Kind: "ConfigMap", Name: a.Metadata.Name,
				Template: "cairn-adapter/templates/configmap.yaml", YAML: yaml}}})
	}
	return out
}

// findChange returns the first change of the plan of kind, in the named
// section ("adapters" looks in every adapter), or nil.
func findChange(p *Plan, section, kind string) (*Change, *AdapterChange) {
	var lists [][]Change
	switch section {
	case "repository":
		lists = [][]Change{p.Repository}
	case "security":
		lists = [][]Change{p.Security}
	case "policy":
		lists = [][]Change{p.Policy}
	}
	for i := range lists {
		for j := range lists[i] {
			if lists[i][j].Kind == kind {
				return &lists[i][j], nil
			}
		}
	}
	if section == "adapters" {
		for i := range p.Adapters {
			for j := range p.Adapters[i].Changes {
				if p.Adapters[i].Changes[j].Kind == kind {
					return &p.Adapters[i].Changes[j], &p.Adapters[i]
				}
			}
		}
	}
	return nil, nil
}

// kindsOf lists every change of the plan as "section kind pointer risk".
func kindsOf(p *Plan) string {
	var b strings.Builder
	for _, a := range p.Adapters {
		for _, c := range a.Changes {
			fmt.Fprintf(&b, "%s %s %s %s %s\n", a.Key, a.Status, c.Kind, c.Pointer, c.Risk)
		}
	}
	for name, cs := range map[string][]Change{"repository": p.Repository, "security": p.Security, "policy": p.Policy} {
		for _, c := range cs {
			fmt.Fprintf(&b, "%s %s %s %s\n", name, c.Kind, c.Pointer, c.Risk)
		}
	}
	return b.String()
}

func ptr[T any](v T) *T { return &v }
