package pgstore

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-gitops/cairn/internal/history"
)

var benchRecords = flag.Int("pgstore.records", 100_000, "records loaded for BenchmarkList and BenchmarkVerify")

var (
	loadOnce sync.Once
	loaded   *Store
	loadErr  error
)

// bigStore is a store holding *benchRecords records over 500 adapters,
// loaded once with COPY (appending them one by one would take minutes).
func bigStore(b *testing.B) *Store {
	b.Helper()
	srv := shared.Get(b)
	loadOnce.Do(func() {
		began := time.Now()
		dsn, err := srv.NewDatabase(context.Background())
		if err != nil {
			loadErr = err
			return
		}
		loaded, loadErr = Open(context.Background(), dsn)
		if loadErr == nil {
			loadErr = load(context.Background(), loaded, *benchRecords)
		}
		b.Logf("loaded %d records in %s", *benchRecords, time.Since(began).Round(time.Millisecond))
	})
	if loadErr != nil {
		b.Fatal(loadErr)
	}
	return loaded
}

func benchRecord(i int) history.Record {
	r := record(fmt.Sprintf("cairn-%d", i))
	r.Adapter = fmt.Sprintf("adapter-%03d", i%500)
	r.Time = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	r.Revision = fmt.Sprintf("%040x", i)
	return r
}

// load writes n records with a valid chain straight into the tables.
func load(ctx context.Context, s *Store, n int) error {
	const chunk = 10_000
	seq, hash := int64(0), ""
	for start := 0; start < n; start += chunk {
		batch := make([]*pending, 0, chunk)
		for i := start; i < min(n, start+chunk); i++ {
			r := benchRecord(i)
			prep, err := history.Prepare(r)
			if err != nil {
				return err
			}
			batch = append(batch, &pending{recs: []history.Record{r}, preps: []history.Prepared{prep}})
		}
		rows := chain(seq, hash, batch)
		seq, hash = rows[len(rows)-1].seq, rows[len(rows)-1].hash
		cols := columns(rows)
		recs := make([][]any, len(rows))
		for i := range rows {
			recs[i] = []any{cols[0].([]int64)[i], cols[1].([]string)[i], cols[2].([]string)[i], cols[3].([]string)[i],
				cols[4].([]string)[i], cols[5].([]int64)[i], cols[6].([]string)[i]}
		}
		who, whoSeq := cols[7].([]string), cols[8].([]int64)
		authors := make([][]any, len(who))
		for i := range who {
			authors[i] = []any{who[i], whoSeq[i]}
		}
		if _, err := s.pool.CopyFrom(ctx, pgx.Identifier{"history_records"},
			[]string{"seq", "hash", "event", "adapter", "environment", "time_ns", "body"}, pgx.CopyFromRows(recs)); err != nil {
			return err
		}
		if _, err := s.pool.CopyFrom(ctx, pgx.Identifier{"history_authors"}, []string{"who", "seq"}, pgx.CopyFromRows(authors)); err != nil {
			return err
		}
	}
	if _, err := s.pool.Exec(ctx, "UPDATE history_head SET seq = $1, hash = $2", seq, hash); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, "ANALYZE")
	return err
}

// BenchmarkList lists the last 100 changes of one adapter.
func BenchmarkList(b *testing.B) {
	s := bigStore(b)
	ctx := context.Background()
	for b.Loop() {
		got, err := s.List(ctx, history.Filter{Adapter: "adapter-007", Limit: 100})
		if err != nil || len(got) != min(100, *benchRecords/500) {
			b.Fatalf("List: %d records, %v", len(got), err)
		}
	}
}

// BenchmarkVerify verifies the whole chain.
func BenchmarkVerify(b *testing.B) {
	s := bigStore(b)
	ctx := context.Background()
	for b.Loop() {
		v, err := s.Verify(ctx)
		if err != nil || !v.OK || v.Records != int64(*benchRecords) {
			b.Fatalf("Verify = %+v, %v", v, err)
		}
	}
	b.ReportMetric(float64(*benchRecords)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkAppendAll: one writer appending a pass's records (17) at once.
func BenchmarkAppendAll(b *testing.B) {
	s := open(b)
	defer s.Close()
	ctx := context.Background()
	const size = 17
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
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
