package testcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// TestStartWithoutBinaries checks the error that tells to build them.
func TestStartWithoutBinaries(t *testing.T) {
	_, err := Start(context.Background(), Options{BinDir: t.TempDir(), Kwok: true})
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("Start without binaries: got %v, want ErrNoBinaries", err)
	}
	for _, want := range []string{"make cluster-bins", "kube-apiserver", "kwok-stages.yaml"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestResolveBinDir checks that the default folder is the repository's.
func TestResolveBinDir(t *testing.T) {
	t.Setenv(BinDirEnv, "")
	dir, err := ResolveBinDir("")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(filepath.Dir(dir))
	if filepath.Base(dir) != "cluster-bins" || !isRepoRoot(root) {
		t.Errorf("ResolveBinDir = %s, want .cache/cluster-bins of the repository", dir)
	}
}

// TestLineWriter checks the prefixing and the kept tail.
func TestLineWriter(t *testing.T) {
	var buf bytes.Buffer
	w := &lineWriter{prefix: "p | ", w: &buf}
	fmt.Fprint(w, "one\ntw")
	fmt.Fprint(w, "o\nthree")
	w.flush()
	if got, want := buf.String(), "p | one\np | two\np | three\n"; got != want {
		t.Errorf("log = %q, want %q", got, want)
	}
	for i := range 2 * tailLines {
		fmt.Fprintf(w, "line %d\n", i)
	}
	tail := w.tail()
	if strings.Contains(tail, "line 0\n") || !strings.HasSuffix(tail, fmt.Sprintf("line %d", 2*tailLines-1)) {
		t.Errorf("tail keeps the wrong lines:\n%s", tail)
	}
}

// TestCluster starts a control plane with a fake node, runs a Deployment on
// it, checks that RBAC refuses strangers, and restarts the API server.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane (seconds); skipped in -short mode")
	}
	begin := time.Now()
	logPath := filepath.Join(t.TempDir(), "control-plane.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		logFile.Close()
		if t.Failed() {
			logTail(t, logPath, 80)
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{Nodes: 1, ControllerManager: true, Scheduler: true, Kwok: true, Log: logFile})
	if err != nil {
		SkipOrFail(t, err)
	}
	ready := time.Since(begin)
	t.Logf("control plane ready in %s (API server %s)", ready.Round(time.Millisecond), c.Host())
	stopped := false
	defer func() {
		if !stopped {
			if err := c.Stop(); err != nil {
				t.Error(err)
			}
		}
	}()

	// The kubeconfig works on its own.
	fromFile, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(fromFile)
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		t.Fatalf("server version through the kubeconfig: %v", err)
	}
	cs = kubernetes.NewForConfigOrDie(c.RESTConfig())

	// A Deployment of two replicas becomes Available on the fake node.
	const ns, name = "testcluster", "web"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, deployment(name, 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deployStart := time.Now()
	waitFor(ctx, t, "Deployment Available with 2 Running, Ready pods", func() error {
		return deploymentReady(ctx, cs, ns, name, 2)
	})
	t.Logf("Deployment available in %s", time.Since(deployStart).Round(time.Millisecond))

	// RBAC is on: no token is anonymous and refused; an unknown token is
	// not authenticated.
	anonymous := c.RESTConfig()
	anonymous.BearerToken = ""
	_, err = kubernetes.NewForConfigOrDie(anonymous).CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("listing namespaces without a token: got %v, want 403 Forbidden", err)
	}
	stranger := c.RESTConfig()
	stranger.BearerToken = "not-a-known-token"
	_, err = kubernetes.NewForConfigOrDie(stranger).CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if !apierrors.IsUnauthorized(err) {
		t.Errorf("listing namespaces with an unknown token: got %v, want 401 Unauthorized", err)
	}

	// The API server stops and comes back with the data.
	stopAPI := time.Now()
	if err := c.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	t.Logf("API server stopped in %s", time.Since(stopAPI).Round(time.Millisecond))
	short := c.RESTConfig()
	short.Timeout = 3 * time.Second
	if _, err := kubernetes.NewForConfigOrDie(short).AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
		t.Fatal("the API server answered after StopAPIServer")
	}
	restart := time.Now()
	if err := c.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("API server restarted in %s", time.Since(restart).Round(time.Millisecond))
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Deployment after the restart: %v", err)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("Deployment after the restart has replicas %v, want 2", d.Spec.Replicas)
	}
	waitFor(ctx, t, "Deployment still Available after the restart", func() error {
		return deploymentReady(ctx, cs, ns, name, 2)
	})

	dir := c.Dir()
	stopped = true
	stop := time.Now()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster stopped in %s", time.Since(stop).Round(time.Millisecond))
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Stop left %s behind (%v)", dir, err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	t.Logf("time to ready %s, total %s", ready.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
}

// deployment returns a Deployment of replicas pods (kwok runs no images).
func deployment(name string, replicas int32) *appsv1.Deployment {
	lbls := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: lbls},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: lbls},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "web",
					Image: "registry.invalid/web:1",
					Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
				}}},
			},
		},
	}
}

// deploymentReady reports why the Deployment is not yet Available with want
// Running and Ready pods, or nil.
func deploymentReady(ctx context.Context, cs kubernetes.Interface, ns, name string, want int) error {
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	available := false
	for _, cond := range d.Status.Conditions {
		if cond.Type == appsv1.DeploymentAvailable && cond.Status == corev1.ConditionTrue {
			available = true
		}
	}
	if !available || d.Status.AvailableReplicas != int32(want) {
		return fmt.Errorf("deployment: available=%v, %d of %d replicas available", available, d.Status.AvailableReplicas, want)
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(d.Spec.Selector.MatchLabels).String(),
	})
	if err != nil {
		return err
	}
	ready := 0
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning {
			continue
		}
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	if ready != want || len(pods.Items) != want {
		return fmt.Errorf("%d pods, %d Running and Ready, want %d", len(pods.Items), ready, want)
	}
	return nil
}

// waitFor polls check every 200ms until it returns nil; it fails the test
// with the last reason when ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, check func() error) {
	t.Helper()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last: %v)", what, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// logTail logs the last n lines of the control plane's output.
func logTail(t *testing.T, path string, n int) {
	data, err := os.ReadFile(path)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	t.Logf("last %d lines of the control plane's output:\n%s", len(lines), strings.Join(lines, "\n"))
}

// TestShared checks that a Shared cluster starts once, on first use, and
// that Stop removes the log file it made.
func TestShared(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane (seconds); skipped in -short mode")
	}
	s := &Shared{}
	c := s.Get(t)
	if again := s.Get(t); again != c {
		t.Fatal("a second Get started another cluster")
	}
	cs := kubernetes.NewForConfigOrDie(c.RESTConfig())
	if _, err := cs.CoreV1().Namespaces().Get(context.Background(), "default", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	logPath := s.logFile.Name()
	if err := s.Stop(false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(logPath); !os.IsNotExist(err) {
		t.Errorf("Stop(false) left the log file %s (%v)", logPath, err)
	}
	if _, err := os.Stat(c.Dir()); !os.IsNotExist(err) {
		t.Errorf("Stop left %s behind (%v)", c.Dir(), err)
	}
}
