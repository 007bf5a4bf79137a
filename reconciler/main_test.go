package reconciler_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/cairn-gitops/cairn/internal/demo"
	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/gittest"
	"github.com/cairn-gitops/cairn/internal/health"
	"github.com/cairn-gitops/cairn/internal/helm"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/manifest"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/internal/testcluster"
	"github.com/cairn-gitops/cairn/reconciler"
)

// cluster is the control plane the package's tests share.
var cluster = &testcluster.Shared{Options: testcluster.Options{
	Nodes: 2, ControllerManager: true, Scheduler: true, Kwok: true,
}}

func TestMain(m *testing.M) {
	if code, served := manifest.ServeChild(); served { // the Jsonnet sandbox
		os.Exit(code)
	}
	code := m.Run()
	if err := cluster.Stop(code != 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

var fixtures atomic.Int64

// fixture is one test's repository, namespaces and reconciler.
type fixture struct {
	t      testing.TB
	prefix string
	git    *gittest.Repo
	kube   kubernetes.Interface
	helm   *helm.Client
	rec    *reconciler.Reconciler
	mem    *history.Memory
	// api counts the requests the reconciler's client sent.
	api testcluster.RequestCounter
	cfg *rest.Config
}

// newFixture commits examples/config-repo (its namespaces renamed for this
// test) and creates the Secrets it references.
func newFixture(t testing.TB, cl *testcluster.Cluster) *fixture {
	t.Helper()
	f := &fixture{t: t, prefix: fmt.Sprintf("r%d-%d", os.Getpid()%10000, fixtures.Add(1)), git: gittest.New(t),
		mem: &history.Memory{}}
	f.git.CopyDir("../examples/config-repo")
	cairn := strings.NewReplacer("connectivity-uat", f.prefix+"-uat", "connectivity-prod", f.prefix+"-prod").
		Replace(f.read("cairn.json"))
	f.git.Write("cairn.json", cairn)
	// Node ports are cluster-wide: let each fixture's acceptor take any.
	bluefin := "adapters/prod/client-bluefin-acceptor.json"
	f.git.Write(bluefin, strings.Replace(f.read(bluefin), `, "nodePort": 30981`, "", 1))
	f.git.Commit("Import the example configuration", gittest.Author("Alice Example", "alice@acme.example"))
	f.kube = kubernetes.NewForConfigOrDie(cl.RESTConfig())
	if _, err := demo.SeedSecrets(context.Background(), f.kube, f.git.Path()); err != nil {
		t.Fatal(err)
	}
	f.cfg = f.api.Wrap(cl.RESTConfig())
	f.rec = f.newReconciler(t.TempDir(), f.mem)
	return f
}

func (f *fixture) read(p string) string {
	b, err := os.ReadFile(f.git.Path() + "/" + p)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

// newReconciler makes a reconciler of the fixture's repository with its
// own clone in dir.
func (f *fixture) newReconciler(dir string, rec history.Recorder) *reconciler.Reconciler {
	f.t.Helper()
	remote, err := gitsource.OpenRemote(context.Background(), gitsource.RemoteOptions{URL: f.git.Path(), Branch: "main", Dir: dir})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { remote.Close() })
	hc, err := helm.New(helm.Options{REST: f.cfg, Timeout: time.Minute})
	if err != nil {
		f.t.Fatal(err)
	}
	if f.helm == nil {
		f.helm = hc
	}
	r, err := reconciler.New(reconciler.Options{Source: reconciler.GitSource{Remote: remote}, Applier: hc,
		Recorder: rec, Instance: f.prefix, Status: status.NewStore(f.git.Path(), "main")})
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// releases lists the fixture's Helm releases: "namespace/name" -> version.
func (f *fixture) releases() map[string]int {
	f.t.Helper()
	list, err := f.helm.List(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]int{}
	for _, d := range list {
		if d.Labels[reconciler.LabelInstance] == f.prefix && d.Status == "deployed" {
			out[d.Namespace+"/"+d.Name] = d.Version
		}
	}
	return out
}

// availableDeployments counts the Available Deployments in the fixture's
// namespaces.
func (f *fixture) availableDeployments() (available, total int) {
	for _, ns := range []string{f.prefix + "-uat", f.prefix + "-prod"} {
		list, err := f.kube.AppsV1().Deployments(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			f.t.Fatal(err)
		}
		for _, d := range list.Items {
			total++
			if health.Deployment(&d).Status == health.Healthy {
				available++
			}
		}
	}
	return available, total
}

// waitFor polls cond every 250 ms until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s (last: %s)", what, timeout, state)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// events counts the fixture's records by event.
func events(recs []history.Record) map[history.Event]int {
	out := map[history.Event]int{}
	for _, r := range recs {
		out[r.Event]++
	}
	return out
}

func isStalled(err error) bool {
	var s *reconciler.StalledError
	return errors.As(err, &s)
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// createSecret creates a Secret with placeholder values for keys.
func createSecret(t testing.TB, f *fixture, ns, name string, keys ...string) {
	t.Helper()
	data := map[string][]byte{}
	for _, k := range keys {
		data[k] = []byte("placeholder-" + k)
	}
	_, err := f.kube.CoreV1().Secrets(ns).Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name}, Data: data}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}
