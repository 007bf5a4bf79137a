package pgstore

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestCursors: the audit destinations' cursors are saved, never move
// backwards, refuse a negative seq, and are seen by another replica opening
// the same database.
func TestCursors(t *testing.T) {
	ctx := context.Background()
	dsn := shared.Database(t)
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	load := func(s *Store) map[string]int64 {
		t.Helper()
		got, err := s.LoadCursors(ctx)
		if err != nil {
			t.Fatalf("LoadCursors: %v", err)
		}
		return got
	}
	save := func(name string, seq int64) {
		t.Helper()
		if err := s.SaveCursor(ctx, name, seq); err != nil {
			t.Fatalf("SaveCursor(%q, %d): %v", name, seq, err)
		}
	}
	if got := load(s); got == nil || len(got) != 0 {
		t.Fatalf("LoadCursors on a new store = %#v, want an empty map", got)
	}

	const siem = "http https://siem.example/ingest"
	save(siem, 5)
	save("stdout", 0)
	save(siem, 3) // late: ignored
	save(siem, 5) // the same: no change, no error
	if got, want := load(s), map[string]int64{siem: 5, "stdout": 0}; !maps.Equal(got, want) {
		t.Fatalf("cursors %v after saving 5 then 3, want %v", got, want)
	}
	save(siem, 9)
	if err := s.SaveCursor(ctx, "file /var/log/audit.log", -1); err == nil {
		t.Fatal("SaveCursor with seq -1 succeeded")
	}

	other, err := Open(ctx, dsn) // another replica
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if got, want := load(other), map[string]int64{siem: 9, "stdout": 0}; !maps.Equal(got, want) {
		t.Fatalf("another replica reads cursors %v, want %v", got, want)
	}
}

// TestCursorsConcurrentSavers: two replicas, four goroutines each, save the
// cursors of two destinations in shuffled order while a reader watches. The
// reader never sees a cursor move backwards, and each ends at the greatest
// seq saved.
func TestCursorsConcurrentSavers(t *testing.T) {
	const (
		perReplica = 4
		upTo       = 200 // each saver saves seqs 1..upTo of both names, shuffled
	)
	ctx := context.Background()
	dsn := shared.Database(t)
	var replicas [2]*Store
	for i := range replicas {
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		replicas[i] = s
	}
	names := []string{"stdout", "http https://siem.example/ingest"}

	var savers sync.WaitGroup
	errs := make(chan error, len(replicas)*perReplica+1)
	for r, s := range replicas {
		for g := range perReplica {
			savers.Go(func() {
				for _, v := range rand.Perm(2 * upTo) { // each seq once for each name
					name, seq := names[v%2], int64(v/2+1)
					if err := s.SaveCursor(ctx, name, seq); err != nil {
						errs <- fmt.Errorf("replica %d saver %d: %w", r, g, err)
						return
					}
				}
			})
		}
	}
	stop := make(chan struct{})
	var reader sync.WaitGroup
	var reads int
	reader.Go(func() {
		last := map[string]int64{}
		for {
			got, err := replicas[1].LoadCursors(ctx)
			if err != nil {
				errs <- err
				return
			}
			reads++
			for name, seq := range got {
				if seq < last[name] {
					errs <- fmt.Errorf("cursor %q moved back from %d to %d", name, last[name], seq)
					return
				}
				last[name] = seq
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	})
	savers.Wait()
	close(stop)
	reader.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := replicas[0].LoadCursors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{names[0]: upTo, names[1]: upTo}; !maps.Equal(got, want) {
		t.Fatalf("cursors %v after the savers, want %v", got, want)
	}
	t.Logf("%d reads while %d savers saved", reads, len(replicas)*perReplica)
}
