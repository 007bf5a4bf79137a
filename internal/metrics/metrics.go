package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Bucket bounds, in seconds. API requests are expected in milliseconds
// (the adapter list's p99 target is 25 ms); a reconcile pass takes from
// milliseconds (nothing to do) to minutes (a health wait).
var (
	httpBuckets      = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	reconcileBuckets = []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}
)

// scrapeTimeout bounds one scrape's answer (the gathering itself goes on).
const scrapeTimeout = 10 * time.Second

// Metrics holds cairn's metrics and the registry that exports them. Build
// it with [New]; the zero value is not usable, a nil *Metrics records
// nothing.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	routesMu     sync.RWMutex
	routes       map[string]struct{}

	authAttempts      *prometheus.CounterVec
	authzDecisions    *prometheus.CounterVec
	rateLimitHits     *prometheus.CounterVec
	ipRefusals        prometheus.Counter
	certExpiry        *prometheus.GaugeVec
	auditDropped      prometheus.Counter
	webhookDeliveries *prometheus.CounterVec

	reconciles         *prometheus.CounterVec
	reconcileDuration  *prometheus.HistogramVec
	phaseMu            sync.Mutex // one ReconcileDone sets the last phase at a time
	reconcileLastPhase *prometheus.GaugeVec
	adapters           *prometheus.GaugeVec
	appliedRevision    prometheus.Gauge
	auditDestinations  *destinationCollector
}

// New returns Metrics registered in a new private registry, together with
// the Go runtime and process collectors. Series of the fixed vocabularies
// that alert rules compare (rate-limit scopes, webhook outcomes, reconcile
// phases, health codes) start at zero.
func New() *Metrics {
	m := &Metrics{
		reg:    prometheus.NewRegistry(),
		routes: make(map[string]struct{}),

		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_http_requests_total",
			Help: "HTTP requests answered by the status API, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cairn_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request of the status API, by route pattern and method.",
			Buckets: httpBuckets,
		}, []string{"route", "method"}),

		authAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_auth_attempts_total",
			Help: "Authentication attempts, by method (apikey, jwt, session, mtls, none), outcome (success, failure) and reason of a failure.",
		}, []string{"method", "outcome", "reason"}),
		authzDecisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_authz_decisions_total",
			Help: "Authorization decisions, by permission (resource:action) and outcome (allowed, denied).",
		}, []string{"permission", "outcome"}),
		rateLimitHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_rate_limit_hits_total",
			Help: "Requests refused with 429 by a rate limit, by scope (global, client).",
		}, []string{"scope"}),
		ipRefusals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_ip_allowlist_refusals_total",
			Help: "Requests refused with 403 because their source address is outside the IP allowlist.",
		}),
		certExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cairn_certificate_expiry_timestamp_seconds",
			Help: "When a certificate cairn serves or trusts expires (NotAfter), in seconds since the epoch, by name (server, client-ca).",
		}, []string{"name"}),
		auditDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_audit_access_records_dropped_total",
			Help: "Access audit records dropped because the queue to the audit trail was full.",
		}),
		webhookDeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_webhook_deliveries_total",
			Help: "GitHub webhook deliveries received, by outcome (accepted, duplicate, bad-signature, ignored).",
		}, []string{"outcome"}),

		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_reconcile_total",
			Help: "Attempts to reconcile a revision, by the phase they ended in (Applied, Stalled, Waiting, Failed).",
		}, []string{"phase"}),
		reconcileDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cairn_reconcile_duration_seconds",
			Help:    "Time an attempt to reconcile a revision took, by the phase it ended in.",
			Buckets: reconcileBuckets,
		}, []string{"phase"}),
		reconcileLastPhase: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cairn_reconcile_last_phase",
			Help: "1 for the phase the last attempt to reconcile a revision ended in, 0 for the others.",
		}, []string{"phase"}),
		adapters: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cairn_adapters",
			Help: "Adapters by health code (Healthy, Suspended, Progressing, Missing, Degraded, Unknown).",
		}, []string{"health"}),
		appliedRevision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cairn_applied_revision_timestamp_seconds",
			Help: "When the revision now live was applied in full, in seconds since the epoch.",
		}),
		auditDestinations: newDestinationCollector(),
	}

	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration,
		m.authAttempts, m.authzDecisions, m.rateLimitHits, m.ipRefusals, m.certExpiry,
		m.auditDropped, m.webhookDeliveries,
		m.reconciles, m.reconcileDuration, m.reconcileLastPhase, m.adapters, m.appliedRevision,
		m.auditDestinations,
	)

	for _, s := range rateLimitScopes.values {
		m.rateLimitHits.WithLabelValues(s)
	}
	for _, o := range webhookOutcomes.values {
		m.webhookDeliveries.WithLabelValues(o)
	}
	for _, p := range reconcilePhases.values {
		m.reconciles.WithLabelValues(p)
		m.reconcileLastPhase.WithLabelValues(p)
	}
	for _, h := range healthCodes {
		m.adapters.WithLabelValues(h)
	}

	m.handler = promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:            m.reg,
		MaxRequestsInFlight: 4,
		Timeout:             scrapeTimeout,
		CoalesceGather:      true,
	}))
	return m
}

// Handler serves the registry in the Prometheus exposition formats (text,
// protobuf, compressed on request), for the API server to mount at
// /metrics. A nil *Metrics serves 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return m.handler
}

// Registry returns the private registry, for tests and for registering a
// collector of another package.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// ObserveRequest records one answered API request. route is the pattern
// the request matched (http.Request.Pattern, such as
// "GET /api/v1/adapters/{environment}/{name}"), never the raw path; an
// empty route counts as [Unmatched]. method is the request's method and
// code the status answered.
func (m *Metrics) ObserveRequest(route, method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	r := m.routeLabel(route)
	meth := httpMethods.label(method)
	m.httpRequests.WithLabelValues(r, meth, codeLabel(code)).Inc()
	m.httpDuration.WithLabelValues(r, meth).Observe(d.Seconds())
}

// routeLabel returns route, cleaned, while fewer than MaxRoutes routes
// were seen; Other after.
func (m *Metrics) routeLabel(route string) string {
	if route == "" {
		return Unmatched
	}
	m.routesMu.RLock()
	_, ok := m.routes[route]
	m.routesMu.RUnlock()
	if ok {
		return clean(route)
	}
	m.routesMu.Lock()
	defer m.routesMu.Unlock()
	if _, ok := m.routes[route]; ok {
		return clean(route)
	}
	if len(m.routes) >= MaxRoutes {
		return Other
	}
	m.routes[route] = struct{}{}
	return clean(route)
}

// AuthAttempt records one authentication attempt. method is "apikey",
// "jwt", "session", "mtls" or "none" (no credentials); outcome "success" or
// "failure"; reason, for a failure, one of internal/auth's Reason values
// (ignored on success). A value outside its vocabulary counts as [Other].
func (m *Metrics) AuthAttempt(method, outcome, reason string) {
	if m == nil {
		return
	}
	o := authOutcomes.label(outcome)
	r := ""
	if o != "success" {
		r = authReasons.label(reason)
	}
	m.authAttempts.WithLabelValues(authMethods.label(method), o, r).Inc()
}

// AuthzDecision records one authorization decision: permission is the
// route's resource:action (such as "sync:create"), outcome "allowed" or
// "denied". A value outside its vocabulary counts as [Other].
func (m *Metrics) AuthzDecision(permission, outcome string) {
	if m == nil {
		return
	}
	m.authzDecisions.WithLabelValues(permissionLabel(permission), authzOutcomes.label(outcome)).Inc()
}

// RateLimited records one request refused by a rate limit: scope is
// "global" or "client" (the client itself is never a label).
func (m *Metrics) RateLimited(scope string) {
	if m == nil {
		return
	}
	m.rateLimitHits.WithLabelValues(rateLimitScopes.label(scope)).Inc()
}

// IPRefused records one request refused by the IP allowlist (the address
// is never a label).
func (m *Metrics) IPRefused() {
	if m == nil {
		return
	}
	m.ipRefusals.Inc()
}

// CertificateExpiry sets when the named certificate expires: name is
// "server" (the API's serving certificate) or "client-ca" (the CA client
// certificates must chain to; its earliest NotAfter). A zero notAfter
// removes the series (the certificate is no longer configured).
func (m *Metrics) CertificateExpiry(name string, notAfter time.Time) {
	if m == nil {
		return
	}
	n := certificateNames.label(name)
	if notAfter.IsZero() {
		m.certExpiry.DeleteLabelValues(n)
		return
	}
	m.certExpiry.WithLabelValues(n).Set(float64(notAfter.UnixNano()) / 1e9)
}

// AuditAccessDropped records n access audit records dropped (a full
// queue). n <= 0 records nothing.
func (m *Metrics) AuditAccessDropped(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.auditDropped.Add(float64(n))
}

// WebhookDelivery records one webhook delivery: outcome is "accepted",
// "duplicate" (a repeated delivery id), "bad-signature" (missing or wrong
// X-Hub-Signature-256) or "ignored" (an event cairn does not act on).
func (m *Metrics) WebhookDelivery(outcome string) {
	if m == nil {
		return
	}
	m.webhookDeliveries.WithLabelValues(webhookOutcomes.label(outcome)).Inc()
}

// ReconcileDone records one attempt to reconcile a revision: phase is the
// one it ended in ("Applied", "Stalled", "Waiting" or "Failed", as
// internal/status spells them) and d how long it took. The attempt's phase
// becomes cairn_reconcile_last_phase's 1.
func (m *Metrics) ReconcileDone(phase string, d time.Duration) {
	if m == nil {
		return
	}
	p := reconcilePhases.label(phase)
	m.reconciles.WithLabelValues(p).Inc()
	m.reconcileDuration.WithLabelValues(p).Observe(d.Seconds())
	m.phaseMu.Lock()
	defer m.phaseMu.Unlock()
	// The vector is pre-filled with every phase; Other appears only once
	// a caller passed an unknown phase.
	for _, q := range reconcilePhases.values {
		if q != p {
			m.reconcileLastPhase.WithLabelValues(q).Set(0)
		}
	}
	if p != Other {
		m.reconcileLastPhase.DeleteLabelValues(Other)
	}
	m.reconcileLastPhase.WithLabelValues(p).Set(1)
}

// AdaptersByHealth sets the number of adapters per health code. Every
// code is set on each call, a code missing from counts to zero; a key that
// is not one of the six codes (an empty code, not yet checked) counts as
// Unknown.
func (m *Metrics) AdaptersByHealth(counts map[string]int) {
	if m == nil {
		return
	}
	sums := make(map[string]int, len(healthCodes))
	for h, n := range counts {
		sums[healthLabel(h)] += n
	}
	for _, h := range healthCodes {
		m.adapters.WithLabelValues(h).Set(float64(sums[h]))
	}
}

// AppliedRevisionTimestamp sets when the revision now live was applied in
// full. A zero t records nothing.
func (m *Metrics) AppliedRevisionTimestamp(t time.Time) {
	if m == nil || t.IsZero() {
		return
	}
	m.appliedRevision.Set(float64(t.UnixNano()) / 1e9)
}

// AuditDestination sets an audit destination's state, as
// internal/history/sink's Stat reports it: lag is how many records the
// store holds past the last one delivered, failures the failed delivery
// attempts so far (a counter, exported as
// cairn_audit_destination_failures_total). name is the destination's
// identity ("stdout", "file PATH", "http URL"); an HTTP URL is exported
// without user information, query or fragment. Past
// [MaxAuditDestinations] names, the rest are exported together as [Other].
func (m *Metrics) AuditDestination(name string, lag, failures int64) {
	if m == nil {
		return
	}
	m.auditDestinations.set(name, lag, failures)
}

// RetainAuditDestinations forgets every audit destination whose name is
// not in names, for when the configuration drops one.
func (m *Metrics) RetainAuditDestinations(names ...string) {
	if m == nil {
		return
	}
	m.auditDestinations.retain(names)
}
