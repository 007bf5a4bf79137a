// Command reconcile is the reconcile benchmark that bench/reconcile.sh runs.
// In one run, on one fresh local control plane (internal/testcluster: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok), it
// measures side by side:
//
//  1. the peer: a bare sequential loop over Helm's install action
//     (client-side OpenAPI validation off, no wait) installing -peer
//     generated adapters with the embedded adapter chart and the values
//     cairn renders for them, into namespaces of their own; then the time
//     until their Deployments are Available;
//  2. cairn cold: `cairn reconcile --once --wait 15m` as a subprocess on -n
//     generated adapters, from an empty set of releases to every release
//     installed and healthy, with the subprocess's peak RSS;
//  3. cairn warm, in process: a reconciler on the same repository and
//     cluster whose first pass loads the releases (one List) and finds
//     nothing to apply, then -noops passes with nothing changed, counting
//     the requests each sends;
//  4. -commits one-adapter commits, each timed from the call to Reconcile
//     to its return with that one release upgraded.
//
// It prints a table (what, figure, floor, met?) and exits 1 when a floor is
// missed. Helm's action package is imported here only for the peer, which
// is Helm itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/cairn-gitops/cairn/internal/demo"
	"github.com/cairn-gitops/cairn/internal/manifest"
	"github.com/cairn-gitops/cairn/internal/testcluster"
)

// config is what the flags say.
type config struct {
	n, peer        int    // adapters cairn applies; releases the peer installs
	gen, cairn     string // the bench/gen and cairn binaries
	schema, work   string // schema directory for bench/gen; working directory
	noops, commits int    // warm passes with nothing changed; one-adapter commits
	cpuProfile     string // CPU profile of the in-process part (warm and commits)
	clusterLog     string // where the control plane's output goes
	coldWait       time.Duration
	pause          time.Duration // before each one-adapter commit
	cairnGodebug   string        // GODEBUG of the cairn subprocess (gctrace=1, say)
	controllers    string        // "workload" or "all" controllers in kube-controller-manager
}

func main() {
	if code, served := manifest.ServeChild(); served { // the Jsonnet sandbox
		os.Exit(code)
	}
	var c config
	flag.IntVar(&c.n, "n", 1000, "adapters cairn reconciles")
	flag.IntVar(&c.peer, "peer", 300, "releases the peer (a loop over Helm's install action) installs")
	flag.StringVar(&c.gen, "gen", "", "bench/gen binary (required)")
	flag.StringVar(&c.cairn, "cairn", "", "cairn binary (required)")
	flag.StringVar(&c.schema, "schema", "schema", "schema directory, for bench/gen")
	flag.StringVar(&c.work, "work", "", "working directory (required; left in place)")
	flag.IntVar(&c.noops, "noops", 20, "reconciles with nothing changed")
	flag.IntVar(&c.commits, "commits", 20, "one-adapter commits")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the in-process part (warm passes and commits) here")
	flag.StringVar(&c.clusterLog, "cluster-log", "", "control plane output (default WORK/cluster.log)")
	flag.DurationVar(&c.coldWait, "wait", 15*time.Minute, "--wait given to cairn reconcile")
	flag.StringVar(&c.cairnGodebug, "cairn-godebug", "", "GODEBUG for the cairn subprocess, e.g. gctrace=1 (its stderr goes to WORK/cairn-cold.stderr)")
	flag.DurationVar(&c.pause, "pause", 500*time.Millisecond, "pause before each one-adapter commit")
	flag.StringVar(&c.controllers, "controllers", "workload", `kube-controller-manager's controllers: "workload" (what Deployment health needs) or "all"`)
	flag.Parse()
	if c.controllers != "workload" && c.controllers != "all" {
		flag.Usage()
		os.Exit(2)
	}
	if c.gen == "" || c.cairn == "" || c.work == "" || c.n < 1 || c.peer < 1 || c.noops < 1 || c.commits < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if c.clusterLog == "" {
		c.clusterLog = filepath.Join(c.work, "cluster.log")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	missed, err := run(ctx, c, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reconcile bench:", err)
		os.Exit(2)
	}
	if missed {
		os.Exit(1)
	}
}

// run runs the whole benchmark and prints the table; it reports whether a
// floor was missed.
func run(ctx context.Context, c config, out io.Writer) (missed bool, err error) {
	in, err := prepare(ctx, c, out)
	if err != nil {
		return false, err
	}
	logf, err := os.Create(c.clusterLog)
	if err != nil {
		return false, err
	}
	defer logf.Close()
	step(out, "starting the control plane: %d kwok nodes (110 pods each) for %d pods; %s controllers", in.nodes, in.pods, c.controllers)
	t0 := time.Now()
	opts := testcluster.Options{Nodes: in.nodes, ControllerManager: true, Scheduler: true, Kwok: true, Log: logf}
	if c.controllers == "workload" {
		opts.Controllers = testcluster.WorkloadControllers
	}
	cl, err := testcluster.Start(ctx, opts)
	if err != nil {
		return false, err
	}
	defer func() {
		if serr := cl.Stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	step(out, "control plane ready in %s (output in %s)", since(t0), c.clusterLog)
	kube, err := kubernetes.NewForConfig(cl.RESTConfig())
	if err != nil {
		return false, err
	}
	t0 = time.Now()
	for _, dir := range []string{in.peerDir, in.srcDir} {
		if _, err := demo.SeedSecrets(ctx, kube, dir); err != nil {
			return false, fmt.Errorf("seed secrets of %s: %w", dir, err)
		}
	}
	step(out, "namespaces and Secrets of both repositories created in %s", since(t0))

	var r results
	r.n, r.peerN = c.n, c.peer
	if r.peer, err = runPeer(ctx, cl, kube, in, out); err != nil {
		return false, fmt.Errorf("peer: %w", err)
	}
	if r.cold, err = runCold(ctx, c, cl, kube, in, out); err != nil {
		return false, fmt.Errorf("cairn cold: %w", err)
	}
	if err := withProfile(c.cpuProfile, func() error {
		var err error
		r.warm, r.commit, err = runWarm(ctx, c, cl, in, out)
		return err
	}); err != nil {
		return false, fmt.Errorf("cairn warm: %w", err)
	}
	return r.print(out), nil
}

// withProfile runs fn under a CPU profile written to path, if path is set.
func withProfile(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	ferr := fn()
	pprof.StopCPUProfile()
	return errors.Join(ferr, f.Close())
}

func step(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "== "+format+"\n", args...)
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
