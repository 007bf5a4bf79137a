package sqlitestore

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cairn-gitops/cairn/internal/history"
)

// TestScanHeader: scanHeader reads what encoding/json reads, and refuses
// what is not a JSON object.
func TestScanHeader(t *testing.T) {
	r := benchRecord(7)
	r.Adapter = "é \"quoted\" \\ adapter"
	r.Changes[0].Before = map[string]any{"adapter": "nested", "seq": 99, "s": "}]\"{"}
	body, err := history.Canonical(history.Stored{Seq: 42, PrevHash: "ab", Record: r})
	if err != nil {
		t.Fatal(err)
	}
	spaced := []byte(" {\"seq\" : 3 , \"adapter\": \"a\\u0041\", \"x\": [1, {\"y\": \"]\"}], \"event\":\"e\" } ")
	for _, in := range [][]byte{body, spaced, []byte(`{}`)} {
		var want header
		if err := json.Unmarshal(in, &want); err != nil {
			t.Fatal(err)
		}
		got, err := scanHeader(in)
		if err != nil || got != want {
			t.Errorf("scanHeader(%s) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{``, `[]`, `{"seq":1`, `{"seq":"x"}`, `{"a":"unterminated}`, `{"a":1}}`, `{"a" 1}`, `{"a":[1}`} {
		if _, err := scanHeader([]byte(bad)); err == nil {
			t.Errorf("scanHeader(%s) accepted it", bad)
		}
	}
}

// FuzzScanHeader: scanHeader never panics, and whatever it reads from a
// JSON object with exact-case keys agrees with encoding/json.
func FuzzScanHeader(f *testing.F) {
	body, _ := history.Canonical(history.Stored{Seq: 1, Record: benchRecord(1)})
	for _, seed := range []string{string(body), `{}`, `{"seq":1,"adapter":"a\"b"}`, `{"a":[{"b":"]"}]}`, `{"seq":`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := scanHeader(in)
		if err != nil || !json.Valid(in) {
			return
		}
		var fields map[string]json.RawMessage
		if json.Unmarshal(in, &fields) != nil {
			return
		}
		for k := range fields {
			for _, name := range []string{"seq", "prevHash", "time", "event", "adapter", "environment", "revision"} {
				if k != name && strings.EqualFold(k, name) {
					return // encoding/json matches keys regardless of case; canonical keys are exact
				}
			}
		}
		var want header
		if json.Unmarshal(in, &want) == nil && got != want {
			t.Errorf("scanHeader(%s) = %+v, encoding/json %+v", in, got, want)
		}
	})
}
