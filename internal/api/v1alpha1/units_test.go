package v1alpha1

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	for in, want := range map[string]time.Duration{"30s": 30 * time.Second, "8h": 8 * time.Hour,
		"90d": 90 * day, "1w": 7 * day, "7y": 7 * 365 * day, "1y6w": 365*day + 42*day, "1h30m": 90 * time.Minute,
		"500ms": 500 * time.Millisecond} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "7", "7q", "7yy", "-", "1.2.3h"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		}
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{"512KB": 512000, "10MB": 10_000_000, "1GiB": 1 << 30, "7B": 7} {
		if got, err := ParseByteSize(in); err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "10", "10TB", "-1MB", "99999999999999999999GB"} {
		if got, err := ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q) = %v, want an error", in, got)
		}
	}
}
