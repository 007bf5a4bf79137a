package render

import (
	"slices"
	"testing"
)

func TestSplitDocs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a: 1\n", []string{"a: 1\n"}},
		{"---\na: 1\n---\nb: 2\n", []string{"", "a: 1\n", "b: 2\n"}},
		{"a: 1\n--- \nb: 2", []string{"a: 1\n", "b: 2"}},
		{"a: '---'\nb: ---x\n", []string{"a: '---'\nb: ---x\n"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := splitDocs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitDocs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHeadOf(t *testing.T) {
	tests := []struct {
		doc                    string
		apiVersion, kind, name string
	}{
		{"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    name: no\n  name: \"cm\"\n", "v1", "ConfigMap", "cm"},
		{"kind: Service # a comment\napiVersion: v1\nmetadata:\n  name: 'svc'\n", "v1", "Service", "svc"},
		{"apiVersion: v1\nkind: Secret\nmetadata: {name: flow}\n", "v1", "Secret", "flow"},
		{"apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"a\\\"b\"\n", "v1", "Pod", "a\"b"},
	}
	for _, tt := range tests {
		o, err := headOf(tt.doc)
		if err != nil || o.APIVersion != tt.apiVersion || o.Kind != tt.kind || o.Name != tt.name {
			t.Errorf("headOf(%q) = %+v, %v", tt.doc, o, err)
		}
	}
	if _, err := headOf("apiVersion: v1\nkind: Pod\n"); err == nil {
		t.Error("an object without a name must be refused")
	}
}
