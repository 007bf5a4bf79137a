package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// results are the figures of one run.
type results struct {
	n, peerN int
	peer     peerResult
	cold     coldResult
	warm     warmResult
	commit   commitResult
}

// memStats is this process's memory after the in-process part.
type memStats struct {
	heapLive        uint64 // bytes of live heap objects after a GC
	rssKiB, hwmKiB  int64  // VmRSS and VmHWM
	heapGoal, total uint64
}

func readMemory() memStats {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/goal:bytes"},
		{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	m := memStats{heapLive: s[0].Value.Uint64(), heapGoal: s[1].Value.Uint64(), total: s[2].Value.Uint64()}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			m.rssKiB = kb
		case "VmHWM":
			m.hwmKiB = kb
		}
	}
	return m
}

// row is one line of the table.
type row struct {
	what, figure, floor string
	met                 string // "yes", "NO", or "" (no floor)
}

func check(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

// print writes the table and the notes under it; it reports whether a
// floor was missed.
func (r *results) print(w io.Writer) (missed bool) {
	p, c, wm, cm := r.peer, r.cold, r.warm, r.commit
	noop := quantile(wm.noop, 0.5)
	p50, p90 := quantile(cm.latency, 0.5), quantile(cm.latency, 0.9)
	coldRate := rate(r.n, c.wall)
	rows := []row{
		{fmt.Sprintf("peer: Helm install loop, %d releases, installed", r.peerN),
			fmt.Sprintf("%.1f s, %.1f/s", p.install.Seconds(), rate(r.peerN, p.install)), "", ""},
		{fmt.Sprintf("peer: Helm install loop, %d releases, installed and Available", r.peerN),
			fmt.Sprintf("%.1f s, %.1f/s", p.healthy.Seconds(), rate(r.peerN, p.healthy)), "", ""},
		{fmt.Sprintf("cairn reconcile --once: %d releases, the pass (installed)", r.n),
			fmt.Sprintf("%.1f s, %.1f/s", c.pass.Seconds(), rate(r.n, c.pass)), "", ""},
		{fmt.Sprintf("cairn reconcile --once --wait: %d releases installed and healthy", r.n),
			fmt.Sprintf("%.1f s, %.1f/s", c.wall.Seconds(), coldRate), ">= 20/s", check(coldRate >= 20)},
		{"cairn reconcile --once: peak RSS", fmt.Sprintf("%d MiB", c.maxRSS/1024), "< 200 MB",
			check(c.maxRSS*1024 < 200e6)},
		{"in process: first reconcile (List, nothing to apply)",
			fmt.Sprintf("%d ms, %d requests, %d writes", wm.first.Milliseconds(), wm.firstReq, wm.firstWrites),
			"0 writes", check(wm.firstWrites == 0)},
		{fmt.Sprintf("in process: reconcile with nothing changed (median of %d)", len(wm.noop)),
			fmt.Sprintf("%.1f ms, %d requests, %d writes", ms(noop), wm.noopReq, wm.noopWrites),
			"< 100 ms, 0 writes", check(noop < 100*time.Millisecond && wm.noopWrites == 0)},
		{fmt.Sprintf("in process: one-adapter commit applied, p50 of %d", len(cm.latency)),
			fmt.Sprintf("%d ms", p50.Milliseconds()), "< 1 s", check(p50 < time.Second)},
		{"in process: one-adapter commit applied, p90",
			fmt.Sprintf("%d ms", p90.Milliseconds()), "", ""},
		{fmt.Sprintf("in process: live heap after GC / RSS (bench process, reconciler of %d alive)", r.n),
			fmt.Sprintf("%d / %d MiB", wm.mem.heapLive>>20, wm.mem.rssKiB/1024), "", ""},
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-80s  %-34s  %-18s  %s\n", "what", "figure", "floor", "met?")
	for _, x := range rows {
		fmt.Fprintf(w, "%-80s  %-34s  %-18s  %s\n", x.what, x.figure, x.floor, x.met)
		missed = missed || x.met == "NO"
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "cairn's throughput over the peer's (installed and healthy): %.1fx\n", coldRate/rate(r.peerN, p.healthy))
	fmt.Fprintf(w, "cold run, timeline from cairn's start (API server timestamps, whole seconds): %d Deployments, last created at %.0f s (%.1f/s); %d pods created from %.0f to %.0f s (%.1f pods/s); last Deployment Available at %.0f s\n",
		c.tl.deployments, c.tl.lastDeployment.Seconds(), c.tl.deploymentsPerSecond, c.tl.pods,
		c.tl.firstPod.Seconds(), c.tl.lastPod.Seconds(), c.tl.podsPerSecond, c.tl.lastAvailable.Seconds())
	fmt.Fprintf(w, "cairn reconcile's resident memory, sampled every 50 ms, at its highest: %d MiB = %d MiB anonymous (heap, stacks) + %d MiB file-backed (the executable's pages)\n",
		c.rss.rss/1024, c.rss.anon/1024, c.rss.file/1024)
	fmt.Fprintf(w, "CPU during the cold run (%.1f s wall, %.1f s of 2 cores): cairn %.1f s; %s\n",
		c.wall.Seconds(), 2*c.wall.Seconds(), c.cpu.Seconds(), c.plane)
	fmt.Fprintf(w, "API server requests during the cold run: %s\n", c.requests.top(14))
	fmt.Fprintf(w, "CPU during the peer (%.1f s wall): %s\n", p.healthy.Seconds(), p.cpu)
	fmt.Fprintf(w, "API server requests during the peer: %s\n", p.requests.top(14))
	fmt.Fprintf(w, "one-adapter commits: latencies %s; requests per Reconcile %v; %d writes in all\n",
		durations(cm.latency), cm.requests, cm.writes)
	fmt.Fprintf(w, "one-adapter commit, medians: the pass %d ms (Helm's upgrade of the release %d ms; the rest: fetch, validate and render all %d adapters, gate), after the pass (audit record, health of every adapter) %d ms; one RefreshHealth alone %d ms\n",
		quantile(cm.pass, 0.5).Milliseconds(), quantile(cm.upgrade, 0.5).Milliseconds(), r.n,
		quantile(minus(cm.latency, cm.pass), 0.5).Milliseconds(), wm.health.Milliseconds())
	fmt.Fprintf(w, "no-op passes: %s; first fetch into a new clone %d ms\n", durations(wm.noop), wm.clone.Milliseconds())
	fmt.Fprintf(w, "bench process: VmHWM %d MiB, Go runtime total %d MiB, heap goal %d MiB\n",
		wm.mem.hwmKiB/1024, wm.mem.total>>20, wm.mem.heapGoal>>20)
	if missed {
		fmt.Fprintln(w, "FAIL (a floor is not met)")
	} else {
		fmt.Fprintln(w, "PASS")
	}
	return missed
}

// minus is a[i] - b[i].
func minus(a, b []time.Duration) []time.Duration {
	out := make([]time.Duration, len(a))
	for i := range a {
		out[i] = a[i] - b[i]
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func durations(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		if d < 10*time.Millisecond {
			s = append(s, fmt.Sprintf("%.2fms", ms(d)))
		} else {
			s = append(s, d.Round(time.Millisecond).String())
		}
	}
	return strings.Join(s, " ")
}
