package testcluster

import (
	"net/http"
	"sync/atomic"

	"k8s.io/client-go/rest"
)

// RequestCounter counts the requests that clients built from the configs
// it wraps send to the API server, and among them the writes (every method
// but GET), so that a test or a benchmark can say "this made no request".
type RequestCounter struct {
	Requests, Writes atomic.Int64
}

// Reset sets both counts to zero.
func (n *RequestCounter) Reset() {
	n.Requests.Store(0)
	n.Writes.Store(0)
}

// Wrap returns a copy of cfg whose every request is counted.
func (n *RequestCounter) Wrap(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(r *http.Request) (*http.Response, error) {
			n.Requests.Add(1)
			if r.Method != http.MethodGet {
				n.Writes.Add(1)
			}
			return rt.RoundTrip(r)
		})
	})
	return c
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
