package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/history/historytest"
	"github.com/cairn-gitops/cairn/internal/pgtest"
)

var shared pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	if loaded != nil {
		loaded.Close()
	}
	if err := shared.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgstore:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// open opens a store on a new database of the shared server.
func open(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), shared.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	historytest.Run(t, func(t *testing.T) history.Store { return open(t) }, tamperer{})
}

// tamperer edits the tables directly, as someone with access to the
// database could.
type tamperer struct{}

func exec(t *testing.T, s history.Store, rows int64, sql string, args ...any) {
	t.Helper()
	tag, err := s.(*Store).pool.Exec(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if rows >= 0 && tag.RowsAffected() != rows {
		t.Fatalf("%s changed %d rows, want %d", sql, tag.RowsAffected(), rows)
	}
}

func (tamperer) EditField(t *testing.T, s history.Store, seq int64) {
	exec(t, s, 1, `UPDATE history_records SET body = jsonb_set(body::jsonb, '{actor}', '"mallory"')::text
		WHERE seq = $1 AND body::jsonb->>'actor' <> 'mallory'`, seq)
}

func (tamperer) Delete(t *testing.T, s history.Store, seq int64) {
	exec(t, s, 1, "DELETE FROM history_records WHERE seq = $1", seq)
	exec(t, s, -1, "DELETE FROM history_authors WHERE seq = $1", seq)
}

func (tamperer) Swap(t *testing.T, s history.Store, a, b int64) {
	exec(t, s, 2, `UPDATE history_records r SET hash = o.hash, event = o.event, adapter = o.adapter,
		environment = o.environment, time_ns = o.time_ns, body = o.body
		FROM history_records o WHERE (r.seq = $1 AND o.seq = $2) OR (r.seq = $2 AND o.seq = $1)`, a, b)
	exec(t, s, -1, "UPDATE history_authors SET seq = -seq WHERE seq IN ($1, $2)", a, b)
	exec(t, s, -1, "UPDATE history_authors SET seq = CASE seq WHEN -$1::bigint THEN $2 ELSE $1 END WHERE seq IN (-$1::bigint, -$2::bigint)", a, b)
}

func (tamperer) PutCheckpoint(t *testing.T, s history.Store, cp history.Checkpoint) {
	body, err := json.Marshal(cp)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, s, -1, "DELETE FROM history_checkpoints WHERE seq >= $1", cp.Seq)
	exec(t, s, 1, "INSERT INTO history_checkpoints (seq, body) VALUES ($1, $2)", cp.Seq, string(body))
}

func record(actor string) history.Record {
	return history.Record{Time: time.Now(), Event: history.AdapterUpgraded, Adapter: "lse", Environment: "prod",
		Commits: []history.Commit{{Hash: "c1", Author: history.Person{Name: "Dev", Email: "dev@example.com"}}},
		Outcome: history.Succeeded, Actor: actor}
}

// scanActors returns each record's actor by seq and fails t unless the
// chain verifies with n records.
func scanActors(t *testing.T, s history.Store, n int64) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	v, err := s.Verify(ctx)
	if err != nil || !v.OK || v.Records != n {
		t.Fatalf("Verify = %+v, %v; want OK with %d records", v, err, n)
	}
	seen := map[string]int64{}
	err = s.Scan(ctx, 0, func(r history.Stored) error {
		if prev, dup := seen[r.Actor]; dup {
			return fmt.Errorf("%s recorded twice, as %d and %d", r.Actor, prev, r.Seq)
		}
		seen[r.Actor] = r.Seq
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seen
}

// TestReplicasShareOneChain: three stores (three cairn replicas) open one
// database at once, so the migrations race, then append at once; the chain
// stays gapless and linked.
func TestReplicasShareOneChain(t *testing.T) {
	const replicas, each = 3, 40
	dsn := shared.Database(t)
	var wg sync.WaitGroup
	errs := make(chan error, replicas*(each+1))
	for r := range replicas {
		wg.Go(func() {
			s, err := Open(context.Background(), dsn)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			for i := range each {
				if err := s.Append(context.Background(), record(fmt.Sprintf("replica-%d-%d", r, i))); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := scanActors(t, s, replicas*each); len(got) != replicas*each {
		t.Errorf("%d distinct records, want %d", len(got), replicas*each)
	}
}

// TestStaleHeadIsReloaded: two stores on one database take turns, so each
// finds the chain head moved by the other since its own last append.
func TestStaleHeadIsReloaded(t *testing.T) {
	dsn := shared.Database(t)
	var stores [2]*Store
	for i := range stores {
		s, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	for i := range 6 {
		if err := stores[i%2].Append(context.Background(), record(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	seen := scanActors(t, stores[0], 6)
	for i := range 6 {
		if seen[fmt.Sprint(i)] != int64(i+1) {
			t.Errorf("append %d has seq %d, want %d", i, seen[fmt.Sprint(i)], i+1)
		}
	}
}

// TestVerifyCatchesEditedColumns: a filtered column changed without the
// record (so List would misreport it) fails Verify at that record.
func TestVerifyCatchesEditedColumns(t *testing.T) {
	s := open(t)
	defer s.Close()
	for i := range 3 {
		if err := s.Append(context.Background(), record(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	exec(t, s, 1, "UPDATE history_records SET adapter = 'other' WHERE seq = 2")
	v, err := s.Verify(context.Background())
	if err != nil || v.OK || v.FirstBad != 2 {
		t.Errorf("Verify = %+v, %v; want record 2 bad", v, err)
	}
}

func TestAppendAfterCloseFails(t *testing.T) {
	s := open(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(context.Background(), record("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestRestartUnderLoad: PostgreSQL restarted while 4 goroutines append. Every
// Append that returned nil is in the chain afterwards, once; Appends during
// the outage fail within their deadline; the same store appends again
// after the restart without being reopened.
func TestRestartUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL: not part of -short")
	}
	const (
		writers    = 4
		appendWait = 2 * time.Second // each Append's deadline
		afterwards = 200             // appends that must succeed after the restart
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := pgtest.Start(ctx, pgtest.Options{}) // its own: the restart would disturb other tests
	if err != nil {
		pgtest.SkipOrFail(t, err)
	}
	defer srv.Stop()
	dsn, err := srv.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	var (
		mu        sync.Mutex
		ok        []string
		failed    int
		slowest   time.Duration
		restarted bool
		after     int
		stop      = make(chan struct{})
		wg        sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				actor := fmt.Sprintf("w%d-%d", w, i)
				actx, acancel := context.WithTimeout(ctx, appendWait)
				began := time.Now()
				err := s.Append(actx, record(actor))
				acancel()
				mu.Lock()
				slowest = max(slowest, time.Since(began))
				if err != nil {
					failed++
				} else {
					ok = append(ok, actor)
					if restarted {
						after++
					}
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	if err := srv.Restart(ctx); err != nil {
		close(stop)
		wg.Wait()
		t.Fatal(err)
	}
	mu.Lock()
	restarted = true
	mu.Unlock()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n := after
		mu.Unlock()
		if n >= afterwards || time.Now().After(deadline) {
			break
		}
	}
	close(stop)
	wg.Wait()

	t.Logf("%d appends committed (%d after the restart), %d failed; slowest Append %s", len(ok), after, failed, slowest)
	if after < afterwards {
		t.Errorf("only %d appends succeeded after the restart, want %d: the store did not recover", after, afterwards)
	}
	if failed == 0 {
		t.Error("no Append failed: the restart was not observed")
	}
	if slowest > appendWait+5*time.Second { // slack for a busy machine: the point is no hang
		t.Errorf("an Append took %s, past its %s deadline", slowest, appendWait)
	}
	seen := scanActors(t, s, countRecords(t, s))
	for _, actor := range ok {
		if _, found := seen[actor]; !found {
			t.Errorf("Append of %s returned nil but the record is missing", actor)
		}
	}
}

// countRecords is how many records s holds.
func countRecords(t *testing.T, s *Store) int64 {
	t.Helper()
	var n int64
	if err := s.pool.QueryRow(context.Background(), "SELECT count(*) FROM history_records").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// BenchmarkAppend measures appends per second to PostgreSQL with fsync on:
// one caller at a time ("serial"), and GOMAXPROCS×8 callers at once
// ("parallel", the reconciler's workers and API writes), where concurrent
// Appends share a transaction.
func BenchmarkAppend(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		s := open(b)
		defer s.Close()
		for i := 0; b.Loop(); i++ {
			if err := s.Append(context.Background(), record(fmt.Sprint(i))); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("parallel", func(b *testing.B) {
		s := open(b)
		defer s.Close()
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if err := s.Append(context.Background(), record(fmt.Sprint(i))); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}
