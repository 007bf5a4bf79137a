package metrics

import (
	"cmp"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// destinationCollector exports the audit destinations' lag and failures
// from the last values each reported. Values are kept by the name the
// caller passed; at collection, names that clean to the same label (two
// URLs that differ only in their query) and names past
// MaxAuditDestinations are merged: the largest lag, the sum of failures.
type destinationCollector struct {
	lagDesc, failuresDesc *prometheus.Desc

	mu    sync.Mutex
	stats map[string]destinationStat
}

type destinationStat struct {
	lag, failures int64
}

func newDestinationCollector() *destinationCollector {
	return &destinationCollector{
		lagDesc: prometheus.NewDesc("cairn_audit_destination_lag_records",
			"Audit records the store holds past the last one an audit destination accepted.",
			[]string{"destination"}, nil),
		failuresDesc: prometheus.NewDesc("cairn_audit_destination_failures_total",
			"Failed attempts to deliver audit records to an audit destination.",
			[]string{"destination"}, nil),
		stats: make(map[string]destinationStat),
	}
}

func (c *destinationCollector) set(name string, lag, failures int64) {
	c.mu.Lock()
	c.stats[name] = destinationStat{lag: max(lag, 0), failures: max(failures, 0)}
	c.mu.Unlock()
}

func (c *destinationCollector) retain(names []string) {
	c.mu.Lock()
	for n := range c.stats {
		if !slices.Contains(names, n) {
			delete(c.stats, n)
		}
	}
	c.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (c *destinationCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lagDesc
	ch <- c.failuresDesc
}

// Collect implements prometheus.Collector.
func (c *destinationCollector) Collect(ch chan<- prometheus.Metric) {
	type entry struct {
		label string
		destinationStat
	}
	c.mu.Lock()
	entries := make([]entry, 0, len(c.stats))
	for n, s := range c.stats {
		entries = append(entries, entry{destinationLabel(n), s})
	}
	c.mu.Unlock()
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Compare(a.label, b.label) })

	merged := make(map[string]destinationStat, len(entries))
	var order []string
	for _, e := range entries {
		l := e.label
		if _, seen := merged[l]; !seen && len(order) >= MaxAuditDestinations {
			l = Other
		}
		s, seen := merged[l]
		if !seen {
			order = append(order, l)
		}
		merged[l] = destinationStat{lag: max(s.lag, e.lag), failures: s.failures + e.failures}
	}
	for _, l := range order {
		s := merged[l]
		ch <- prometheus.MustNewConstMetric(c.lagDesc, prometheus.GaugeValue, float64(s.lag), l)
		ch <- prometheus.MustNewConstMetric(c.failuresDesc, prometheus.CounterValue, float64(s.failures), l)
	}
}
