// Package auth authenticates requests to cairn's API and portal from
// security.json, and holds, for each applied revision, everything derived
// from it that requests are checked against: the API keys, the JWT
// verifier, the RBAC policy and the masking of fields.
//
// An Authenticator is built once and reloaded with each SecurityConfig the
// reconciler applies: Reload compiles the whole configuration first and
// swaps it in atomically, so a request is checked against one revision or
// the next, never a mix, and a configuration that does not compile leaves
// the previous one in force. Check authenticates and authorizes against one
// snapshot.
//
// Credentials, in the order they are looked for: the Authorization header
// (Bearer and a cairn API key, or Bearer and a JWT), the session cookie of a
// portal login, then a verified client certificate (mTLS). A request that
// presents credentials which fail is refused: it never falls back to the
// next kind. Errors are ErrNoCredentials (401) or an *Error that names the
// method and a Reason safe to log (401, or 503 when the identity provider's
// keys cannot be fetched). No token, key, session id or secret is ever put
// into an error or a log line.
//
// The HTTP layer owns routes, the access audit, rate limits and cookies;
// this package owns who the caller is and (through package rbac) what it
// may do. The subpackages are usable alone: apikey (key format, NewKey for
// `cairn auth create-key`), jwtauth, rbac, mask and session.
package auth
