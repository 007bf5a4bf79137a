package sqlitestore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/history"
)

// benchRecord is a typical record: one commit, one change.
func benchRecord(i int) history.Record {
	when := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	who := history.Person{Name: fmt.Sprintf("Dev %d", i%40), Email: fmt.Sprintf("dev%d@example.com", i%40), When: when}
	return history.Record{
		Time: when, Event: history.AdapterUpgraded, Revision: fmt.Sprintf("%040x", i), Previous: fmt.Sprintf("%040x", i-1),
		Commits: []history.Commit{{Hash: fmt.Sprintf("%040x", i), Author: who, Committer: who,
			Subject: "raise the heartbeat interval", Signature: "verified", Files: []string{"adapters/x.json"}}},
		Adapter: fmt.Sprintf("adapter-%03d", i%200), Environment: "prod",
		Changes: []history.Change{{Pointer: "/spec/fix/heartbeatSeconds", Kind: "replace", Before: 30, After: 60, Risk: "low"}},
		Release: fmt.Sprintf("adapter-%03d", i%200), HelmVersion: i/200 + 1, ValuesDigest: "sha256:" + fmt.Sprintf("%064x", i),
		Outcome: history.Succeeded, Actor: "cairn", Duration: 1200 * time.Millisecond,
	}
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkAppend: writers appending at once, each Append durable when it
// returns. One writer pays one fsync per record; concurrent writers share
// transactions (group commit).
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "h.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for i := w; i < b.N; i += writers {
						if err := s.Append(ctx, benchRecord(i)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			reportRate(b)
		})
	}
}

// BenchmarkAppendAll: one writer appending batches the way the reconciler
// records a pass (its adapters and its revision in one transaction), each
// batch durable when AppendAll returns.
func BenchmarkAppendAll(b *testing.B) {
	for _, size := range []int{17, 100, 1001} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "h.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i += size {
				batch := make([]history.Record, 0, size)
				for j := i; j < min(i+size, b.N); j++ {
					batch = append(batch, benchRecord(j))
				}
				if err := s.AppendAll(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b)
		})
	}
}

const fixtureRecords = 1_000_000

var fixtureOnce struct {
	sync.Once
	path string
	err  error
}

// fixture1M returns a file holding 1,000,000 chained records, built once
// into the temporary directory and reused by later runs.
func fixture1M(b *testing.B) *Store {
	fixtureOnce.Do(func() {
		p := filepath.Join(os.TempDir(), "cairn-history-bench-1m-v1.db")
		fixtureOnce.path = p
		if _, err := os.Stat(p); err == nil {
			return
		}
		fixtureOnce.err = buildFixture(p, fixtureRecords)
	})
	if fixtureOnce.err != nil {
		b.Fatal(fixtureOnce.err)
	}
	s, err := Open(fixtureOnce.path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// buildFixture bulk-loads n records in large transactions, bypassing
// Append's per-call commit. Only the benchmark fixture uses it.
func buildFixture(path string, n int) error {
	tmp := path + ".building"
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(tmp + suffix)
	}
	s, err := Open(tmp)
	if err != nil {
		return err
	}
	const batch = 50_000
	for start := 0; start < n; start += batch {
		pend := make([]*pending, 0, batch)
		for i := start; i < min(start+batch, n); i++ {
			r := benchRecord(i)
			prep, err := history.Prepare(r)
			if err != nil {
				s.Close()
				return err
			}
			pend = append(pend, &pending{recs: []history.Record{r}, preps: []history.Prepared{prep}})
		}
		if err := s.insert(context.Background(), pend); err != nil {
			s.Close()
			return err
		}
	}
	if _, err := s.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		s.Close()
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// BenchmarkList1M: the last 100 records of one adapter (of 200) among
// 1,000,000.
func BenchmarkList1M(b *testing.B) {
	s := fixture1M(b)
	ctx := context.Background()
	for b.Loop() {
		got, err := s.List(ctx, history.Filter{Adapter: "adapter-017", Limit: 100})
		if err != nil || len(got) != 100 || got[0].Adapter != "adapter-017" {
			b.Fatalf("List: %d records, %v", len(got), err)
		}
	}
}

// BenchmarkListAuthor1M: the last 100 records touched by one author (of
// 40) among 1,000,000.
func BenchmarkListAuthor1M(b *testing.B) {
	s := fixture1M(b)
	ctx := context.Background()
	for b.Loop() {
		got, err := s.List(ctx, history.Filter{Author: "dev7@example.com", Limit: 100})
		if err != nil || len(got) != 100 {
			b.Fatalf("List: %d records, %v", len(got), err)
		}
	}
}

// BenchmarkVerify1M: recompute the chain of 1,000,000 records.
func BenchmarkVerify1M(b *testing.B) {
	s := fixture1M(b)
	ctx := context.Background()
	for b.Loop() {
		v, err := s.Verify(ctx)
		if err != nil || !v.OK || v.Records != fixtureRecords {
			b.Fatalf("Verify = %+v, %v", v, err)
		}
	}
}
