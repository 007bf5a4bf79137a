package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/history/historytest"
)

func openTemp(t *testing.T) history.Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	historytest.Run(t, openTemp, tamperer{})
}

// tamperer edits the file with SQL, as someone with write access to it
// could.
type tamperer struct{}

func exec(t *testing.T, s history.Store, q string, args ...any) {
	t.Helper()
	if _, err := s.(*Store).db.Exec(q, args...); err != nil {
		t.Fatalf("tampering: %s: %v", q, err)
	}
}

func (tamperer) EditField(t *testing.T, s history.Store, seq int64) {
	exec(t, s, `UPDATE records SET body = json_set(body, '$.actor', 'mallory') WHERE seq = ?`, seq)
}

func (tamperer) Delete(t *testing.T, s history.Store, seq int64) {
	exec(t, s, `DELETE FROM commit_authors WHERE seq = ?`, seq)
	exec(t, s, `DELETE FROM records WHERE seq = ?`, seq)
}

func (tamperer) Swap(t *testing.T, s history.Store, a, b int64) {
	const cols = `time, event, adapter, environment, revision, body, prev_hash, hash`
	db := s.(*Store).db
	read := func(seq int64) []any {
		v := make([]any, 8)
		ptrs := make([]any, len(v))
		for i := range v {
			ptrs[i] = &v[i]
		}
		if err := db.QueryRow(`SELECT `+cols+` FROM records WHERE seq = ?`, seq).Scan(ptrs...); err != nil {
			t.Fatalf("tampering: reading record %d: %v", seq, err)
		}
		return v
	}
	ra, rb := read(a), read(b)
	set := `UPDATE records SET (` + cols + `) = (?, ?, ?, ?, ?, ?, ?, ?) WHERE seq = ?`
	exec(t, s, set, append(rb, a)...)
	exec(t, s, set, append(ra, b)...)
}

// TestReopen: records and the chain survive closing and reopening the file,
// and appends continue the chain.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	for round := range 3 {
		s, err := Open(path)
		if err != nil {
			t.Fatalf("Open, round %d: %v", round, err)
		}
		if err := s.Append(ctx, history.Record{Event: history.RevisionApplied, Outcome: history.Succeeded}); err != nil {
			t.Fatal(err)
		}
		v, err := s.Verify(ctx)
		if err != nil || !v.OK || v.Records != int64(round+1) {
			t.Errorf("round %d: Verify = %+v, %v", round, v, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTwoHandlesOneFile: two Stores on one file (as two processes would
// be) appending at once still leave one gapless, verifiable chain: each
// Append's transaction takes SQLite's write lock before reading the last
// hash.
func TestTwoHandlesOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	var stores [2]*Store
	for i := range stores {
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	const each = 40
	var wg sync.WaitGroup
	for i, s := range stores {
		for w := range 4 {
			wg.Go(func() {
				for n := range each / 4 {
					r := history.Record{Event: history.RevisionApplied, Outcome: history.Succeeded,
						Actor: fmt.Sprintf("store%d-writer%d-%d", i, w, n)}
					if err := s.Append(ctx, r); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	v, err := stores[0].Verify(ctx)
	if err != nil || !v.OK || v.Records != 2*each {
		t.Errorf("Verify = %+v, %v; want OK with %d records", v, err, 2*each)
	}
}

func (tamperer) PutCheckpoint(t *testing.T, s history.Store, cp history.Checkpoint) {
	body, err := json.Marshal(cp)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, s, `DELETE FROM checkpoints WHERE seq >= ?`, cp.Seq)
	exec(t, s, `INSERT INTO checkpoints (seq, body) VALUES (?, ?)`, cp.Seq, string(body))
}
