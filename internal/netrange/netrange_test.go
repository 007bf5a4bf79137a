package netrange

import (
	"net/netip"
	"strings"
	"testing"
)

func set(s string) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range strings.Fields(s) {
		out = append(out, netip.MustParsePrefix(f))
	}
	return out
}

func TestCovers(t *testing.T) {
	tests := []struct {
		set, p string
		want   bool
	}{
		{"198.51.100.0/24", "198.51.100.0/26", true},
		{"198.51.100.0/27 198.51.100.32/27", "198.51.100.0/26", true},
		{"198.51.100.0/27", "198.51.100.0/26", false},
		{"0.0.0.0/1 128.0.0.0/1", "0.0.0.0/0", true},
		{"0.0.0.0/1", "0.0.0.0/0", false},
		{"::/0", "0.0.0.0/0", false},
		{"2001:db8::/33 2001:db8:8000::/33", "2001:db8::/32", true},
		{"10.0.0.0/8", "10.1.2.3/32", true},
		{"", "10.0.0.0/8", false},
	}
	for _, tt := range tests {
		if got := Covers(set(tt.set), netip.MustParsePrefix(tt.p)); got != tt.want {
			t.Errorf("Covers(%s, %s) = %v, want %v", tt.set, tt.p, got, tt.want)
		}
	}
}
