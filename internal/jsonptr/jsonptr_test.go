package jsonptr

import (
	"slices"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, toks := range [][]string{nil, {""}, {"a"}, {"a/b", "c~d", "~1"}, {"metadata", "labels", "app.kubernetes.io/name"}} {
		p := Join(toks...)
		if got := Tokens(p); !slices.Equal(got, toks) && !(len(got) == 0 && len(toks) == 0) {
			t.Errorf("Tokens(Join(%q)) = %q via %q", toks, got, p)
		}
	}
	if got := Join("a/b", "c~d"); got != "/a~1b/c~0d" {
		t.Errorf("Join = %q", got)
	}
}

func TestResolve(t *testing.T) {
	doc := map[string]any{"a": []any{map[string]any{"b/c": "x"}}, "n": nil}
	tests := []struct {
		ptr  string
		want any
	}{
		{"/a/0/b~1c", "x"},
		{"/a/1", nil},
		{"/a/-1", nil},
		{"/a/x", nil},
		{"/missing/deeper", nil},
		{"/a/0/b~1c/deeper", nil},
	}
	for _, tt := range tests {
		if got := Resolve(doc, tt.ptr); got != tt.want {
			t.Errorf("Resolve(%q) = %v, want %v", tt.ptr, got, tt.want)
		}
	}
	if got := Resolve(doc, ""); got == nil {
		t.Error("the empty pointer is the document")
	}
}
