package status

import (
	"testing"

	"github.com/cairn-gitops/cairn/internal/diag"
)

func TestSnapshotIsACopyAndSorted(t *testing.T) {
	s := NewStore("repo", "main")
	s.Update(func(sn *Snapshot) {
		sn.Adapters = append(sn.Adapters, Adapter{Key: "uat/b"}, Adapter{Key: "prod/a"})
		sn.Last = &Revision{Revision: "r1", Findings: []diag.Finding{{File: "a.json"}}}
	})
	snap := s.Snapshot()
	if snap.Adapters[0].Key != "prod/a" || snap.Adapters[1].Key != "uat/b" {
		t.Fatalf("adapters not sorted by key: %+v", snap.Adapters)
	}
	snap.Adapters[0].Phase = Failed
	snap.Last.Findings[0].File = "changed"
	again := s.Snapshot()
	if again.Adapters[0].Phase != "" || again.Last.Findings[0].File != "a.json" {
		t.Errorf("a snapshot shares memory with the store: %+v", again)
	}
	if a, ok := again.Adapter("uat/b"); !ok || a.Key != "uat/b" {
		t.Errorf("Adapter(uat/b) = %+v, %v", a, ok)
	}
	if _, ok := again.Adapter("prod/zz"); ok {
		t.Error("Adapter found a key that is not there")
	}
}
