package historytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/history"
)

var base = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fixture returns the i-th (from 0) record of a varied trail: three
// adapters, two environments, four events, two commits each by rotating
// authors, one minute apart.
func fixture(i int) history.Record {
	events := []history.Event{history.AdapterUpgraded, history.RevisionApplied, history.DriftDetected, history.AdapterInstalled}
	person := func(n int) history.Person {
		return history.Person{Name: fmt.Sprintf("Dev %d", n), Email: fmt.Sprintf("dev%d@example.com", n),
			When: base.Add(time.Duration(i) * time.Minute)}
	}
	return history.Record{
		Time:        base.Add(time.Duration(i) * time.Minute),
		Event:       events[i%len(events)],
		Revision:    fmt.Sprintf("rev%04d", i),
		Adapter:     fmt.Sprintf("adapter-%d", i%3),
		Environment: []string{"prod", "uat"}[i%2],
		Commits: []history.Commit{
			{Hash: fmt.Sprintf("c%da", i), Author: person(i % 5), Committer: person(9), Signature: "verified"},
			{Hash: fmt.Sprintf("c%db", i), Author: person((i + 1) % 5), Committer: person(9), Signature: "unsigned"},
		},
		Outcome:  history.Succeeded,
		Actor:    "cairn",
		Duration: time.Duration(i) * time.Millisecond,
	}
}

func appendN(t *testing.T, s history.Store, n int) []history.Record {
	t.Helper()
	recs := make([]history.Record, n)
	for i := range recs {
		recs[i] = fixture(i)
		if err := s.Append(context.Background(), recs[i]); err != nil {
			t.Fatalf("Append %d: %v", i+1, err)
		}
	}
	return recs
}

func verifyOK(t *testing.T, s history.Store, records int64) {
	t.Helper()
	v, err := s.Verify(context.Background())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !v.OK || v.Records != records || v.FirstBad != 0 {
		t.Fatalf("Verify of an intact store = %+v, want OK with %d records", v, records)
	}
}

func seqs(list []history.Stored) []int64 {
	out := make([]int64, len(list))
	for i, s := range list {
		out[i] = s.Seq
	}
	return out
}

// testAppendChains: Seq counts from 1; each PrevHash is the Hash before;
// each Hash is HashOf the record.
func testAppendChains(t *testing.T, s history.Store) {
	ctx := context.Background()
	appendN(t, s, 5)
	prev := ""
	for seq := int64(1); seq <= 5; seq++ {
		got, err := s.Get(ctx, seq)
		if err != nil {
			t.Fatalf("Get(%d): %v", seq, err)
		}
		want, err := history.HashOf(got)
		if err != nil {
			t.Fatal(err)
		}
		if got.Seq != seq || got.PrevHash != prev || got.Hash != want {
			t.Errorf("record %d: seq %d, prevHash %q, hash %q; want prevHash %q, hash %q",
				seq, got.Seq, got.PrevHash, got.Hash, prev, want)
		}
		prev = got.Hash
	}
	verifyOK(t, s, 5)
}

// testRoundTrip: every field comes back as appended; times in UTC, numbers
// inside changes as json.Number with their exact digits.
func testRoundTrip(t *testing.T, s history.Store) {
	ctx := context.Background()
	ny := time.FixedZone("EST", -5*3600)
	when := time.Date(2026, 3, 2, 4, 5, 6, 789012345, ny)
	in := history.Record{
		Time: when, Event: history.AdapterUpgraded, Revision: "5f2c", Previous: "41aa",
		Commits: []history.Commit{{
			Hash:      "5f2c",
			Author:    history.Person{Name: "Zoë <dev>", Email: "zoe@example.com", When: when},
			Committer: history.Person{Name: "GitHub", Email: "noreply@github.com", When: when.Add(time.Second)},
			Subject:   "lse: raise heartbeat \"quoted\" \u2028 line", Signature: "unverified",
			Files: []string{"adapters/lse.json", "lib/fix.libsonnet"},
		}},
		Adapter: "lse-fix-primary", Environment: "prod",
		Changes: []history.Change{
			{Pointer: "/spec/fix/heartbeatSeconds", Kind: "replace", Before: json.Number("30"),
				After: json.Number("12345678901234567890"), Risk: "low"},
			{Pointer: "/spec/connect/host", Kind: "replace", Before: "a.example", After: "b.example", Risk: "medium"},
			{Pointer: "/spec/connect/tls", Kind: "replace", Before: false, After: true, Risk: "high"},
			{Pointer: "/spec/fix/schedule", Kind: "add", After: map[string]any{
				"start": "06:00", "days": []any{json.Number("1.5"), "mon", nil, map[string]any{}}}, Risk: "low"},
			{Pointer: "/metadata/labels", Kind: "remove", Before: []any{"a"}, Risk: "low"},
		},
		Release: "lse-fix-primary", HelmVersion: 7, ValuesDigest: "sha256:0f0e",
		Outcome: history.Failed, Error: "upgrade: timed out", Actor: "api:alice", Duration: 1234567 * time.Nanosecond,
	}
	if err := s.Append(ctx, in); err != nil {
		t.Fatalf("Append: %v", err)
	}
	got, err := s.Get(ctx, 1)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	want := in
	want.Time = in.Time.UTC()
	want.Commits = []history.Commit{in.Commits[0]}
	want.Commits[0].Author.When = in.Commits[0].Author.When.UTC()
	want.Commits[0].Committer.When = in.Commits[0].Committer.When.UTC()
	if !reflect.DeepEqual(got.Record, want) {
		g, _ := json.Marshal(got.Record)
		w, _ := json.Marshal(want)
		t.Errorf("record changed through Append and Get:\n got %s\nwant %s\n(got %#v)", g, w, got.Record)
	}
	listed, err := s.List(ctx, history.Filter{})
	if err != nil || len(listed) != 1 || !reflect.DeepEqual(listed[0], got) {
		t.Errorf("List gave %+v, %v; want what Get gave", listed, err)
	}
	verifyOK(t, s, 1)
}

// testConcurrentAppend: 8 goroutines appending at once leave a gapless,
// verifiable chain holding every record once.
func testConcurrentAppend(t *testing.T, s history.Store) {
	const writers, each = 8, 25
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				r := fixture(i)
				r.Actor = fmt.Sprintf("writer-%d-%d", g, i)
				if err := s.Append(ctx, r); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Append: %v", err)
	}
	verifyOK(t, s, writers*each)
	seen := map[string]bool{}
	next := int64(1)
	err := s.Scan(ctx, 0, func(r history.Stored) error {
		if r.Seq != next {
			return fmt.Errorf("Scan gave seq %d, want %d", r.Seq, next)
		}
		next++
		if seen[r.Actor] {
			return fmt.Errorf("%s recorded twice", r.Actor)
		}
		seen[r.Actor] = true
		return nil
	})
	if err != nil || len(seen) != writers*each {
		t.Fatalf("Scan: %v; %d distinct records, want %d", err, len(seen), writers*each)
	}
}

// testListFilters: each filter selects exactly the matching records, newest
// first.
func testListFilters(t *testing.T, s history.Store) {
	const n = 40
	recs := appendN(t, s, n)
	tests := []struct {
		name   string
		filter history.Filter
		match  func(r history.Record) bool
	}{
		{"everything", history.Filter{}, func(history.Record) bool { return true }},
		{"adapter", history.Filter{Adapter: "adapter-1"}, func(r history.Record) bool { return r.Adapter == "adapter-1" }},
		{"environment", history.Filter{Environment: "uat"}, func(r history.Record) bool { return r.Environment == "uat" }},
		{"author name, any commit", history.Filter{Author: "Dev 3"}, func(r history.Record) bool {
			return r.Commits[0].Author.Name == "Dev 3" || r.Commits[1].Author.Name == "Dev 3"
		}},
		{"author e-mail", history.Filter{Author: "dev0@example.com"}, func(r history.Record) bool {
			return r.Commits[0].Author.Email == "dev0@example.com" || r.Commits[1].Author.Email == "dev0@example.com"
		}},
		{"committer is not an author", history.Filter{Author: "Dev 9"}, func(history.Record) bool { return false }},
		{"events", history.Filter{Events: []history.Event{history.DriftDetected, history.AdapterInstalled}},
			func(r history.Record) bool {
				return r.Event == history.DriftDetected || r.Event == history.AdapterInstalled
			}},
		{"time range: since inclusive, until exclusive",
			history.Filter{Since: base.Add(10 * time.Minute), Until: base.Add(20 * time.Minute)},
			func(r history.Record) bool {
				return !r.Time.Before(base.Add(10*time.Minute)) && r.Time.Before(base.Add(20*time.Minute))
			}},
		{"all at once", history.Filter{Adapter: "adapter-0", Environment: "prod", Author: "Dev 1",
			Events: []history.Event{history.AdapterUpgraded, history.RevisionApplied}, Since: base.Add(5 * time.Minute)},
			func(r history.Record) bool {
				return r.Adapter == "adapter-0" && r.Environment == "prod" &&
					(r.Commits[0].Author.Name == "Dev 1" || r.Commits[1].Author.Name == "Dev 1") &&
					(r.Event == history.AdapterUpgraded || r.Event == history.RevisionApplied) &&
					!r.Time.Before(base.Add(5*time.Minute))
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []int64
			for i := n - 1; i >= 0; i-- {
				if tc.match(recs[i]) {
					want = append(want, int64(i+1))
				}
			}
			got, err := s.List(context.Background(), tc.filter)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if !slices.Equal(seqs(got), want) {
				t.Errorf("List(%+v) = %v, want %v", tc.filter, seqs(got), want)
			}
		})
	}
}

// testListPages: paging with Before and Limit visits every matching record
// once, newest first, with no overlap and no gap.
func testListPages(t *testing.T, s history.Store) {
	ctx := context.Background()
	recs := appendN(t, s, 60)
	var want []int64
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Adapter == "adapter-2" {
			want = append(want, int64(i+1))
		}
	}
	var got []int64
	before := int64(0)
	for pages := 0; ; pages++ {
		if pages > len(want) {
			t.Fatalf("paging does not end: %v", got)
		}
		page, err := s.List(ctx, history.Filter{Adapter: "adapter-2", Before: before, Limit: 7})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if len(page) > 7 {
			t.Fatalf("page of %d records, Limit 7", len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, seqs(page)...)
		before = page[len(page)-1].Seq
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages gave %v, want %v", got, want)
	}
	all, err := s.List(ctx, history.Filter{})
	if err != nil || len(all) != 60 || all[0].Seq != 60 {
		t.Errorf("List with Limit 0 gave %d records (%v), want all 60 newest first", len(all), err)
	}
}

// testGetNotFound: Get of a seq never assigned is ErrNotFound.
func testGetNotFound(t *testing.T, s history.Store) {
	ctx := context.Background()
	if _, err := s.Get(ctx, 1); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("Get(1) on an empty store: %v, want ErrNotFound", err)
	}
	appendN(t, s, 1)
	for _, seq := range []int64{0, 2, -1} {
		if _, err := s.Get(ctx, seq); !errors.Is(err, history.ErrNotFound) {
			t.Errorf("Get(%d): %v, want ErrNotFound", seq, err)
		}
	}
	if r, err := s.Get(ctx, 1); err != nil || r.Seq != 1 {
		t.Errorf("Get(1) = %d, %v", r.Seq, err)
	}
}

// testScan: Scan visits records oldest first, from the one after the
// sequence number it is given, and stops at fn's first error,
// returning it.
func testScan(t *testing.T, s history.Store) {
	ctx := context.Background()
	appendN(t, s, 10)
	var got []int64
	if err := s.Scan(ctx, 0, func(r history.Stored) error { got = append(got, r.Seq); return nil }); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) {
		t.Errorf("Scan visited %v", got)
	}
	got = nil
	if err := s.Scan(ctx, 7, func(r history.Stored) error { got = append(got, r.Seq); return nil }); err != nil {
		t.Fatalf("Scan after 7: %v", err)
	}
	if !slices.Equal(got, []int64{8, 9, 10}) {
		t.Errorf("Scan after 7 visited %v, want 8, 9, 10", got)
	}
	stop := errors.New("stop")
	calls := 0
	err := s.Scan(ctx, 0, func(r history.Stored) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("Scan returned %v after %d calls, want fn's error after 3", err, calls)
	}
}

// testVerifyEmpty: an empty store verifies.
func testVerifyEmpty(t *testing.T, s history.Store) {
	verifyOK(t, s, 0)
}

type tampering struct {
	name     string
	do       func(t *testing.T, tamper Tamperer, s history.Store)
	firstBad int64
	// done reports whether the storage now shows the tampering, given the
	// records before it, so a Tamperer that did nothing cannot pass.
	done func(s history.Store, before []history.Stored) bool
}

func edited(seq int64) func(history.Store, []history.Stored) bool {
	return func(s history.Store, before []history.Stored) bool {
		r, err := s.Get(context.Background(), seq)
		return err == nil && !reflect.DeepEqual(r.Record, before[seq-1].Record)
	}
}

func deleted(seq int64) func(history.Store, []history.Stored) bool {
	return func(s history.Store, _ []history.Stored) bool {
		_, err := s.Get(context.Background(), seq)
		return errors.Is(err, history.ErrNotFound)
	}
}

func swapped(a, b int64) func(history.Store, []history.Stored) bool {
	return func(s history.Store, before []history.Stored) bool {
		ra, errA := s.Get(context.Background(), a)
		rb, errB := s.Get(context.Background(), b)
		return errA == nil && errB == nil && ra.Hash == before[b-1].Hash && rb.Hash == before[a-1].Hash
	}
}

// tamperings of a 10-record store and the record Verify must name.
var tamperings = []tampering{
	{"edit first", func(t *testing.T, tm Tamperer, s history.Store) { tm.EditField(t, s, 1) }, 1, edited(1)},
	{"edit middle", func(t *testing.T, tm Tamperer, s history.Store) { tm.EditField(t, s, 4) }, 4, edited(4)},
	{"edit last", func(t *testing.T, tm Tamperer, s history.Store) { tm.EditField(t, s, 10) }, 10, edited(10)},
	// A deleted record shows as the next one no longer linking.
	{"delete first", func(t *testing.T, tm Tamperer, s history.Store) { tm.Delete(t, s, 1) }, 2, deleted(1)},
	{"delete middle", func(t *testing.T, tm Tamperer, s history.Store) { tm.Delete(t, s, 4) }, 5, deleted(4)},
	{"swap", func(t *testing.T, tm Tamperer, s history.Store) { tm.Swap(t, s, 3, 7) }, 3, swapped(3, 7)},
	{"swap neighbours", func(t *testing.T, tm Tamperer, s history.Store) { tm.Swap(t, s, 8, 9) }, 8, swapped(8, 9)},
}

func testTamper(t *testing.T, s history.Store, tamper Tamperer, tc tampering) {
	ctx := context.Background()
	appendN(t, s, 10)
	verifyOK(t, s, 10)
	before, err := s.List(ctx, history.Filter{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	slices.Reverse(before)
	tc.do(t, tamper, s)
	if !tc.done(s, before) {
		t.Fatalf("the Tamperer did not %s", tc.name)
	}
	v, err := s.Verify(ctx)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if v.OK || v.FirstBad != tc.firstBad || v.Reason == "" {
		t.Errorf("Verify after %s = %+v, want not OK, FirstBad %d and a reason", tc.name, v, tc.firstBad)
	}
}
