package render_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cairn-gitops/cairn/charts"
	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/manifest"
	"github.com/cairn-gitops/cairn/internal/validate"
	"github.com/cairn-gitops/cairn/render"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestMain(m *testing.M) {
	if code, served := manifest.ServeChild(); served { // the Jsonnet sandbox
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// example validates examples/config-repo and returns the render input.
func example(t testing.TB) render.Input {
	t.Helper()
	v, err := validate.New(validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Validate(context.Background(), manifest.DirFS("../examples/config-repo"))
	if err != nil || !res.Valid() {
		t.Fatalf("example repository: %v %+v", err, res.Findings)
	}
	in := render.Input{Repository: res.Repository, Revisions: map[string]string{}}
	for _, a := range res.Adapters {
		in.Adapters = append(in.Adapters, a.Adapter)
		in.Revisions[a.Metadata.Environment+"/"+a.Metadata.Name] = "0123456789abcdef0123456789abcdef01234567"
	}
	return in
}

func renderer(t testing.TB) *render.Renderer {
	t.Helper()
	chart, err := charts.Adapter()
	if err != nil {
		t.Fatal(err)
	}
	r, err := render.New(chart)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestGoldenExample renders the example repository and compares every
// release with testdata/golden/ENV/NAME.yaml (go test -update rewrites them).
func TestGoldenExample(t *testing.T) {
	releases, err := renderer(t).Render(context.Background(), example(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(releases) != 16 {
		t.Fatalf("want 16 releases, got %d", len(releases))
	}
	for _, rel := range releases {
		var b bytes.Buffer
		if err := render.WriteYAML(&b, []render.Release{rel}); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "golden", rel.Environment, rel.Name+".yaml")
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./render -update)", err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%s differs from %s (go test ./render -update rewrites it)", rel.Key(), golden)
		}
	}
}

func TestDeterministicAndDigests(t *testing.T) {
	r := renderer(t)
	in := example(t)
	first, err := r.Render(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	// Reverse the adapters and change every revision: same objects but for
	// the revision stamp, same digests.
	rev := in
	rev.Adapters = nil
	for i := len(in.Adapters) - 1; i >= 0; i-- {
		rev.Adapters = append(rev.Adapters, in.Adapters[i])
	}
	rev.Revisions = map[string]string{}
	second, err := r.Render(context.Background(), rev)
	if err != nil {
		t.Fatal(err)
	}
	for i := range first {
		a, b := first[i], second[i]
		if a.Key() != b.Key() || a.Digest != b.Digest || a.ValuesDigest != b.ValuesDigest {
			t.Errorf("%s: digest changed with order or revision: %s %s", a.Key(), a.Digest, b.Digest)
		}
		if !strings.HasPrefix(a.Digest, "sha256:") || len(a.Digest) != 71 {
			t.Errorf("%s: digest %q", a.Key(), a.Digest)
		}
	}
	// Change one adapter: only its digest changes.
	changed := example(t)
	replicas := 3
	changed.Adapters[0].Spec.Replicas = &replicas
	third, err := r.Render(context.Background(), changed)
	if err != nil {
		t.Fatal(err)
	}
	target := changed.Adapters[0].Metadata.Environment + "/" + changed.Adapters[0].Metadata.Name
	for i := range first {
		same := first[i].Digest == third[i].Digest
		if (first[i].Key() == target) == same {
			t.Errorf("%s: digest same=%v after changing %s", first[i].Key(), same, target)
		}
	}
}

func TestObjectsCarryReferencesNotValues(t *testing.T) {
	releases, err := renderer(t).Render(context.Background(), example(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range releases {
		kinds := map[string]int{}
		for _, o := range rel.Objects {
			kinds[o.Kind]++
			for _, want := range []string{"cairn.dev/adapter: \"" + rel.Name + "\"", "cairn.dev/environment: \"" + rel.Environment + "\"", "cairn.dev/values-digest: \"sha256:"} {
				if !strings.Contains(o.YAML, want) {
					t.Errorf("%s %s/%s lacks %q", rel.Key(), o.Kind, o.Name, want)
				}
			}
			if o.Kind == "Secret" {
				t.Errorf("%s renders a Secret: cairn only ever references Secrets", rel.Key())
			}
		}
		for _, k := range []string{"Deployment", "ConfigMap", "ServiceAccount", "NetworkPolicy"} {
			if kinds[k] != 1 {
				t.Errorf("%s: %d %s objects, want 1", rel.Key(), kinds[k], k)
			}
		}
		acceptor := rel.Values["adapter"].(map[string]any)["role"] == v1.RoleAcceptor
		if (kinds["Service"] == 1) != acceptor {
			t.Errorf("%s: acceptor=%v but %d Services", rel.Key(), acceptor, kinds["Service"])
		}
	}
}

func TestRenderErrors(t *testing.T) {
	in := example(t)
	broken := func(tpl string) *render.Renderer {
		r, err := render.New(fstest.MapFS{
			"Chart.yaml":       {Data: []byte("apiVersion: v2\nname: broken\nversion: 0.1.0\n")},
			"templates/x.yaml": {Data: []byte(tpl)},
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for name, tt := range map[string]struct{ tpl, msg string }{
		"unknown function": {"name: {{ .Values.x | nosuchfunc }}", "nosuchfunc"},
		"fail":             {`{{ fail "boom" }}`, "boom"},
		"hook":             {"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  annotations:\n    helm.sh/hook: pre-install\n", "hooks"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := broken(tt.tpl).Render(context.Background(), in)
			if err == nil || !strings.Contains(err.Error(), "render adapter ") || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v, want an error naming the adapter and %q", err, tt.msg)
			}
		})
	}
	t.Run("values type mismatch", func(t *testing.T) {
		mismatch := example(t)
		replicas := -1 // the chart's values schema refuses it
		mismatch.Adapters[0].Spec.Replicas = &replicas
		_, err := renderer(t).Render(context.Background(), mismatch)
		if err == nil || !strings.Contains(err.Error(), "replicas") {
			t.Fatalf("got %v, want an error naming replicas", err)
		}
	})
	t.Run("no repository", func(t *testing.T) {
		if _, err := renderer(t).Render(context.Background(), render.Input{}); err == nil {
			t.Fatal("want an error")
		}
	})
}

func BenchmarkRenderExample(b *testing.B) {
	r := renderer(b)
	in := example(b)
	for b.Loop() {
		if _, err := r.Render(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}
