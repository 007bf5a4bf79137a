// Package api serves cairn's HTTP endpoints: /healthz and /readyz for the
// kubelet, and the GitHub webhook receiver that triggers a reconcile.
//
// The webhook's X-Hub-Signature-256 is verified (HMAC-SHA256 with the
// configured secret, compared in constant time) before the body is parsed;
// a delivery id seen before is acknowledged and dropped; bursts of pushes
// coalesce into one pending reconcile (the reconciler's Trigger never
// queues more than one).
//
// The status and audit API (/api/v1 with authentication and RBAC from
// security.json) is built on this server in a later release; until then
// nothing here answers with status or configuration.
package api
