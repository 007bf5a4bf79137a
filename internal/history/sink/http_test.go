package sink

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/history"
)

// request is what the endpoint saw of one POST.
type request struct {
	at       time.Time // when it arrived
	answered time.Time // when the answer was written
	status   int
	header   http.Header
	records  []history.Stored
}

// endpoint is a real HTTP server that records every POST and answers as
// answer says (n counts requests from 1). It accepts the records of every
// request it answers with a 2xx.
type endpoint struct {
	*httptest.Server
	t      *testing.T
	answer func(n int, r *http.Request, h http.Header) (status int, body string)

	inFlight atomic.Int32
	mu       sync.Mutex
	requests []request
}

func newEndpoint(t *testing.T, answer func(n int, r *http.Request, h http.Header) (int, string)) *endpoint {
	e := &endpoint{t: t, answer: answer}
	e.Server = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) serve(w http.ResponseWriter, r *http.Request) {
	e.inFlight.Add(1)
	defer e.inFlight.Add(-1)
	req := request{at: time.Now(), header: r.Header.Clone()}
	body, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(body, &req.records)
	}
	if err != nil || r.Method != http.MethodPost {
		e.t.Errorf("endpoint: %s with a body that is not a JSON array of records: %v", r.Method, err)
	}
	e.mu.Lock()
	n := len(e.requests) + 1
	e.requests = append(e.requests, req)
	e.mu.Unlock()

	status, text := e.answer(n, r, w.Header())
	e.mu.Lock()
	e.requests[n-1].status, e.requests[n-1].answered = status, time.Now()
	e.mu.Unlock()
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

// hang waits until the request is abandoned or release is closed.
func hang(r *http.Request, release <-chan struct{}) {
	select {
	case <-r.Context().Done():
	case <-release:
	}
}

// releaseLater returns a channel closed when the test ends, unless the
// test closed it.
func releaseLater(t *testing.T) chan struct{} {
	c := make(chan struct{})
	t.Cleanup(func() {
		select {
		case <-c:
		default:
			close(c)
		}
	})
	return c
}

// seen returns a copy of the requests so far.
func (e *endpoint) seen() []request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.requests)
}

// accepted returns the records of the requests answered with a 2xx, in the
// order they arrived.
func (e *endpoint) accepted() []history.Stored {
	var out []history.Stored
	for _, r := range e.seen() {
		if r.status >= 200 && r.status < 300 {
			out = append(out, r.records...)
		}
	}
	return out
}

// checkAtLeastOnce fails t unless got, with duplicates of the same record
// dropped, is want in order, and every duplicate is the same record.
func checkAtLeastOnce(t *testing.T, got []history.Stored, want []int64) {
	t.Helper()
	var dedup []int64
	hashes := map[int64]string{}
	for _, r := range got {
		if h, ok := hashes[r.Seq]; ok {
			if h != r.Hash {
				t.Fatalf("record %d arrived twice with different hashes", r.Seq)
			}
			continue
		}
		hashes[r.Seq] = r.Hash
		dedup = append(dedup, r.Seq)
	}
	if !slices.Equal(dedup, want) {
		t.Fatalf("endpoint got %v (duplicates dropped), want %v", dedup, want)
	}
}

func TestHTTPRetriesUntilDelivered(t *testing.T) {
	store := openStore(t)
	release := make(chan struct{})
	ep := newEndpoint(t, func(n int, r *http.Request, h http.Header) (int, string) {
		switch n {
		case 1:
			return http.StatusInternalServerError, "boom"
		case 2:
			h.Set("Retry-After", "1")
			return http.StatusTooManyRequests, "slow down"
		case 3:
			hang(r, release) // beyond the 300ms timeout
			return http.StatusServiceUnavailable, ""
		}
		return http.StatusOK, ""
	})
	t.Cleanup(func() { close(release) })
	logs := &syncBuffer{}
	f := newForwarder(t, testOptions(t, store, logs))
	configure(t, f, httpDest(ep.URL+"/ingest", "300ms", nil))
	appendN(t, store, 250)
	run(t, f)
	f.Notify()

	name := "http " + ep.URL + "/ingest"
	eventually(t, 20*time.Second, "250 records delivered", func() bool { return stat(t, f, name).Delivered == 250 })
	got := ep.accepted()
	if !slices.Equal(seqs(got), span(1, 250)) {
		t.Fatalf("endpoint accepted %v, want 1..250 in order, each once", seqs(got))
	}
	checkChain(t, store, got)
	reqs := ep.seen()
	for i, r := range reqs {
		first, last := r.records[0].Seq, r.records[len(r.records)-1].Seq
		if r.header.Get("Content-Type") != "application/json" ||
			r.header.Get(HeaderFirstSeq) != strconv.FormatInt(first, 10) || r.header.Get(HeaderLastSeq) != strconv.FormatInt(last, 10) {
			t.Errorf("request %d: headers %v, want application/json and seqs %d..%d", i+1, r.header, first, last)
		}
		if len(r.records) > 100 {
			t.Errorf("request %d: %d records, want at most 100", i+1, len(r.records))
		}
	}
	if gap := reqs[2].at.Sub(reqs[1].answered); gap < 990*time.Millisecond {
		t.Errorf("retried %v after a 429 with Retry-After: 1", gap)
	}
	s := stat(t, f, name)
	if s.Failures != 3 || s.ConsecutiveFailures != 0 || !strings.Contains(s.LastError, "deadline exceeded") {
		t.Errorf("Stats %+v, want 3 failures, none now, the last a timeout", s)
	}
	if n := strings.Count(logs.String(), "level=WARN msg=\"audit destination failing; retrying\""); n != 1 {
		t.Errorf("%d warnings for one streak of failures, want 1:\n%s", n, logs)
	}
	// The recovery is logged after the batch is counted as delivered.
	eventually(t, 5*time.Second, "the recovery logged", func() bool {
		return strings.Contains(logs.String(), "audit destination delivering again")
	})
}

func TestHTTPDownBlocksNeitherAppendsNorOtherDestinations(t *testing.T) {
	store := openStore(t)
	up := releaseLater(t)
	ep := newEndpoint(t, func(n int, r *http.Request, h http.Header) (int, string) {
		hang(r, up)
		return http.StatusOK, ""
	})
	stdout := &syncBuffer{}
	opts := testOptions(t, store, &syncBuffer{})
	opts.Stdout = stdout
	f := newForwarder(t, opts)
	path := filepath.Join(t.TempDir(), "audit.log")
	configure(t, f, httpDest(ep.URL, "30s", nil), stdoutDest(), fileDest(path, nil))
	run(t, f)

	var slowest time.Duration
	for i := range 40 {
		start := time.Now()
		if err := store.Append(context.Background(), record(i, 0)); err != nil {
			t.Fatalf("Append: %v", err)
		}
		slowest = max(slowest, time.Since(start))
		f.Notify()
		if i == 0 {
			eventually(t, 5*time.Second, "the endpoint holds a request", func() bool { return ep.inFlight.Load() > 0 })
		}
	}
	eventually(t, 10*time.Second, "stdout and the file get 1..40", func() bool {
		data, _ := os.ReadFile(path)
		return len(decodeLines(t, stdout.String())) == 40 && len(decodeLines(t, complete(string(data)))) == 40
	})
	if ep.inFlight.Load() == 0 || len(ep.accepted()) > 0 {
		t.Fatalf("the endpoint was meant to be hanging meanwhile")
	}
	if slowest > time.Second {
		t.Errorf("the slowest Append took %v while the endpoint hung", slowest)
	}
	data, _ := os.ReadFile(path)
	for what, got := range map[string][]int64{"stdout": seqs(decodeLines(t, stdout.String())),
		"file": seqs(decodeLines(t, string(data)))} {
		if !slices.Equal(got, span(1, 40)) {
			t.Errorf("%s got %v, want 1..40", what, got)
		}
	}

	close(up)
	eventually(t, 10*time.Second, "the endpoint gets 1..40", func() bool {
		return len(ep.accepted()) > 0 && ep.accepted()[len(ep.accepted())-1].Seq == 40
	})
	checkAtLeastOnce(t, ep.accepted(), span(1, 40))
}

// writeSecret writes the file of one header.
func writeSecret(t *testing.T, dir, name, key, value string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, name), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name, key), []byte(value), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestHTTPHeadersFromSecretsNeverLeak(t *testing.T) {
	const token, tenant, password = "s3cr3t-T0KEN-value", "tenant-secret-42", "pa55w0rd-XYZ"
	store := openStore(t)
	ep := newEndpoint(t, func(n int, r *http.Request, h http.Header) (int, string) {
		if n <= 3 { // an endpoint that echoes what it refuses
			return http.StatusUnauthorized, "bad credentials: " + r.Header.Get("Authorization") + " " + r.Header.Get("X-Tenant")
		}
		return http.StatusNoContent, ""
	})
	logs := &syncBuffer{}
	opts := testOptions(t, store, logs)
	writeSecret(t, opts.SecretDir, "siem", "Authorization", "Bearer "+token+"\n")
	writeSecret(t, opts.SecretDir, "siem", "X-Tenant", tenant)
	writeSecret(t, opts.SecretDir, "siem", "X-Not-Listed", "not-sent")
	f := newForwarder(t, opts)
	ref := &v1alpha1.SecretRef{Name: "siem", Keys: []string{"Authorization", "X-Tenant"}}
	withUser := strings.Replace(ep.URL, "http://", "http://alice:"+password+"@", 1)
	unreachable := "http://bob:" + password + "@127.0.0.1:1/x" // nothing listens on port 1
	configure(t, f, httpDest(withUser+"/ingest", "", ref), httpDest(unreachable, "", ref))
	run(t, f)
	appendN(t, store, 5)
	f.Notify()

	name := "http " + ep.URL + "/ingest"
	eventually(t, 10*time.Second, "5 records delivered after 3 refusals", func() bool { return stat(t, f, name).Delivered == 5 })
	eventually(t, 10*time.Second, "the unreachable endpoint failed twice", func() bool {
		return stat(t, f, "http http://127.0.0.1:1/x").Failures >= 2
	})
	for i, r := range ep.seen() {
		if r.header.Get("Authorization") != "Bearer "+token || r.header.Get("X-Tenant") != tenant || r.header.Get("X-Not-Listed") != "" {
			t.Fatalf("request %d: headers %v, want Authorization and X-Tenant from the Secret, nothing else", i+1, r.header)
		}
	}
	stats, _ := json.Marshal(f.Stats())
	state, _ := os.ReadFile(filepath.Join(opts.StateDir, StateFile))
	for what, text := range map[string]string{"logs": logs.String(), "Stats": string(stats), "state": string(state)} {
		for _, secret := range []string{token, tenant, password, "alice", "bob"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s holds %q:\n%s", what, secret, text)
			}
		}
	}
	if !strings.Contains(string(stats), "401 Unauthorized") || !strings.Contains(string(stats), "connection refused") {
		t.Errorf("Stats do not say what failed: %s", stats)
	}
	t.Log(logs.String())
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d errors logged for one streak of 401s, want 1:\n%s", n, logs)
	}
}

func TestRestartResumesAfterCursor(t *testing.T) {
	store := openStore(t)
	ep := newEndpoint(t, func(int, *http.Request, http.Header) (int, string) { return http.StatusOK, "" })
	opts := testOptions(t, store, &syncBuffer{})
	dest := httpDest(ep.URL, "", nil)

	first := newForwarder(t, opts)
	configure(t, first, dest)
	stop := run(t, first)
	appendN(t, store, 10)
	first.Notify()
	eventually(t, 10*time.Second, "records 1..10 delivered", func() bool { return len(ep.accepted()) == 10 })
	stop()

	appendN(t, store, 10) // while no forwarder runs
	second := newForwarder(t, opts)
	configure(t, second, dest)
	run(t, second)
	eventually(t, 10*time.Second, "records 11..20 delivered", func() bool { return len(ep.accepted()) >= 20 })
	if got := seqs(ep.accepted()); !slices.Equal(got, span(1, 20)) {
		t.Fatalf("endpoint got %v, want 1..20, none sent twice", got)
	}
	eventually(t, 5*time.Second, "the state folder holds only the state file, with cursor 20", func() bool {
		entries, _ := os.ReadDir(opts.StateDir)
		state, _ := os.ReadFile(filepath.Join(opts.StateDir, StateFile))
		var doc stateDoc
		return json.Unmarshal(state, &doc) == nil && len(entries) == 1 && doc.Cursors["http "+ep.URL] == 20
	})
}

func TestCrashMidDeliverySendsOneBatchAgain(t *testing.T) {
	store := openStore(t)
	ctx, crash := context.WithCancel(context.Background())
	ep := newEndpoint(t, func(n int, r *http.Request, h http.Header) (int, string) {
		if n == 1 { // the records arrive, then cairn dies before the answer
			crash()
			<-r.Context().Done()
			return http.StatusServiceUnavailable, "never read"
		}
		return http.StatusOK, ""
	})
	opts := testOptions(t, store, &syncBuffer{})
	opts.BatchSize = 5
	dest := httpDest(ep.URL, "", nil)

	first := newForwarder(t, opts)
	configure(t, first, dest)
	appendN(t, store, 12)
	if err := first.Run(ctx); err != context.Canceled {
		t.Fatalf("Run: %v", err)
	}

	second := newForwarder(t, opts)
	configure(t, second, dest)
	run(t, second)
	eventually(t, 10*time.Second, "records 1..12 delivered", func() bool { return len(ep.accepted()) >= 12 })
	var all []history.Stored
	for _, r := range ep.seen() {
		all = append(all, r.records...)
	}
	if got := seqs(all); !slices.Equal(got, append(span(1, 5), span(1, 12)...)) {
		t.Fatalf("endpoint saw %v, want 1..5 (cut short), then 1..12", got)
	}
	checkAtLeastOnce(t, all, span(1, 12))
}
