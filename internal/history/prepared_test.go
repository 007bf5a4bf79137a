package history

import (
	"encoding/json"
	"testing"
	"time"
)

// TestPrepared: filling in a prepared record gives exactly Canonical, also
// when nested values or strings contain "seq" and "prevHash".
func TestPrepared(t *testing.T) {
	tricky := map[string]any{"seq": json.Number("0"), "prevHash": "", "x": `"seq":0 "prevHash":""`}
	records := []Record{
		{},
		{Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Event: RevisionApplied, Outcome: Succeeded, Actor: "cairn"},
		{Event: AdapterUpgraded, Changes: []Change{{Pointer: "/a", Before: tricky, After: []any{tricky}}},
			Commits: []Commit{{Subject: `"seq":0`}}, Previous: `"prevHash":""`, Revision: `"seq":0`,
			Release: "r", ValuesDigest: `"seq":0`, Error: `"seq":0`},
	}
	for i, r := range records {
		p, err := Prepare(r)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		for _, place := range []struct {
			seq  int64
			prev string
		}{{1, ""}, {2, "0a1b"}, {1234567890123, "ff"}} {
			want, err := Canonical(Stored{Seq: place.seq, PrevHash: place.prev, Record: r})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Canonical(place.seq, place.prev); string(got) != string(want) {
				t.Errorf("record %d at %d:\n got %s\nwant %s", i, place.seq, got, want)
			}
		}
	}
}
