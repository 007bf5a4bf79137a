package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape GETs m's handler through a real HTTP server and returns the
// exposition text and its samples, series (name and labels as printed) to
// value.
func scrape(t *testing.T, m *Metrics) (string, map[string]float64) {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want the text format", ct)
	}
	return string(body), parseSamples(t, string(body))
}

func parseSamples(t *testing.T, text string) map[string]float64 {
	t.Helper()
	samples := make(map[string]float64)
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("sample line without a value: %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample line %q: %v", line, err)
		}
		if _, dup := samples[line[:i]]; dup {
			t.Fatalf("series %s exported twice", line[:i])
		}
		samples[line[:i]] = v
	}
	return samples
}

// want checks that each series has its value.
func want(t *testing.T, samples map[string]float64, expected map[string]float64) {
	t.Helper()
	for series, v := range expected {
		got, ok := samples[series]
		switch {
		case !ok:
			t.Errorf("no sample %s", series)
		case math.Abs(got-v) > 1e-9*math.Max(1, math.Abs(v)):
			t.Errorf("%s = %v, want %v", series, got, v)
		}
	}
}

func TestExposition(t *testing.T) {
	m := New()
	const route = "GET /api/v1/adapters/{environment}/{name}"
	m.ObserveRequest(route, "GET", 200, 250*time.Millisecond)
	m.ObserveRequest(route, "GET", 200, 500*time.Millisecond)
	m.ObserveRequest(route, "GET", 404, time.Millisecond)
	m.ObserveRequest("", "GET", 404, time.Millisecond)

	m.AuthAttempt("jwt", "failure", "expired")
	m.AuthAttempt("jwt", "failure", "expired")
	m.AuthAttempt("apikey", "success", "")
	m.AuthAttempt("none", "failure", "no-credentials")
	m.AuthzDecision("sync:create", "denied")
	m.AuthzDecision("adapters:read", "allowed")
	m.RateLimited("client")
	m.IPRefused()
	notAfter := time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
	m.CertificateExpiry("server", notAfter)
	m.CertificateExpiry("client-ca", notAfter.Add(time.Hour))
	m.CertificateExpiry("client-ca", time.Time{}) // no longer configured
	m.AuditAccessDropped(2)
	m.AuditAccessDropped(1)
	m.AuditAccessDropped(0)
	m.AuditAccessDropped(-5)
	m.WebhookDelivery("accepted")

	m.ReconcileDone("Applied", 2*time.Second)
	m.ReconcileDone("Failed", 500*time.Millisecond)
	m.AdaptersByHealth(map[string]int{"Healthy": 3, "Degraded": 1, "": 1, "Unknown": 1})
	applied := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	m.AppliedRevisionTimestamp(applied)
	m.AppliedRevisionTimestamp(time.Time{}) // ignored
	m.AuditDestination("file /var/log/cairn/audit.log", 5, 2)
	m.AuditDestination("stdout", 0, 0)

	text, samples := scrape(t, m)
	r := `route="` + route + `"`
	want(t, samples, map[string]float64{
		`cairn_http_requests_total{code="200",method="GET",` + r + `}`:                 2,
		`cairn_http_requests_total{code="404",method="GET",` + r + `}`:                 1,
		`cairn_http_requests_total{code="404",method="GET",route="unmatched"}`:         1,
		`cairn_http_request_duration_seconds_count{method="GET",` + r + `}`:            3,
		`cairn_http_request_duration_seconds_sum{method="GET",` + r + `}`:              0.751,
		`cairn_http_request_duration_seconds_bucket{method="GET",` + r + `,le="0.25"}`: 2,
		`cairn_http_request_duration_seconds_bucket{method="GET",` + r + `,le="0.5"}`:  3,
		`cairn_http_request_duration_seconds_bucket{method="GET",` + r + `,le="0.1"}`:  1,

		`cairn_auth_attempts_total{method="jwt",outcome="failure",reason="expired"}`:         2,
		`cairn_auth_attempts_total{method="apikey",outcome="success",reason=""}`:             1,
		`cairn_auth_attempts_total{method="none",outcome="failure",reason="no-credentials"}`: 1,
		`cairn_authz_decisions_total{outcome="denied",permission="sync:create"}`:             1,
		`cairn_authz_decisions_total{outcome="allowed",permission="adapters:read"}`:          1,
		`cairn_rate_limit_hits_total{scope="client"}`:                                        1,
		`cairn_rate_limit_hits_total{scope="global"}`:                                        0,
		`cairn_ip_allowlist_refusals_total`:                                                  1,
		`cairn_certificate_expiry_timestamp_seconds{name="server"}`:                          float64(notAfter.Unix()),
		`cairn_audit_access_records_dropped_total`:                                           3,
		`cairn_webhook_deliveries_total{outcome="accepted"}`:                                 1,
		`cairn_webhook_deliveries_total{outcome="duplicate"}`:                                0,
		`cairn_webhook_deliveries_total{outcome="bad-signature"}`:                            0,
		`cairn_webhook_deliveries_total{outcome="ignored"}`:                                  0,

		`cairn_reconcile_total{phase="Applied"}`:                  1,
		`cairn_reconcile_total{phase="Failed"}`:                   1,
		`cairn_reconcile_total{phase="Stalled"}`:                  0,
		`cairn_reconcile_duration_seconds_count{phase="Applied"}`: 1,
		`cairn_reconcile_duration_seconds_sum{phase="Applied"}`:   2,
		`cairn_reconcile_last_phase{phase="Failed"}`:              1,
		`cairn_reconcile_last_phase{phase="Applied"}`:             0,
		`cairn_reconcile_last_phase{phase="Stalled"}`:             0,
		`cairn_reconcile_last_phase{phase="Waiting"}`:             0,
		`cairn_adapters{health="Healthy"}`:                        3,
		`cairn_adapters{health="Degraded"}`:                       1,
		`cairn_adapters{health="Unknown"}`:                        2,
		`cairn_adapters{health="Missing"}`:                        0,
		`cairn_adapters{health="Progressing"}`:                    0,
		`cairn_adapters{health="Suspended"}`:                      0,
		`cairn_applied_revision_timestamp_seconds`:                float64(applied.Unix()),

		`cairn_audit_destination_lag_records{destination="file /var/log/cairn/audit.log"}`:    5,
		`cairn_audit_destination_failures_total{destination="file /var/log/cairn/audit.log"}`: 2,
		`cairn_audit_destination_lag_records{destination="stdout"}`:                           0,
	})
	if _, ok := samples[`cairn_certificate_expiry_timestamp_seconds{name="client-ca"}`]; ok {
		t.Error("a zero NotAfter should remove the client-ca series")
	}
	for _, s := range []string{"go_goroutines", "process_cpu_seconds_total", `promhttp_metric_handler_requests_total{code="200"}`} {
		if _, ok := samples[s]; !ok {
			t.Errorf("no %s: the Go, process and handler collectors should be registered", s)
		}
	}
	for _, s := range []string{
		"# TYPE cairn_http_request_duration_seconds histogram",
		"# TYPE cairn_audit_destination_failures_total counter",
		"# TYPE cairn_audit_destination_lag_records gauge",
		"# TYPE cairn_certificate_expiry_timestamp_seconds gauge",
		"# HELP cairn_auth_attempts_total ",
	} {
		if !strings.Contains(text, s+"\n") && !strings.Contains(text, s) {
			t.Errorf("exposition lacks %q", s)
		}
	}

	// A later call sets every health code: one missing from the map is 0.
	m.AdaptersByHealth(map[string]int{"Healthy": 5})
	m.ReconcileDone("Applied", time.Second)
	m.RetainAuditDestinations("stdout")
	_, samples = scrape(t, m)
	want(t, samples, map[string]float64{
		`cairn_adapters{health="Healthy"}`:            5,
		`cairn_adapters{health="Degraded"}`:           0,
		`cairn_adapters{health="Unknown"}`:            0,
		`cairn_reconcile_last_phase{phase="Applied"}`: 1,
		`cairn_reconcile_last_phase{phase="Failed"}`:  0,
	})
	if _, ok := samples[`cairn_audit_destination_lag_records{destination="file /var/log/cairn/audit.log"}`]; ok {
		t.Error("RetainAuditDestinations should drop the file destination")
	}
}

// TestNoSecretsInLabels: an HTTP destination's URL loses its user
// information, query and fragment; names that then collide are merged.
func TestNoSecretsInLabels(t *testing.T) {
	m := New()
	m.AuditDestination("http https://alice:s3cr3t-pw@siem.example/ingest?token=t0k3n-value#frag-x", 7, 1)
	m.AuditDestination("http https://siem.example/ingest?token=other-t0k3n", 3, 2)
	m.AuditDestination("http ://bad url with s3cr3t-pw", 1, 0)
	text, samples := scrape(t, m)
	for _, secret := range []string{"alice", "s3cr3t-pw", "t0k3n-value", "other-t0k3n", "frag-x"} {
		if strings.Contains(text, secret) {
			t.Errorf("exposition contains %q", secret)
		}
	}
	want(t, samples, map[string]float64{
		`cairn_audit_destination_lag_records{destination="http https://siem.example/ingest"}`:    7,
		`cairn_audit_destination_failures_total{destination="http https://siem.example/ingest"}`: 3,
		`cairn_audit_destination_lag_records{destination="http (URL not shown)"}`:                1,
	})
}

func TestNil(t *testing.T) {
	var m *Metrics
	m.ObserveRequest("GET /x", "GET", 200, time.Second)
	m.AuthAttempt("jwt", "failure", "expired")
	m.AuthzDecision("sync:create", "denied")
	m.RateLimited("global")
	m.IPRefused()
	m.CertificateExpiry("server", time.Now())
	m.AuditAccessDropped(1)
	m.WebhookDelivery("accepted")
	m.ReconcileDone("Applied", time.Second)
	m.AdaptersByHealth(map[string]int{"Healthy": 1})
	m.AppliedRevisionTimestamp(time.Now())
	m.AuditDestination("stdout", 1, 1)
	m.RetainAuditDestinations()
	if m.Registry() != nil {
		t.Error("nil Metrics has a registry")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Metrics' handler answered %d, want 404", rec.Code)
	}
}

// TestPrivateRegistry: two Metrics do not share series (nothing is global).
func TestPrivateRegistry(t *testing.T) {
	a, b := New(), New()
	a.IPRefused()
	_, sa := scrape(t, a)
	_, sb := scrape(t, b)
	if sa["cairn_ip_allowlist_refusals_total"] != 1 || sb["cairn_ip_allowlist_refusals_total"] != 0 {
		t.Errorf("refusals: a %v, b %v; want 1 and 0", sa["cairn_ip_allowlist_refusals_total"], sb["cairn_ip_allowlist_refusals_total"])
	}
}

func ExampleMetrics() {
	m := New()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /api/v1/adapters/{environment}/{name}", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w.WriteHeader(http.StatusOK)
		// r.Pattern is the route, never r.URL.Path.
		m.ObserveRequest(r.Pattern, r.Method, http.StatusOK, time.Since(start))
	})
	m.AuthAttempt("jwt", "failure", "expired")
	m.AuthzDecision("sync:create", "denied")

	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/adapters/prod/lse-fix-primary")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	resp, err = http.Get(srv.URL + "/metrics")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "cairn_http_requests_total") ||
			strings.HasPrefix(line, "cairn_auth_attempts_total") || strings.HasPrefix(line, "cairn_authz_decisions_total") {
			fmt.Println(line)
		}
	}
	// Output:
	// cairn_auth_attempts_total{method="jwt",outcome="failure",reason="expired"} 1
	// cairn_authz_decisions_total{outcome="denied",permission="sync:create"} 1
	// cairn_http_requests_total{code="200",method="GET",route="GET /api/v1/adapters/{environment}/{name}"} 1
}
