package helm

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	benchWorkers    = flag.Int("apply.workers", 8, "BenchmarkApply: concurrent applies")
	benchNamespaces = flag.Int("apply.namespaces", 10, "BenchmarkApply: namespaces the releases spread over")
)

// BenchmarkApply installs b.N adapters (the example repository's, renamed)
// with a pool of -apply.workers and reports releases/s. For the figure of
// record:
//
//	CI=true go test ./internal/helm -run '^$' -bench BenchmarkApply -benchtime 200x
func BenchmarkApply(b *testing.B) {
	e := newEnv(b, Options{Timeout: 2 * time.Minute})
	ctx := context.Background()
	if _, err := e.c.List(ctx); err != nil { // discovery and the first connection
		b.Fatal(err)
	}
	templates := benchTemplates(b)
	prefix := namespace("bench")
	releases := make([]Release, b.N)
	for i := range releases {
		r := adapter(b, templates[i%len(templates)], fmt.Sprintf("%s-%d", prefix, i%*benchNamespaces))
		r.Name = fmt.Sprintf("%s-%d", r.Name, i)
		releases[i] = r
	}
	if _, err := e.c.capabilities(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	errs := applyAll(ctx, e.c, releases, *benchWorkers)
	elapsed := time.Since(start)
	b.StopTimer()
	for _, err := range errs {
		b.Error(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "releases/s")
}

// benchTemplates are the example releases that can be installed many times
// (not client-bluefin-acceptor, whose node port is fixed).
func benchTemplates(b *testing.B) []string {
	example(b, "prod/lse-fix-primary")
	var keys []string
	for k := range examples.releases {
		if !strings.Contains(k, "bluefin") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// applyAll applies releases with a pool of workers and returns the errors.
func applyAll(ctx context.Context, c *Client, releases []Release, workers int) []error {
	next := make(chan Release)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range next {
				if out, err := c.Apply(ctx, r); err != nil || out.Action != Installed {
					mu.Lock()
					errs = append(errs, fmt.Errorf("%s: %+v %w", r.Key(), out, err))
					mu.Unlock()
				}
			}
		}()
	}
	for _, r := range releases {
		next <- r
	}
	close(next)
	wg.Wait()
	return errs
}
