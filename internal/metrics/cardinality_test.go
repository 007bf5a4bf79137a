package metrics

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// families gathers m's registry: family name to its metrics.
func families(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// labelValues returns, per label name, the values a family's series carry.
func labelValues(mf *dto.MetricFamily) map[string]map[string]bool {
	out := make(map[string]map[string]bool)
	for _, metric := range mf.GetMetric() {
		for _, lp := range metric.GetLabel() {
			if out[lp.GetName()] == nil {
				out[lp.GetName()] = make(map[string]bool)
			}
			out[lp.GetName()][lp.GetValue()] = true
		}
	}
	return out
}

// junk is a value no vocabulary holds: a raw path, a user name, an
// address, a token, invalid UTF-8.
func junk(r *rand.Rand, i int) string {
	switch i % 6 {
	case 0:
		return fmt.Sprintf("/api/v1/adapters/prod/adapter-%d", r.IntN(1e9))
	case 1:
		return fmt.Sprintf("user%d@example.com", r.IntN(1e9))
	case 2:
		return fmt.Sprintf("203.0.113.%d", r.IntN(256))
	case 3:
		return fmt.Sprintf("eyJhbGciOiJIUzI1NiJ9.%x", r.Uint64())
	case 4:
		return string([]byte{0xff, 0xfe, byte(r.IntN(256))})
	}
	return strings.Repeat("x", r.IntN(2000))
}

// TestCardinalityGuard feeds every method values outside its vocabulary
// and checks that each label keeps to its vocabulary plus "other", and
// that the free-form labels stay within their bounds.
func TestCardinalityGuard(t *testing.T) {
	m := New()
	r := rand.New(rand.NewPCG(1, 2))
	const n = 3000
	for i := range n {
		m.ObserveRequest(junk(r, i), junk(r, i+1), r.IntN(2000)-500, time.Duration(r.IntN(1e9)))
		m.AuthAttempt(junk(r, i), junk(r, i+1), junk(r, i+2))
		m.AuthAttempt("jwt", "failure", junk(r, i))
		m.AuthzDecision(junk(r, i), junk(r, i+1))
		m.AuthzDecision("adapters:"+junk(r, i), "denied")
		m.AuthzDecision("*:*", "allowed")
		m.RateLimited(junk(r, i))
		m.CertificateExpiry(junk(r, i), time.Now())
		m.WebhookDelivery(junk(r, i))
		m.ReconcileDone(junk(r, i), time.Second)
		m.AdaptersByHealth(map[string]int{junk(r, i): 1, "Healthy": 2})
		m.AuditDestination(junk(r, i), int64(r.IntN(100)), int64(r.IntN(100)))
	}
	fams := families(t, m)

	permissions := map[string]bool{Other: true}
	for r := range permissionResources.m {
		for a := range permissionActions.m {
			permissions[r+":"+a] = true
		}
	}
	allowed := func(s set, extra ...string) map[string]bool {
		out := map[string]bool{Other: true}
		for v := range s.m {
			out[v] = true
		}
		for _, v := range extra {
			out[v] = true
		}
		return out
	}
	codes := map[string]bool{Other: true}
	for c := 100; c <= 599; c++ {
		codes[fmt.Sprint(c)] = true
	}
	health := map[string]bool{}
	for _, h := range healthCodes {
		health[h] = true
	}
	vocab := map[string]map[string]map[string]bool{
		"cairn_http_requests_total":           {"method": allowed(httpMethods), "code": codes},
		"cairn_http_request_duration_seconds": {"method": allowed(httpMethods)},
		"cairn_auth_attempts_total": {"method": allowed(authMethods), "outcome": allowed(authOutcomes),
			"reason": allowed(authReasons, "")},
		"cairn_authz_decisions_total":                {"permission": permissions, "outcome": allowed(authzOutcomes)},
		"cairn_rate_limit_hits_total":                {"scope": allowed(rateLimitScopes)},
		"cairn_certificate_expiry_timestamp_seconds": {"name": allowed(certificateNames)},
		"cairn_webhook_deliveries_total":             {"outcome": allowed(webhookOutcomes)},
		"cairn_reconcile_total":                      {"phase": allowed(reconcilePhases)},
		"cairn_reconcile_duration_seconds":           {"phase": allowed(reconcilePhases)},
		"cairn_reconcile_last_phase":                 {"phase": allowed(reconcilePhases)},
		"cairn_adapters":                             {"health": health},
	}
	for name, labels := range vocab {
		mf := fams[name]
		if mf == nil {
			t.Errorf("no family %s", name)
			continue
		}
		got := labelValues(mf)
		for label, ok := range labels {
			for v := range got[label] {
				if !ok[v] {
					t.Errorf("%s{%s=%q}: outside the vocabulary", name, label, v)
				}
			}
		}
		if len(mf.GetMetric()) > 2000 {
			t.Errorf("%s: %d series", name, len(mf.GetMetric()))
		}
	}
	for _, name := range []string{"cairn_auth_attempts_total", "cairn_authz_decisions_total", "cairn_rate_limit_hits_total",
		"cairn_webhook_deliveries_total", "cairn_reconcile_total", "cairn_certificate_expiry_timestamp_seconds"} {
		found := false
		for _, vs := range labelValues(fams[name]) {
			found = found || vs[Other]
		}
		if !found {
			t.Errorf("%s: unknown values should be recorded as %q", name, Other)
		}
	}

	// Routes: at most MaxRoutes distinct, then "other" (and "unmatched").
	routes := labelValues(fams["cairn_http_requests_total"])["route"]
	if len(routes) > MaxRoutes+2 || !routes[Other] {
		t.Errorf("%d route labels (other: %v), want at most %d and other", len(routes), routes[Other], MaxRoutes+2)
	}
	for rt := range routes {
		if len(rt) > maxLabelLen+8 {
			t.Errorf("route label of %d bytes", len(rt))
		}
	}
	dests := labelValues(fams["cairn_audit_destination_lag_records"])["destination"]
	if len(dests) > MaxAuditDestinations+1 || !dests[Other] {
		t.Errorf("%d destination labels (other: %v), want at most %d and other", len(dests), dests[Other], MaxAuditDestinations+1)
	}
	if got := len(fams["cairn_audit_destination_failures_total"].GetMetric()); got != len(dests) {
		t.Errorf("%d failure series for %d destinations", got, len(dests))
	}
}

// TestConcurrentUse records from many goroutines while scraping; run it
// with -race.
func TestConcurrentUse(t *testing.T) {
	m := New()
	const workers, rounds = 8, 300
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range rounds {
				m.ObserveRequest(fmt.Sprintf("GET /r%d", r.IntN(2*MaxRoutes)), "GET", 200, time.Millisecond)
				m.AuthAttempt("jwt", "failure", "expired")
				m.AuthzDecision("sync:create", "denied")
				m.RateLimited("client")
				m.IPRefused()
				m.CertificateExpiry("server", time.Now())
				m.AuditAccessDropped(1)
				m.WebhookDelivery("duplicate")
				m.ReconcileDone([]string{"Applied", "Failed"}[i%2], time.Millisecond)
				m.AdaptersByHealth(map[string]int{"Healthy": i})
				m.AppliedRevisionTimestamp(time.Now())
				m.AuditDestination(fmt.Sprintf("file /var/log/a%d.log", r.IntN(2*MaxAuditDestinations)), 1, int64(i))
				if i%50 == 0 {
					m.RetainAuditDestinations("file /var/log/a1.log")
				}
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 10 {
				if _, err := m.Registry().Gather(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			scrape(t, m)
		}
	})
	wg.Wait()

	_, samples := scrape(t, m)
	want(t, samples, map[string]float64{
		`cairn_auth_attempts_total{method="jwt",outcome="failure",reason="expired"}`: workers * rounds,
		`cairn_ip_allowlist_refusals_total`:                                          workers * rounds,
		`cairn_audit_access_records_dropped_total`:                                   workers * rounds,
		`cairn_webhook_deliveries_total{outcome="duplicate"}`:                        workers * rounds,
	})
	var requests, ones float64
	for s, v := range samples {
		if strings.HasPrefix(s, "cairn_http_requests_total{") {
			requests += v
		}
		if strings.HasPrefix(s, "cairn_reconcile_last_phase{") {
			ones += v
		}
	}
	if requests != workers*rounds {
		t.Errorf("%v requests counted, want %d", requests, workers*rounds)
	}
	if ones != 1 {
		t.Errorf("cairn_reconcile_last_phase sums to %v, want exactly one phase at 1", ones)
	}
}
