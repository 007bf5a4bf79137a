// Package api serves cairn's HTTP endpoints from one route table: the
// status and audit API under /api/v1, the portal's pages, the browser
// login under /auth/, /metrics, /healthz and /readyz for the kubelet, and
// the GitHub webhook receiver.
//
// Every route but the probes, the webhook and the portal's assets needs
// credentials (security.json's API keys, JWTs, portal sessions or client
// certificates, package auth) and names the RBAC permission it needs; a
// request passes, in order, the IP allowlist, the rate limits, the body
// limits, authentication and authorization before its handler, and each
// refusal is answered in one error shape and recorded in the audit trail
// (access records are queued and appended in batches, never awaited).
// Reload puts a new security.json's network limits and audit settings in
// force; the caller reloads the Authenticator.
//
// The webhook's X-Hub-Signature-256 is verified (HMAC-SHA256 with the
// configured secret, compared in constant time) before the body is parsed;
// a delivery id seen before is acknowledged and dropped; bursts of pushes
// coalesce into one pending reconcile (the reconciler's Trigger never
// queues more than one); pull_request deliveries go to the pull request
// checker.
package api
