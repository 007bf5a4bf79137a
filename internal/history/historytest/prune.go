package historytest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/history"
)

func newSigner(t *testing.T) *history.Signer {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return history.NewSigner(key)
}

// testAppendAll: AppendAll's records are consecutive and chained, also
// when several goroutines append batches at once.
func testAppendAll(t *testing.T, s history.Store) {
	ctx := context.Background()
	appendN(t, s, 2)
	if err := s.AppendAll(ctx, []history.Record{fixture(2), fixture(3), fixture(4)}); err != nil {
		t.Fatalf("AppendAll: %v", err)
	}
	if err := s.AppendAll(ctx, nil); err != nil {
		t.Fatalf("AppendAll of nothing: %v", err)
	}
	const writers, each = 6, 5
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			batch := make([]history.Record, each)
			for i := range batch {
				batch[i] = fixture(10 + w*each + i)
				batch[i].Actor = "writer-" + string(rune('a'+w))
			}
			if err := s.AppendAll(ctx, batch); err != nil {
				t.Errorf("AppendAll of writer %d: %v", w, err)
			}
		})
	}
	wg.Wait()
	verifyOK(t, s, 5+writers*each)
	all, err := s.List(ctx, history.Filter{Limit: 1000})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	slices.Reverse(all)
	if all[2].Revision != "rev0002" || all[4].Revision != "rev0004" {
		t.Errorf("AppendAll's records are not records 3 to 5 in order: %s, %s", all[2].Revision, all[4].Revision)
	}
	for i := 5; i < len(all); i += each { // each writer's batch is one run
		for j := i; j < i+each; j++ {
			if all[j].Actor != all[i].Actor {
				t.Fatalf("records %d to %d are not one batch: actor %s among %s", i+1, i+each, all[j].Actor, all[i].Actor)
			}
		}
	}
}

// testPrune: a prune removes the oldest run of records older than the
// cutoff, appends a history.pruned record carrying a checkpoint signed by
// the key given, and leaves a chain that verifies and goes on.
func testPrune(t *testing.T, s history.Store) {
	ctx := context.Background()
	appendN(t, s, 10) // times base .. base+9m
	signer := newSigner(t)
	now := base.Add(24 * time.Hour)
	cp, ok, err := s.Prune(ctx, history.Pruning{Before: base.Add(5 * time.Minute), Signer: signer,
		Record: history.Record{Time: now, Actor: "retention"}})
	if err != nil || !ok {
		t.Fatalf("Prune = %v, %v", ok, err)
	}
	if cp.First != 1 || cp.Seq != 5 {
		t.Errorf("checkpoint covers %d..%d, want 1..5", cp.First, cp.Seq)
	}
	for seq := int64(1); seq <= 5; seq++ {
		if _, err := s.Get(ctx, seq); !errors.Is(err, history.ErrNotFound) {
			t.Errorf("Get(%d) after the prune: %v, want ErrNotFound", seq, err)
		}
	}
	pruned, err := s.Get(ctx, 11)
	if err != nil || pruned.Event != history.HistoryPruned || pruned.Checkpoint == nil ||
		pruned.Checkpoint.Signature != cp.Signature || pruned.Actor != "retention" {
		t.Fatalf("record 11 = %+v, %v; want the history.pruned record carrying the checkpoint", pruned, err)
	}
	v := verifyPruned(t, s, 6, 5)
	if err := v.Checkpoint.Check(signer.PublicKey()); err != nil {
		t.Errorf("checkpoint with its signing key pinned: %v", err)
	}
	if err := v.Checkpoint.Check(newSigner(t).PublicKey()); err == nil {
		t.Error("checkpoint passed with another key pinned")
	}
	if err := s.Append(ctx, fixture(20)); err != nil {
		t.Fatal(err)
	}
	verifyPruned(t, s, 7, 5)
	if _, ok, err := s.Prune(ctx, history.Pruning{Before: base.Add(5 * time.Minute), Signer: signer,
		Record: history.Record{Time: now}}); ok || err != nil {
		t.Errorf("a second prune with the same cutoff = %v, %v; want nothing to do", ok, err)
	}
	// Every record old: all go but the newest history.pruned record.
	cp, ok, err = s.Prune(ctx, history.Pruning{Before: now.Add(time.Hour), Signer: signer,
		Record: history.Record{Time: now.Add(2 * time.Hour)}})
	if err != nil || !ok || cp.First != 6 || cp.Seq != 12 {
		t.Fatalf("Prune of everything = %+v, %v, %v; want 6..12", cp, ok, err)
	}
	verifyPruned(t, s, 1, 12)
}

func verifyPruned(t *testing.T, s history.Store, records, after int64) history.Verification {
	t.Helper()
	v, err := s.Verify(context.Background())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !v.OK || v.Records != records || v.Checkpoint == nil || v.Checkpoint.Seq != after {
		t.Fatalf("Verify after a prune = %+v, want OK, %d records after checkpoint %d", v, records, after)
	}
	return v
}

// testPruneKeepsYounger: a record younger than the cutoff keeps every
// record after it, however old.
func testPruneKeepsYounger(t *testing.T, s history.Store) {
	ctx := context.Background()
	for i, minutes := range []int{0, 1, 50, 2, 3} {
		r := fixture(i)
		r.Time = base.Add(time.Duration(minutes) * time.Minute)
		if err := s.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	cp, ok, err := s.Prune(ctx, history.Pruning{Before: base.Add(10 * time.Minute), Signer: newSigner(t),
		Record: history.Record{Time: base.Add(time.Hour)}})
	if err != nil || !ok || cp.Seq != 2 {
		t.Fatalf("Prune = %+v, %v, %v; want records 1 and 2 removed", cp, ok, err)
	}
	verifyPruned(t, s, 4, 2)
	if _, ok, err := s.Prune(ctx, history.Pruning{Before: base.Add(10 * time.Minute)}); ok || err == nil {
		t.Errorf("Prune without a signer = %v, %v; want an error", ok, err)
	}
}

// testPruneTamper: after a prune, a checkpoint edited, or forged to cover
// records deleted behind the store's back, fails Verify.
func testPruneTamper(t *testing.T, s history.Store, tamper Tamperer) {
	ctx := context.Background()
	appendN(t, s, 10)
	if _, ok, err := s.Prune(ctx, history.Pruning{Before: base.Add(3 * time.Minute), Signer: newSigner(t),
		Record: history.Record{Time: base.Add(time.Hour)}}); err != nil || !ok {
		t.Fatalf("Prune = %v, %v", ok, err)
	}
	v := verifyPruned(t, s, 8, 3)
	good := *v.Checkpoint

	edited := good
	edited.First = 2
	tamper.PutCheckpoint(t, s, edited)
	wantBad(t, s, "an edited checkpoint", 4, "signature")

	// Records 4 and 5 deleted and a checkpoint over them signed by another
	// key: the signature holds, but no history.pruned record carries it.
	tamper.PutCheckpoint(t, s, good)
	verifyPruned(t, s, 8, 3)
	r5, err := s.Get(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	tamper.Delete(t, s, 4)
	tamper.Delete(t, s, 5)
	wantBad(t, s, "records deleted after the checkpoint", 6, "")
	forged := newSigner(t).Sign(history.Checkpoint{First: 4, Seq: 5, Hash: r5.Hash, Before: good.Before, Time: good.Time})
	tamper.PutCheckpoint(t, s, forged)
	wantBad(t, s, "a forged checkpoint", 6, "forged")
}

func wantBad(t *testing.T, s history.Store, what string, firstBad int64, reason string) {
	t.Helper()
	v, err := s.Verify(context.Background())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if v.OK || v.FirstBad != firstBad || !strings.Contains(v.Reason, reason) {
		t.Errorf("Verify after %s = %+v, want not OK at %d, reason with %q", what, v, firstBad, reason)
	}
}
