package sink

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/history/sqlitestore"
	"github.com/cairn-gitops/cairn/internal/testenv"
)

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer = testenv.Buffer

// openStore opens a real embedded store in a temporary folder.
func openStore(t *testing.T) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatalf("sqlitestore.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// record is a record for tests; pad adds that many bytes to its error, to
// make lines long.
func record(i, pad int) history.Record {
	return history.Record{
		Time:        time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i) * time.Second),
		Event:       history.AdapterUpgraded,
		Adapter:     fmt.Sprintf("adapter-%d", i),
		Environment: "prod",
		Outcome:     history.Succeeded,
		Actor:       "cairn",
		Error:       strings.Repeat("x", pad),
	}
}

// appendN appends n records, one Append each.
func appendN(t *testing.T, s history.Store, n int) {
	t.Helper()
	for i := range n {
		if err := s.Append(context.Background(), record(i, 0)); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
}

// appendPadded appends n records of about pad bytes each in one transaction.
func appendPadded(t *testing.T, s *sqlitestore.Store, n, pad int) {
	t.Helper()
	recs := make([]history.Record, n)
	for i := range recs {
		recs[i] = record(i, pad)
	}
	if err := s.AppendAll(context.Background(), recs); err != nil {
		t.Fatalf("AppendAll: %v", err)
	}
}

// testOptions are fast knobs for tests; the log goes to logs.
func testOptions(t *testing.T, s history.Store, logs *syncBuffer) Options {
	return Options{
		Store:        s,
		StateDir:     t.TempDir(),
		SecretDir:    t.TempDir(),
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PollInterval: 20 * time.Millisecond,
		BackoffMin:   10 * time.Millisecond,
		BackoffMax:   100 * time.Millisecond,
	}
}

// newForwarder makes a Forwarder, failing t on error.
func newForwarder(t *testing.T, opts Options) *Forwarder {
	t.Helper()
	f, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return f
}

// configure calls Configure, failing t on error.
func configure(t *testing.T, f *Forwarder, dests ...v1alpha1.AuditDestination) {
	t.Helper()
	if err := f.Configure(context.Background(), dests); err != nil {
		t.Fatalf("Configure: %v", err)
	}
}

// run runs f until the returned stop is called (or the test ends); stop
// waits for Run to return and checks it returned the context's error.
func run(t *testing.T, f *Forwarder) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Run returned %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not return 10s after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond every 10ms until it holds, failing t after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// decodeLines decodes NDJSON, failing t on a bad line.
func decodeLines(t *testing.T, data string) []history.Stored {
	t.Helper()
	var out []history.Stored
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		var st history.Stored
		if err := json.Unmarshal(sc.Bytes(), &st); err != nil {
			t.Fatalf("line %d is not a record: %v", len(out)+1, err)
		}
		out = append(out, st)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading lines: %v", err)
	}
	return out
}

// complete drops a last line still being written.
func complete(data string) string {
	return data[:strings.LastIndexByte(data, '\n')+1]
}

// seqs returns the Seq of each record.
func seqs(recs []history.Stored) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

// span returns from, from+1, ..., to.
func span(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// checkChain fails t unless recs are the store's records, each linked to
// the one before it.
func checkChain(t *testing.T, s history.Store, recs []history.Stored) {
	t.Helper()
	for i, r := range recs {
		want, err := s.Get(context.Background(), r.Seq)
		if err != nil {
			t.Fatalf("Get(%d): %v", r.Seq, err)
		}
		if r.Hash != want.Hash || r.PrevHash != want.PrevHash || r.Adapter != want.Adapter {
			t.Fatalf("record %d as delivered (hash %s, prev %s) differs from the store's (hash %s, prev %s)",
				r.Seq, r.Hash, r.PrevHash, want.Hash, want.PrevHash)
		}
		if i > 0 && r.PrevHash != recs[i-1].Hash {
			t.Fatalf("record %d does not link to record %d", r.Seq, recs[i-1].Seq)
		}
	}
}

// stat returns the Stat of the destination called name.
func stat(t *testing.T, f *Forwarder, name string) Stat {
	t.Helper()
	stats := f.Stats()
	i := slices.IndexFunc(stats, func(s Stat) bool { return s.Name == name })
	if i < 0 {
		t.Fatalf("no destination %q in Stats %+v", name, stats)
	}
	return stats[i]
}

// names returns the destination names in stats.
func names(stats []Stat) []string {
	out := make([]string, len(stats))
	for i, s := range stats {
		out[i] = s.Name
	}
	return out
}

// stdoutDest, fileDest and httpDest build destinations.
func stdoutDest() v1alpha1.AuditDestination { return v1alpha1.AuditDestination{Type: TypeStdout} }

func fileDest(path string, rot *v1alpha1.AuditRotation) v1alpha1.AuditDestination {
	return v1alpha1.AuditDestination{Type: TypeFile, File: &v1alpha1.AuditFile{Path: path, Rotation: rot}}
}

func httpDest(url, timeout string, headers *v1alpha1.SecretRef) v1alpha1.AuditDestination {
	return v1alpha1.AuditDestination{Type: TypeHTTP,
		HTTP: &v1alpha1.AuditHTTP{URL: url, Timeout: timeout, HeadersSecretRef: headers}}
}
