package history_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/history/sqlitestore"
)

func TestRetainer(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, age := range []time.Duration{9 * 365 * 24 * time.Hour, 8 * 365 * 24 * time.Hour, 400 * 24 * time.Hour, time.Hour} {
		if err := st.Append(ctx, history.Record{Time: now.Add(-age), Event: history.RevisionApplied, Outcome: history.Succeeded}); err != nil {
			t.Fatal(err)
		}
	}
	signer, err := history.LoadSigner(filepath.Join(t.TempDir(), "key"), true)
	if err != nil {
		t.Fatal(err)
	}
	r := &history.Retainer{Store: st, Signer: signer, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Actor: "test", Now: func() time.Time { return now }}
	if _, ok, err := r.Prune(ctx); ok || err != nil {
		t.Errorf("Prune with no period = %v, %v; want nothing", ok, err)
	}
	r.SetPeriod(time.Hour)
	if _, ok, err := r.Prune(ctx); ok || err == nil || !strings.Contains(err.Error(), "shorter than the minimum") {
		t.Errorf("Prune with a 1h period = %v, %v; want it refused", ok, err)
	}
	period, err := history.ParseRetention("7y")
	if err != nil {
		t.Fatal(err)
	}
	r.SetPeriod(period)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { r.Run(runCtx, time.Hour); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	var v history.Verification
	for time.Now().Before(deadline) {
		if v, err = st.Verify(ctx); err == nil && v.Checkpoint != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	if !v.OK || v.Checkpoint == nil || v.Checkpoint.First != 1 || v.Checkpoint.Seq != 2 || v.Records != 3 {
		t.Fatalf("after Run with 7y: %+v; want records 1 and 2 (9 and 8 years old) removed, 3 left", v)
	}
	if err := v.Checkpoint.Check(signer.PublicKey()); err != nil {
		t.Errorf("checkpoint: %v", err)
	}
}
