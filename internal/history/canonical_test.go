package history

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"
)

func TestCanonical(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	s := Stored{Seq: 7, PrevHash: "ab", Hash: "ignored", Record: Record{
		Time:  time.Date(2026, 11, 23, 18, 5, 0, 123400000, paris),
		Event: AdapterUpgraded, Adapter: "lse", Environment: "prod",
		Commits: []Commit{{Hash: "c1", Author: Person{Name: "Ann <&>", Email: "ann@example.com",
			When: time.Date(2026, 11, 23, 10, 0, 0, 0, paris)}, Signature: "verified"}},
		Changes: []Change{{Pointer: "/spec/replicas", Kind: "replace",
			Before: json.Number("12345678901234567890"), After: map[string]any{"z": 1, "a": []any{true, nil}}}},
		Outcome: Succeeded, Actor: "cairn", Duration: 1500 * time.Millisecond,
	}}
	want := `{"actor":"cairn","adapter":"lse","changes":[{"after":{"a":[true,null],"z":1},` +
		`"before":12345678901234567890,"kind":"replace","pointer":"/spec/replicas","risk":""}],` +
		`"commits":[{"author":{"email":"ann@example.com","name":"Ann <&>","when":"2026-11-23T09:00:00Z"},` +
		`"committer":{"email":"","name":"","when":"0001-01-01T00:00:00Z"},"hash":"c1","signature":"verified","subject":""}],` +
		`"duration":1500000000,"environment":"prod","event":"adapter.upgraded","outcome":"succeeded",` +
		`"prevHash":"ab","seq":7,"time":"2026-11-23T17:05:00.1234Z"}`
	got, err := Canonical(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("Canonical:\n got %s\nwant %s", got, want)
	}
	sum := sha256.Sum256([]byte(want))
	if h, _ := HashOf(s); h != hex.EncodeToString(sum[:]) {
		t.Errorf("HashOf = %s, want the SHA-256 of the canonical bytes", h)
	}
	back, err := DecodeCanonical(got)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := Canonical(back); string(again) != want {
		t.Errorf("decoding and re-encoding changed the bytes:\n got %s\nwant %s", again, want)
	}
}
