package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cairn-gitops/cairn/internal/health"
)

// waitAvailable polls the Deployments of namespaces every 250 ms until want
// of them are Available at their latest generation.
func waitAvailable(ctx context.Context, kube kubernetes.Interface, namespaces []string, want int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		got, err := countAvailable(ctx, kube, namespaces)
		if err == nil && got >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d Deployments Available after %s (last error: %v)", got, want, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func countAvailable(ctx context.Context, kube kubernetes.Interface, namespaces []string) (int, error) {
	n := 0
	for _, ns := range namespaces {
		list, err := kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return n, err
		}
		for i := range list.Items {
			if health.Deployment(&list.Items[i]).Status == health.Healthy {
				n++
			}
		}
	}
	return n, nil
}

// timeline is when the objects of a phase appeared, from the API server's
// timestamps (whole seconds), relative to the phase's start.
type timeline struct {
	deployments, pods    int
	firstPod, lastPod    time.Duration // pod creation
	lastDeployment       time.Duration // Deployment creation: the last install
	lastAvailable        time.Duration // the last Deployment's Available transition
	podsPerSecond        float64       // pods created per second, first to last
	deploymentsPerSecond float64       // Deployments created per second, first to last
}

// timelineOf reads the Deployments and pods of namespaces.
func timelineOf(ctx context.Context, kube kubernetes.Interface, namespaces []string, start time.Time) (timeline, error) {
	var t timeline
	var firstDep time.Time
	for _, ns := range namespaces {
		deps, err := kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return t, err
		}
		for _, d := range deps.Items {
			t.deployments++
			created := d.CreationTimestamp.Time
			if firstDep.IsZero() || created.Before(firstDep) {
				firstDep = created
			}
			t.lastDeployment = max(t.lastDeployment, created.Sub(start))
			for _, c := range d.Status.Conditions {
				if c.Type == appsv1.DeploymentAvailable && c.Status == "True" {
					t.lastAvailable = max(t.lastAvailable, c.LastTransitionTime.Sub(start))
				}
			}
		}
		pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return t, err
		}
		for _, p := range pods.Items {
			at := p.CreationTimestamp.Sub(start)
			if t.pods == 0 || at < t.firstPod {
				t.firstPod = at
			}
			t.lastPod = max(t.lastPod, at)
			t.pods++
		}
	}
	if span := t.lastPod - t.firstPod; span > 0 {
		t.podsPerSecond = float64(t.pods) / span.Seconds()
	}
	if span := start.Add(t.lastDeployment).Sub(firstDep); span > 0 {
		t.deploymentsPerSecond = float64(t.deployments) / span.Seconds()
	}
	return t, nil
}

// cpuUse is CPU time (user + system) by process: the control plane's
// programs (this process's children, by name) and this process ("bench").
type cpuUse map[string]time.Duration

// readCPU reads the CPU time of this process and of its running children.
func readCPU() cpuUse {
	use := cpuUse{}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		use["bench"] = tv(ru.Utime) + tv(ru.Stime)
	}
	self := strconv.Itoa(os.Getpid())
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(s[end+1:]) // f[0] is field 3 (state)
		if len(f) < 13 || f[1] != self {
			continue
		}
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		use[s[open+1:end]] += time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100
	}
	return use
}

func tv(t syscall.Timeval) time.Duration {
	return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
}

// minus is the CPU time used since before.
func (u cpuUse) minus(before cpuUse) cpuUse {
	out := cpuUse{}
	for k, v := range u {
		out[k] = v - before[k]
	}
	return out
}

// String lists the processes by CPU time, most first.
func (u cpuUse) String() string {
	keys := slices.Collect(maps.Keys(u))
	slices.SortFunc(keys, func(a, b string) int { return int(u[b] - u[a]) })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.1f s", k, u[k].Seconds()))
	}
	return strings.Join(parts, ", ")
}

// requestCounts are the API server's requests by "VERB resource[/subresource]",
// from its apiserver_request_total metric.
type requestCounts map[string]float64

// readRequests reads the API server's /metrics.
func readRequests(ctx context.Context, kube kubernetes.Interface) (requestCounts, error) {
	b, err := kube.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	out := requestCounts{}
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "apiserver_request_total{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		l := map[string]string{}
		for _, kv := range strings.Split(labels, ",") {
			k, v, _ := strings.Cut(kv, "=")
			l[k] = strings.Trim(v, `"`)
		}
		key := l["verb"] + " " + l["resource"]
		if l["subresource"] != "" {
			key += "/" + l["subresource"]
		}
		n, _ := strconv.ParseFloat(value, 64)
		out[key] += n
	}
	return out, nil
}

// since is the requests made after before.
func (r requestCounts) since(before requestCounts) requestCounts {
	out := requestCounts{}
	for k, v := range r {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// top lists the n most frequent kinds of request and the total.
func (r requestCounts) top(n int) string {
	keys := slices.Collect(maps.Keys(r))
	slices.SortFunc(keys, func(a, b string) int { return int(r[b] - r[a]) })
	total := 0.0
	for _, v := range r {
		total += v
	}
	parts := []string{fmt.Sprintf("%.0f in all", total)}
	for _, k := range keys[:min(n, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, r[k]))
	}
	return strings.Join(parts, ", ")
}
