package helm

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder records the requests a Client makes.
type recorder struct {
	mu    sync.Mutex
	paths []string
}

// wrap is a rest.Config's WrapTransport.
func (r *recorder) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		r.mu.Lock()
		r.paths = append(r.paths, req.Method+" "+req.URL.Path)
		r.mu.Unlock()
		return next.RoundTrip(req)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.paths
	r.paths = nil
	return p
}

// TestRequestsPerInstall checks the cost of an install once the Client is
// warm: no discovery, no OpenAPI download, no namespace check for a known
// namespace, and a bounded number of requests (Helm's: reachability, two
// record reads, a conflict check and a create per object, the record
// written twice).
func TestRequestsPerInstall(t *testing.T) {
	cfg := cluster.Get(t).RESTConfig()
	rec := &recorder{}
	cfg.WrapTransport = rec.wrap
	c, err := New(Options{REST: cfg, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ns := namespace("requests")
	if _, err := c.Apply(ctx, adapter(t, "prod/tcp-marketdata-feed", ns)); err != nil {
		t.Fatal(err)
	}
	rec.take()
	r := adapter(t, "prod/lse-fix-primary", ns) // 6 objects
	if _, err := c.Apply(ctx, r); err != nil {
		t.Fatal(err)
	}
	paths := rec.take()
	for _, p := range paths {
		if strings.Contains(p, "/openapi") || !strings.Contains(p, "/namespaces/"+ns+"/") && p != "GET /version" {
			t.Errorf("a warm install made request %s", p)
		}
	}
	if want := 4 + 2*6 + 2; len(paths) > want {
		t.Errorf("install made %d requests, want at most %d:\n%s", len(paths), want, strings.Join(paths, "\n"))
	}
}
