package helm

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cairn-gitops/cairn/charts"
	"github.com/cairn-gitops/cairn/internal/manifest"
	"github.com/cairn-gitops/cairn/internal/testcluster"
	"github.com/cairn-gitops/cairn/internal/validate"
	"github.com/cairn-gitops/cairn/render"
)

// cluster is the control plane every test of the package shares.
var cluster = &testcluster.Shared{Options: testcluster.Options{
	Nodes: 1, ControllerManager: true, Scheduler: true, Kwok: true,
}}

func TestMain(m *testing.M) {
	if code, served := manifest.ServeChild(); served { // the Jsonnet sandbox of validate
		os.Exit(code)
	}
	if os.Getenv("CAIRN_BARE") != "" {
		cluster.Options = testcluster.Options{}
	}
	code := m.Run()
	if err := cluster.Stop(code != 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// env is what an integration test works with.
type env struct {
	c       *Client
	kube    kubernetes.Interface
	cluster *testcluster.Cluster
}

// newEnv returns a Client on the shared cluster (Timeout 30s unless opts
// say otherwise) and an independent clientset to look and meddle with.
func newEnv(t testing.TB, opts Options) env {
	t.Helper()
	cl := cluster.Get(t)
	opts.REST = cl.RESTConfig()
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return env{c: c, kube: kubernetes.NewForConfigOrDie(cl.RESTConfig()), cluster: cl}
}

var nsCounter atomic.Int64

// namespace returns a fresh namespace name for one test; Apply creates it.
func namespace(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid()%10000, nsCounter.Add(1))
}

// examples renders examples/config-repo once.
var examples struct {
	once     sync.Once
	releases map[string]render.Release
	chart    *chart.Chart
	err      error
}

// example returns the rendered release env/name of the example repository
// and the adapter chart.
func example(t testing.TB, key string) (render.Release, *chart.Chart) {
	t.Helper()
	examples.once.Do(func() { examples.releases, examples.chart, examples.err = renderExamples() })
	if examples.err != nil {
		t.Fatal(examples.err)
	}
	r, ok := examples.releases[key]
	if !ok {
		t.Fatalf("no example release %s", key)
	}
	return r, examples.chart
}

func renderExamples() (map[string]render.Release, *chart.Chart, error) {
	ctx := context.Background()
	v, err := validate.New(validate.Options{})
	if err != nil {
		return nil, nil, err
	}
	res, err := v.Validate(ctx, manifest.DirFS("../../examples/config-repo"))
	if err != nil || !res.Valid() {
		return nil, nil, fmt.Errorf("example repository: %v %+v", err, res.Findings)
	}
	in := render.Input{Repository: res.Repository, Revisions: map[string]string{}}
	for _, a := range res.Adapters {
		in.Adapters = append(in.Adapters, a.Adapter)
	}
	fsys, err := charts.Adapter()
	if err != nil {
		return nil, nil, err
	}
	rd, err := render.New(fsys)
	if err != nil {
		return nil, nil, err
	}
	rels, err := rd.Render(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]render.Release{}
	for _, r := range rels {
		out[r.Key()] = r
	}
	return out, rd.Chart(), nil
}

// adapter is the example release key as a Release in namespace ns.
func adapter(t testing.TB, key, ns string) Release {
	t.Helper()
	r, ch := example(t, key)
	return Release{Name: r.Name, Namespace: ns, Chart: ch, Values: r.Values, Digest: r.Digest,
		Labels: map[string]string{"cairn.dev/environment": r.Environment}}
}

// probeChart is a small chart of two ConfigMaps: a holds .Values.value,
// b carries the label tier: .Values.tier (an invalid label value makes the
// API server refuse b).
func probeChart(t testing.TB) *chart.Chart {
	t.Helper()
	files := []*loader.BufferedFile{
		{Name: "Chart.yaml", Data: []byte("apiVersion: v2\nname: probe\nversion: 0.1.0\n")},
		{Name: "templates/a.yaml", Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-a\ndata:\n  value: {{ .Values.value | quote }}\n")},
		{Name: "templates/b.yaml", Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-b\n  labels:\n    tier: {{ .Values.tier | quote }}\n")},
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// probe is a Release of probeChart.
func probe(t testing.TB, name, ns, value, tier string) Release {
	return Release{Name: name, Namespace: ns, Chart: probeChart(t),
		Values: map[string]any{"value": value, "tier": tier}, Digest: "sha256:" + strings.Repeat(value[:1], 64)}
}

// waitFor polls cond every 200 ms until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s (last: %s)", what, timeout, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// configMapValue reads data.value of a ConfigMap, "" when it is absent.
func configMapValue(t testing.TB, kube kubernetes.Interface, ns, name string) string {
	t.Helper()
	cm, err := kube.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	return cm.Data["value"]
}

// createSecret creates a Secret with the given data.
func createSecret(t testing.TB, kube kubernetes.Interface, ns, name string, data map[string]string) {
	t.Helper()
	ctx := context.Background()
	_, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: data}
	if _, err := kube.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}
