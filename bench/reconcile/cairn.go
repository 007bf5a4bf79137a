package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/helm"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/internal/testcluster"
	"github.com/cairn-gitops/cairn/reconciler"
)

// coldResult is what `cairn reconcile --once --wait` measured.
type coldResult struct {
	wall   time.Duration // start to exit: every release installed and healthy
	pass   time.Duration // the reconcile pass, as cairn reports it (fetch to last install)
	maxRSS int64         // KiB
	rss    rssSample     // the sample of /proc/PID/status with the highest VmRSS
	// requests are the API server's requests meanwhile, from all clients.
	requests requestCounts
	cpu      time.Duration // the subprocess's user + system time
	plane    cpuUse        // the control plane's (and this process's) CPU meanwhile
	summary  string
	tl       timeline
}

// runCold runs cairn reconcile as a subprocess on the committed repository,
// its clone in a new state directory.
func runCold(ctx context.Context, c config, cl *testcluster.Cluster, kube kubernetes.Interface, in *input, out io.Writer) (coldResult, error) {
	var res coldResult
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, c.cairn, "reconcile", "--once", "--repo", in.repo, "--branch", "main",
		"--kubeconfig", cl.Kubeconfig(), "--state-dir", filepath.Join(c.work, "state-cold"),
		"--wait", c.coldWait.String())
	errPath := filepath.Join(c.work, "cairn-cold.stderr")
	stderr, err := os.Create(errPath)
	if err != nil {
		return res, err
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if c.cairnGodebug != "" {
		cmd.Env = append(os.Environ(), "GODEBUG="+c.cairnGodebug)
	}
	step(out, "cairn cold: %s (its stderr in %s)", cmd, errPath)
	reqBefore, err := readRequests(ctx, kube)
	if err != nil {
		return res, err
	}
	before := readCPU()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, err
	}
	done := make(chan struct{})
	peak := make(chan rssSample)
	go func() { peak <- sampleRSS(cmd.Process.Pid, done) }()
	err = cmd.Wait()
	res.wall = time.Since(start)
	close(done)
	res.rss = <-peak
	if reqs, rerr := readRequests(ctx, kube); rerr == nil {
		res.requests = reqs.since(reqBefore)
	}
	res.plane = readCPU().minus(before)
	res.summary = stdout.String()
	if err != nil {
		return res, fmt.Errorf("%s: %w\n%s", c.cairn, err, tail(res.summary, 20))
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	res.maxRSS, res.cpu = ru.Maxrss, tv(ru.Utime)+tv(ru.Stime)
	res.pass = passDuration(res.summary)
	fmt.Fprint(out, tail(res.summary, 3))
	if got, err := countAvailable(ctx, kube, in.namespaces); err != nil || got != c.n {
		return res, fmt.Errorf("after cairn reconcile: %d of %d Deployments Available (%v)", got, c.n, err)
	}
	if res.tl, err = timelineOf(ctx, kube, in.namespaces, start); err != nil {
		return res, err
	}
	step(out, "cairn cold: %d releases installed and healthy in %s (%.1f/s), the pass %s; peak RSS %d MiB",
		c.n, res.wall.Round(time.Millisecond), rate(c.n, res.wall), res.pass, res.maxRSS/1024)
	return res, nil
}

// rssSample is resident memory from /proc/PID/status, in KiB.
type rssSample struct{ rss, anon, file int64 }

// sampleRSS reads /proc/pid/status every 50 ms until done is closed, and
// returns the sample with the highest VmRSS: how much of the peak is the
// heap (anonymous) and how much the mapped executable (file).
func sampleRSS(pid int, done <-chan struct{}) rssSample {
	var peak rssSample
	path := fmt.Sprintf("/proc/%d/status", pid)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(path); err == nil {
			var s rssSample
			for _, line := range strings.Split(string(b), "\n") {
				k, v, _ := strings.Cut(line, ":")
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				switch k {
				case "VmRSS":
					s.rss = kb
				case "RssAnon":
					s.anon = kb
				case "RssFile":
					s.file = kb
				}
			}
			if s.rss > peak.rss {
				peak = s
			}
		}
		select {
		case <-done:
			return peak
		case <-tick.C:
		}
	}
}

// passRE reads the duration at the end of cairn's summary line.
var passRE = regexp.MustCompile(`(?m)^revision .*\) in (\S+)$`)

func passDuration(summary string) time.Duration {
	m := passRE.FindStringSubmatch(summary)
	if m == nil {
		return 0
	}
	d, _ := time.ParseDuration(m[1])
	return d
}

func tail(s string, lines int) string {
	b := []byte(s)
	for i, n := len(b)-1, 0; i >= 0; i-- {
		if b[i] == '\n' && i != len(b)-1 {
			if n++; n == lines {
				return string(b[i+1:])
			}
		}
	}
	return s
}

// warmResult is what the in-process reconciler measured.
type warmResult struct {
	clone                 time.Duration // the first fetch into a new clone (not a reconcile)
	first                 time.Duration // the first Reconcile: load, validate, render, List, nothing to apply
	firstReq, firstWrites int64
	noop                  []time.Duration // Reconciles with nothing changed
	noopReq, noopWrites   int64
	health                time.Duration // one RefreshHealth at the end
	mem                   memStats      // this process, the reconciler alive
}

// commitResult is what the one-adapter commits measured.
type commitResult struct {
	latency  []time.Duration // from the call to Reconcile to its return
	pass     []time.Duration // the pass as cairn reports it (fetch to the end of apply)
	upgrade  []time.Duration // Helm's upgrade of the one release, as recorded
	requests []int64         // per Reconcile
	writes   int64
}

// runWarm builds a reconciler like cairn serve does (instance "cairn", the
// releases cairn reconcile installed), measures passes with nothing
// changed, then one-adapter commits. Under -cpuprofile, samples carry the
// label part=first, noop, commit (writing the commit) or apply (the
// Reconcile that applies it).
func runWarm(ctx context.Context, c config, cl *testcluster.Cluster, in *input, out io.Writer) (warmResult, commitResult, error) {
	var w warmResult
	var cr commitResult
	n := &testcluster.RequestCounter{}
	hc, err := helm.New(helm.Options{REST: n.Wrap(cl.RESTConfig()), Timeout: time.Minute})
	if err != nil {
		return w, cr, err
	}
	remote, err := gitsource.OpenRemote(ctx, gitsource.RemoteOptions{URL: in.repo, Branch: "main",
		Dir: filepath.Join(c.work, "state-warm")})
	if err != nil {
		return w, cr, err
	}
	defer remote.Close()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mem := &history.Memory{}
	rec, err := reconciler.New(reconciler.Options{Source: reconciler.GitSource{Remote: remote}, Applier: hc,
		Recorder: mem, Status: status.NewStore(in.repo, "main"), Logger: log})
	if err != nil {
		return w, cr, err
	}
	t0 := time.Now()
	if _, err := remote.Fetch(ctx); err != nil {
		return w, cr, err
	}
	w.clone = time.Since(t0)

	step(out, "cairn warm, in process: the first reconcile (List, nothing to apply), then %d with nothing changed", c.noops)
	n.Reset()
	t0 = time.Now()
	if err := labelled(ctx, "first", rec.Reconcile); err != nil {
		return w, cr, fmt.Errorf("first reconcile: %w", err)
	}
	w.first = time.Since(t0)
	w.firstReq, w.firstWrites = n.Requests.Load(), n.Writes.Load()
	if l := rec.Status().Snapshot().Last; l == nil || l.Unchanged != c.n || l.Installed+l.Upgraded+l.Uninstalled != 0 {
		return w, cr, fmt.Errorf("first reconcile: %+v, want %d unchanged and nothing applied", l, c.n)
	}
	n.Reset()
	for range c.noops {
		t0 := time.Now()
		if err := labelled(ctx, "noop", rec.Reconcile); err != nil {
			return w, cr, fmt.Errorf("reconcile with nothing changed: %w", err)
		}
		w.noop = append(w.noop, time.Since(t0))
	}
	w.noopReq, w.noopWrites = n.Requests.Load(), n.Writes.Load()

	step(out, "cairn warm: %d one-adapter commits", c.commits)
	for i := range c.commits {
		if err := sleep(ctx, c.pause); err != nil {
			return w, cr, err
		}
		if err := labelled(ctx, "commit", func(context.Context) error { return commitOne(in, in.fixFiles[i], i) }); err != nil {
			return w, cr, err
		}
		n.Reset()
		t0 := time.Now()
		err := labelled(ctx, "apply", rec.Reconcile) // the trigger
		d := time.Since(t0)
		if err != nil {
			return w, cr, fmt.Errorf("commit %d: %w", i+1, err)
		}
		l := rec.Status().Snapshot().Last
		if l == nil || l.Upgraded != 1 || l.Unchanged != c.n-1 || l.Installed+l.Uninstalled+l.Failed != 0 {
			return w, cr, fmt.Errorf("commit %d: %+v, want one upgrade", i+1, l)
		}
		cr.latency, cr.pass = append(cr.latency, d), append(cr.pass, l.Duration)
		cr.upgrade = append(cr.upgrade, lastUpgrade(mem.Records()))
		cr.requests = append(cr.requests, n.Requests.Load())
		cr.writes += n.Writes.Load()
	}
	step(out, "cairn warm: one-adapter commits applied in %s (p50), %s (p90)",
		quantile(cr.latency, 0.5).Round(time.Millisecond), quantile(cr.latency, 0.9).Round(time.Millisecond))
	t0 = time.Now()
	if err := rec.RefreshHealth(ctx); err != nil {
		return w, cr, err
	}
	w.health = time.Since(t0)
	w.mem = readMemory()
	runtime.KeepAlive(rec)
	return w, cr, nil
}

// labelled runs fn with the pprof label part=name.
func labelled(ctx context.Context, name string, fn func(context.Context) error) error {
	var err error
	pprof.Do(ctx, pprof.Labels("part", name), func(ctx context.Context) { err = fn(ctx) })
	return err
}

// lastUpgrade is the duration of the last upgrade recorded.
func lastUpgrade(recs []history.Record) time.Duration {
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Event == history.AdapterUpgraded {
			return recs[i].Duration
		}
	}
	return 0
}

// heartbeatRE finds a FIX heartbeat in a generated adapter file.
var heartbeatRE = regexp.MustCompile(`"heartbeatSeconds": (\d+)`)

// commitOne changes the heartbeat of one adapter and commits it (go-git,
// through gitsource.CommitDir, with only that file to copy).
func commitOne(in *input, rel string, i int) error {
	path := filepath.Join(in.repo, rel)
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	m := heartbeatRE.FindSubmatchIndex(b)
	if m == nil {
		return fmt.Errorf("%s: no heartbeat", rel)
	}
	hb, _ := strconv.Atoi(string(b[m[2]:m[3]]))
	if hb++; hb > 300 {
		hb = 1
	}
	changed := slices.Concat(b[:m[2]], []byte(strconv.Itoa(hb)), b[m[3]:])
	src := filepath.Join(filepath.Dir(in.repo), fmt.Sprintf("commit-%02d", i))
	if err := os.MkdirAll(filepath.Join(src, filepath.Dir(rel)), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(src, rel), changed, 0o644); err != nil {
		return err
	}
	_, err = gitsource.CommitDir(in.repo, src, "main", fmt.Sprintf("%s: heartbeat %ds", filepath.Base(rel), hb),
		gitsource.Signature{Name: "Bench", Email: "bench@cairn.dev"})
	return err
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// quantile is the q-quantile of ds (nearest rank).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
