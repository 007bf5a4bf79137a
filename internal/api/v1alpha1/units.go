package v1alpha1

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// durationUnits are the units of a duration in cairn's documents: Go's,
// plus d (day), w (week) and y (365 days).
var durationUnits = map[string]time.Duration{"ns": time.Nanosecond, "us": time.Microsecond,
	"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
	"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "y": 365 * 24 * time.Hour}

// ParseDuration reads a duration as the documents write it, such as "8h",
// "30d", "7y" or "1y6w".
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if d, err := time.ParseDuration(in); err == nil {
		return d, nil
	}
	var total time.Duration
	for rest := in; rest != ""; {
		i := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i <= 0 {
			return 0, fmt.Errorf("duration %q: want a number and a unit (ms, s, m, h, d, w, y)", s)
		}
		j := strings.IndexFunc(rest[i:], func(r rune) bool { return r >= '0' && r <= '9' || r == '.' })
		if j < 0 {
			j = len(rest) - i
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		unit, ok := durationUnits[rest[i:i+j]]
		if err != nil || !ok {
			return 0, fmt.Errorf("duration %q: want a number and a unit (ms, s, m, h, d, w, y)", s)
		}
		total += time.Duration(n * float64(unit))
		rest = rest[i+j:]
	}
	return total, nil
}

// byteUnits are the units of a size, decimal and binary.
var byteUnits = map[string]int64{"B": 1, "KB": 1000, "MB": 1000 * 1000, "GB": 1000 * 1000 * 1000,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}

// ParseByteSize reads a size such as "512KB", "10MB" or "1GiB" in bytes.
func ParseByteSize(s string) (int64, error) {
	in := strings.TrimSpace(s)
	i := strings.IndexFunc(in, func(r rune) bool { return r < '0' || r > '9' })
	if i <= 0 {
		return 0, fmt.Errorf("size %q: want a number and a unit (B, KB, MB, GB, KiB, MiB, GiB)", s)
	}
	n, err := strconv.ParseInt(in[:i], 10, 64)
	unit, ok := byteUnits[in[i:]]
	if err != nil || !ok || n > (1<<62)/unit {
		return 0, fmt.Errorf("size %q: want a number and a unit (B, KB, MB, GB, KiB, MiB, GiB)", s)
	}
	return n * unit, nil
}
