package github

import (
	"bytes"
	"container/list"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// tokenTransport adds a personal token to a copy of each request.
type tokenTransport struct {
	next  http.RoundTripper
	token Secret
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+string(t.token))
	resp, err := t.next.RoundTrip(r)
	if resp != nil {
		resp.Request = req // the caller's request, without the credential
	}
	return resp, err
}

// hideAuth makes the responses of an authenticating transport point at the
// caller's request, not at the copy that carried the credential.
type hideAuth struct{ next http.RoundTripper }

func (t *hideAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if resp != nil {
		resp.Request = req
	}
	return resp, err
}

// RateLimitError means GitHub's rate limit stops cairn's calls until Until,
// further away than cairn waits (Config.MaxRateWait), or that the retries of
// a limited call ran out. A reconciler should retry the revision after
// Until; nothing is wrong with the revision itself.
type RateLimitError struct {
	// Secondary is true for a secondary (abuse) limit, false for the
	// primary hourly quota.
	Secondary bool
	// Until is when GitHub said calls may resume.
	Until time.Time
	// Attempts is how many times the call was sent.
	Attempts int
}

func (e *RateLimitError) Error() string {
	kind := "rate limit"
	if e.Secondary {
		kind = "secondary rate limit"
	}
	return fmt.Sprintf("github: %s exceeded until %s (after %d attempts)",
		kind, e.Until.UTC().Format(time.RFC3339), e.Attempts)
}

// rateTransport waits out and retries rate-limited calls. It is the only
// place that handles GitHub's rate limits: it hides the reset of an
// exhausted quota from go-github, whose own check would fail the next call
// at once instead of waiting.
type rateTransport struct {
	next       http.RoundTripper
	clock      clock.Clock
	maxWait    time.Duration
	maxRetries int
	log        *slog.Logger

	mu        sync.Mutex
	exhausted time.Time // the quota's reset when a response said none remains
}

// limit is what a response says about rate limits.
type limit struct {
	secondary bool
	wait      time.Duration
}

func (t *rateTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		if err := t.waitQuota(req, attempt); err != nil {
			return nil, err
		}
		r, err := rewind(req)
		if err != nil {
			return nil, err
		}
		resp, err := t.next.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		t.observe(resp)
		lim, limited := t.classify(resp, attempt)
		if !limited {
			hideReset(resp)
			return resp, nil
		}
		drain(resp)
		if err := t.backoff(req, lim, attempt); err != nil {
			return nil, err
		}
	}
}

// waitQuota waits before a request when an earlier response exhausted the
// quota, or fails when the reset is too far away.
func (t *rateTransport) waitQuota(req *http.Request, attempt int) error {
	t.mu.Lock()
	until := t.exhausted
	t.mu.Unlock()
	wait := until.Sub(t.clock.Now())
	if wait <= 0 {
		return nil
	}
	return t.backoff(req, limit{wait: wait}, attempt-1)
}

// backoff sleeps for lim, or fails when the wait is too long or the
// retries ran out.
func (t *rateTransport) backoff(req *http.Request, lim limit, attempts int) error {
	until := t.clock.Now().Add(lim.wait)
	if lim.wait > t.maxWait || attempts > t.maxRetries {
		return &RateLimitError{Secondary: lim.secondary, Until: until, Attempts: attempts}
	}
	t.log.LogAttrs(req.Context(), slog.LevelWarn, "github rate limit: waiting",
		slog.String("method", req.Method), slog.String("path", req.URL.Path),
		slog.Bool("secondary", lim.secondary), slog.Duration("wait", lim.wait),
		slog.Int("attempt", attempts))
	return sleep(req.Context(), t.clock, lim.wait)
}

// observe remembers an exhausted quota.
func (t *rateTransport) observe(resp *http.Response) {
	if resp.Header.Get("X-RateLimit-Remaining") != "0" {
		return
	}
	reset, ok := unixHeader(resp.Header.Get("X-RateLimit-Reset"))
	if !ok {
		return
	}
	t.mu.Lock()
	t.exhausted = reset.Add(time.Second) // GitHub's reset is whole seconds
	t.mu.Unlock()
}

// classify says whether resp is a rate-limit answer and how long to wait,
// following GitHub's guidance: Retry-After first, then the quota's reset,
// then at least a minute, doubling, for a secondary limit without either.
func (t *rateTransport) classify(resp *http.Response, attempt int) (limit, bool) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return limit{}, false
	}
	if d, ok := retryAfter(resp.Header.Get("Retry-After"), t.clock.Now()); ok {
		return limit{secondary: true, wait: d}, true
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, ok := unixHeader(resp.Header.Get("X-RateLimit-Reset")); ok {
			return limit{wait: max(reset.Add(time.Second).Sub(t.clock.Now()), 0)}, true
		}
	}
	if mentionsSecondary(resp) {
		return limit{secondary: true, wait: time.Minute << (attempt - 1)}, true
	}
	return limit{}, false
}

// hideReset drops the reset of an exhausted quota from a response passed to
// go-github: rateTransport waits for it on the next call instead.
func hideReset(resp *http.Response) {
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		resp.Header.Del("X-RateLimit-Reset")
	}
}

func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

func unixHeader(v string) (time.Time, bool) {
	s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(s, 0), true
}

// mentionsSecondary reads a 403's body (at most 64 KiB) for GitHub's
// secondary-limit message, and puts the body back.
func mentionsSecondary(resp *http.Response) bool {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return false
	}
	msg := strings.ToLower(string(b))
	return strings.Contains(msg, "secondary rate limit") || strings.Contains(msg, "abuse detection")
}

// rewind returns req ready to send again: its body, if any, fresh.
func rewind(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody == nil {
		return req, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("github: rewind request body: %w", err)
	}
	r := req.Clone(req.Context())
	r.Body = body
	return r, nil
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

func sleep(ctx context.Context, clk clock.Clock, d time.Duration) error {
	t := clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("github rate limit wait: %w", ctx.Err())
	case <-t.C():
		return nil
	}
}

// cacheTransport makes every GET a conditional request: it keeps the last
// 200 answer with an ETag or Last-Modified per URL, sends the validators,
// and answers a 304 with the kept body (and the 304's fresh headers). It
// never answers without asking GitHub, so nothing it returns is stale.
type cacheTransport struct {
	next http.RoundTripper
	max  int

	mu      sync.Mutex
	order   *list.List // of *cacheEntry, most recent first
	entries map[string]*list.Element
}

type cacheEntry struct {
	key, etag, modified string
	header              http.Header
	body                []byte
}

// maxCachedBody is the largest body kept; bigger answers pass uncached.
const maxCachedBody = 4 << 20

func newCacheTransport(next http.RoundTripper, maxEntries int) *cacheTransport {
	return &cacheTransport{next: next, max: maxEntries, order: list.New(),
		entries: map[string]*list.Element{}}
}

func (t *cacheTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.Header.Get("If-None-Match") != "" ||
		req.Header.Get("If-Modified-Since") != "" {
		return t.next.RoundTrip(req)
	}
	key := req.URL.String() + "\x00" + req.Header.Get("Accept")
	e := t.get(key)
	r := req
	if e != nil {
		r = req.Clone(req.Context())
		if e.etag != "" {
			r.Header.Set("If-None-Match", e.etag)
		}
		if e.modified != "" {
			r.Header.Set("If-Modified-Since", e.modified)
		}
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Request = req
	if resp.StatusCode == http.StatusNotModified && e != nil {
		return replay(resp, e), nil
	}
	if resp.StatusCode == http.StatusOK {
		return t.keep(key, resp)
	}
	return resp, nil
}

// replay turns a 304 into the kept 200, with the 304's headers on top.
func replay(resp *http.Response, e *cacheEntry) *http.Response {
	drain(resp)
	h := e.header.Clone()
	for k, v := range resp.Header {
		h[k] = v
	}
	h.Del("Content-Length")
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: resp.Proto,
		ProtoMajor: resp.ProtoMajor, ProtoMinor: resp.ProtoMinor, Header: h,
		Body: io.NopCloser(bytes.NewReader(e.body)), ContentLength: int64(len(e.body)),
		Request: resp.Request,
	}
}

// keep stores a 200 answer with validators and returns it with its body
// readable again.
func (t *cacheTransport) keep(key string, resp *http.Response) (*http.Response, error) {
	etag, modified := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag == "" && modified == "" {
		return resp, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxCachedBody+1))
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("github: read response: %w", err)
	}
	if len(b) > maxCachedBody {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
		return resp, nil
	}
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	t.put(&cacheEntry{key: key, etag: etag, modified: modified, header: resp.Header.Clone(), body: b})
	return resp, nil
}

func (t *cacheTransport) get(key string) *cacheEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.entries[key]
	if !ok {
		return nil
	}
	t.order.MoveToFront(el)
	return el.Value.(*cacheEntry)
}

func (t *cacheTransport) put(e *cacheEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if el, ok := t.entries[e.key]; ok {
		el.Value = e
		t.order.MoveToFront(el)
		return
	}
	t.entries[e.key] = t.order.PushFront(e)
	for t.order.Len() > t.max {
		last := t.order.Back()
		t.order.Remove(last)
		delete(t.entries, last.Value.(*cacheEntry).key)
	}
}
