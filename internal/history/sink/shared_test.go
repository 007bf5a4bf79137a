package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/history/pgstore"
	"github.com/cairn-gitops/cairn/internal/pgtest"
)

// pg is the PostgreSQL server of the tests with a shared store.
var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	if err := pg.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "sink:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// openPG opens a PostgreSQL store on dsn, as one cairn replica does.
func openPG(t *testing.T, dsn string) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("pgstore.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// sharedCursors returns the cursors the store keeps, failing t on error.
func sharedCursors(t *testing.T, s history.CursorStore) map[string]int64 {
	t.Helper()
	got, err := s.LoadCursors(context.Background())
	if err != nil {
		t.Fatalf("LoadCursors: %v", err)
	}
	return got
}

// TestFailoverDeliversEveryRecord: two replicas share one PostgreSQL store.
// The leader's forwarder stops with a POST in flight, as a fail-over stops
// it, and records keep coming; the new leader, with an empty state folder,
// delivers from where the old one stopped, so the endpoint gets every
// record after the destination was added, none missing and none twice
// (the batch in flight was refused). The old leader, elected again, resumes
// from the shared cursor and sends only what is new.
func TestFailoverDeliversEveryRecord(t *testing.T) {
	dsn := pg.Database(t)
	replicaA, replicaB := openPG(t, dsn), openPG(t, dsn)
	midway := make(chan struct{})
	ep := newEndpoint(t, func(n int, r *http.Request, h http.Header) (int, string) {
		if n == 4 { // the old leader goes away with this batch unanswered
			close(midway)
			<-r.Context().Done()
			return http.StatusServiceUnavailable, "never read"
		}
		return http.StatusOK, ""
	})
	dest := httpDest(ep.URL, "", nil)
	name := "http " + ep.URL

	appendN(t, replicaA, 3) // before the destination: not copied
	optsA := testOptions(t, replicaA, &syncBuffer{})
	optsA.BatchSize = 5
	leaderA := newForwarder(t, optsA)
	configure(t, leaderA, dest) // starts after record 3
	appendN(t, replicaA, 40)    // 4..43
	stopA := run(t, leaderA)
	select {
	case <-midway:
	case <-time.After(10 * time.Second):
		t.Fatal("the old leader never sent its fourth batch")
	}
	stopA()
	if s := stat(t, leaderA, name); s.Cursor != 18 || s.Delivered != 15 {
		t.Fatalf("old leader stopped at %+v, want cursor 18 after 3 batches of 5", s)
	}
	if got := sharedCursors(t, replicaB)[name]; got != 18 {
		t.Fatalf("shared cursor %d after the old leader stopped, want 18", got)
	}

	appendN(t, replicaB, 10) // 44..53, while no leader forwards
	optsB := testOptions(t, replicaB, &syncBuffer{})
	optsB.BatchSize = 5
	leaderB := newForwarder(t, optsB) // a fresh state folder
	configure(t, leaderB, dest)
	stopB := run(t, leaderB)
	eventually(t, 10*time.Second, "the new leader delivers up to 53", func() bool { return stat(t, leaderB, name).Cursor == 53 })
	stopB()
	all := ep.accepted()
	checkAtLeastOnce(t, all, span(4, 53))
	if got := seqs(all); !slices.Equal(got, span(4, 53)) {
		t.Fatalf("endpoint accepted %v, want 4..53 once each", got)
	}
	checkChain(t, replicaB, all)
	if _, err := os.Stat(filepath.Join(optsB.StateDir, StateFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the new leader wrote %s (%v): cursors belong in the store", StateFile, err)
	}

	appendN(t, replicaB, 5) // 54..58
	run(t, leaderA)         // elected again: its own cursor says 18
	eventually(t, 10*time.Second, "the old leader, elected again, delivers up to 58", func() bool {
		return stat(t, leaderA, name).Cursor == 58
	})
	if got := seqs(ep.accepted()); !slices.Equal(got, span(4, 58)) {
		t.Fatalf("endpoint accepted %v, want 4..58 once each: the old leader resent what the new one delivered", got)
	}
	if got := sharedCursors(t, replicaA)[name]; got != 58 {
		t.Fatalf("shared cursor %d, want 58", got)
	}
}

// TestSharedCursorsMigrateFromTheStateFile: with a store that keeps the
// cursors, a destination the store has no cursor for resumes from the state
// file's (and the store gets it); one the store has a cursor for resumes
// from the store's, whatever the file says. The file is left as it was.
func TestSharedCursorsMigrateFromTheStateFile(t *testing.T) {
	store := openPG(t, pg.Database(t))
	appendN(t, store, 10)
	stdout := &syncBuffer{}
	opts := testOptions(t, store, &syncBuffer{})
	opts.Stdout = stdout
	path := filepath.Join(t.TempDir(), "audit.log")
	fileName := "file " + path
	state, err := json.Marshal(stateDoc{Version: stateVersion, Cursors: map[string]int64{"stdout": 3, fileName: 2}})
	if err != nil {
		t.Fatal(err)
	}
	statePath := filepath.Join(opts.StateDir, StateFile)
	if err := os.WriteFile(statePath, state, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := store.SaveCursor(context.Background(), fileName, 6); err != nil {
		t.Fatal(err)
	}

	f := newForwarder(t, opts)
	configure(t, f, stdoutDest(), fileDest(path, nil))
	run(t, f)
	fileLines := func() []int64 {
		data, _ := os.ReadFile(path)
		return seqs(decodeLines(t, complete(string(data))))
	}
	eventually(t, 10*time.Second, "both destinations reach record 10", func() bool {
		return stat(t, f, "stdout").Cursor == 10 && stat(t, f, fileName).Cursor == 10
	})
	if got := seqs(decodeLines(t, stdout.String())); !slices.Equal(got, span(4, 10)) {
		t.Errorf("stdout got %v, want 4..10 (after the state file's cursor 3)", got)
	}
	if got := fileLines(); !slices.Equal(got, span(7, 10)) {
		t.Errorf("file got %v, want 7..10 (after the store's cursor 6, not the file's 2)", got)
	}
	if got, want := sharedCursors(t, store), map[string]int64{"stdout": 10, fileName: 10}; !maps.Equal(got, want) {
		t.Errorf("shared cursors %v, want %v", got, want)
	}
	if after, _ := os.ReadFile(statePath); string(after) != string(state) {
		t.Errorf("the state file changed to %s", after)
	}
}

// cursorStore is a store that keeps cursors in memory, failing LoadCursors
// while broken is set: the shared-cursor logic without PostgreSQL.
type cursorStore struct {
	history.Store
	mu     sync.Mutex
	seqs   map[string]int64
	broken bool
}

func (c *cursorStore) LoadCursors(context.Context) (map[string]int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken {
		return nil, errors.New("database unreachable")
	}
	return maps.Clone(c.seqs), nil
}

func (c *cursorStore) SaveCursor(_ context.Context, name string, seq int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seqs[name] = max(c.seqs[name], seq)
	return nil
}

func (c *cursorStore) setBroken(b bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.broken = b
}

// TestNewDestinationWaitsForTheSharedCursors: a destination this process
// has no cursor for is not started after the newest record while the
// shared cursors cannot be read (another replica may have delivered less):
// Configure fails and changes nothing, and succeeds once they can be read,
// resuming from the shared cursor.
func TestNewDestinationWaitsForTheSharedCursors(t *testing.T) {
	store := &cursorStore{Store: openStore(t), seqs: map[string]int64{"stdout": 2}, broken: true}
	appendN(t, store, 5)
	stdout := &syncBuffer{}
	opts := testOptions(t, store, &syncBuffer{})
	opts.Stdout = stdout
	f := newForwarder(t, opts)
	run(t, f)
	err := f.Configure(context.Background(), []v1alpha1.AuditDestination{stdoutDest()})
	if err == nil || !strings.Contains(err.Error(), "database unreachable") {
		t.Fatalf("Configure with the shared cursors unreadable: %v, want their error", err)
	}
	if len(f.Stats()) != 0 {
		t.Fatalf("Stats %+v after a refused Configure", f.Stats())
	}

	store.setBroken(false)
	configure(t, f, stdoutDest())
	eventually(t, 5*time.Second, "stdout reaches record 5", func() bool { return stat(t, f, "stdout").Cursor == 5 })
	if got := seqs(decodeLines(t, stdout.String())); !slices.Equal(got, span(3, 5)) {
		t.Fatalf("stdout got %v, want 3..5 (after the shared cursor 2)", got)
	}
	if got := sharedCursors(t, store)["stdout"]; got != 5 {
		t.Fatalf("shared cursor %d, want 5", got)
	}
}
