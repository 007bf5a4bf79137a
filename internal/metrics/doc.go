// Package metrics is cairn's Prometheus instrumentation: HTTP requests of
// the status API, security events (authentication attempts, authorization
// decisions, rate-limit hits, IP allowlist refusals, certificate expiry,
// dropped access records, webhook deliveries) and the reconciler's passes,
// adapters' health and audit destinations.
//
// [New] builds a [Metrics] around its own [prometheus.Registry] (never the
// default one), with the Go runtime and process collectors; [Metrics.Handler]
// serves it in the Prometheus exposition format. The handler does no
// authentication of its own: the API server decides who may scrape it.
//
// Callers record events through small typed methods. Every label value that
// a caller passes is checked against a fixed vocabulary (an authentication
// method, outcome and reason; a permission of the schema's resources and
// actions; a phase; a health code) and an unknown value is recorded as
// "other", so a caller's bug cannot create series without bound. The two
// free-form labels are bounded too: HTTP routes (route patterns, such as
// "GET /api/v1/adapters/{environment}/{name}", never raw paths) by
// [MaxRoutes], audit destination names by [MaxAuditDestinations]. No label
// ever carries a token, a key, a user name or an address: the methods take
// no such argument, and an HTTP destination's URL loses its user
// information, query and fragment.
//
// examples/prometheus/cairn-alerts.yaml holds alert rules over these
// metrics; a test checks that every metric its expressions name is one this
// package exports.
//
// A *Metrics is safe for concurrent use. A nil *Metrics records nothing, so
// code paths where metrics are off need no checks.
package metrics
