package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/history/sqlitestore"
)

// TestHistoryRetention: prune removes old records under a checkpoint signed
// with the state directory's key; verify checks it, and with --public-key
// refuses another key; a retention shorter than a day is refused.
func TestHistoryRetention(t *testing.T) {
	state := t.TempDir()
	st, err := sqlitestore.Open(filepath.Join(state, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, years := range []int{10, 9, 1, 0} {
		r := history.Record{Time: now.AddDate(-years, 0, -1), Event: history.RevisionApplied, Outcome: history.Succeeded,
			Revision: strings.Repeat("a", 40), Actor: "test"}
		if err := st.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	sd := []string{"--state-dir", state}

	if r := cairn(t, append([]string{"history", "prune", "--older-than", "1h"}, sd...)...); r.code == 0 ||
		!strings.Contains(r.stderr, "shorter than the minimum") {
		t.Errorf("prune --older-than 1h: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := cairn(t, append([]string{"history", "prune", "--older-than", "7y"}, sd...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "removed records 1 to 2") {
		t.Fatalf("prune --older-than 7y: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	key := cairn(t, append([]string{"history", "key"}, sd...)...)
	key.wantCode(t, 0)
	pub := filepath.Join(t.TempDir(), "audit.pub")
	if err := os.WriteFile(pub, []byte(key.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	r = cairn(t, append([]string{"history", "verify", "--public-key", pub}, sd...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "retention: records 1 to 2") || !strings.Contains(r.stdout, "verified: 3 records") ||
		!strings.Contains(r.stdout, strings.TrimSpace(key.stderr)) {
		t.Errorf("verify --public-key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	other := cairn(t, "history", "key", "--state-dir", t.TempDir())
	if err := os.WriteFile(pub, []byte(other.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := cairn(t, append([]string{"history", "verify", "--public-key", pub}, sd...)...); r.code != 1 ||
		!strings.Contains(r.stdout, "not by the pinned key") {
		t.Errorf("verify with another key pinned: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = cairn(t, append([]string{"history", "list", "--event", "history.pruned"}, sd...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "removed records 1 to 2 (older than") {
		t.Errorf("list --event history.pruned: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
