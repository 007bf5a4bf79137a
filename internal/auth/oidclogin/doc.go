// Package oidclogin is the browser login of cairn's API and portal: the
// OpenID Connect authorization code flow with PKCE against security.json's
// sso.oidc provider, ending in a session of package session and its cookie,
// which (*auth.Authenticator) then accepts on every request.
//
// A Handler serves three paths; the API server mounts it at "/auth/":
//
//	GET  /auth/login?next=/path  start a login, redirect to the provider
//	GET  /auth/callback          finish it: session cookie, redirect to next
//	POST /auth/logout            end the session (GET: see below)
//
// Login. Discovery runs on the first login (go-oidc), is cached, and after a
// failure is retried no sooner than Options.DiscoveryRetry. Each login
// draws a state, a nonce and a PKCE verifier (S256). They stay on the
// server, in a bounded in-memory table, for ten minutes; the browser gets
// only the state, in a cookie (HttpOnly, Secure, SameSite=Lax, Path=/,
// ten minutes), so a callback is accepted once, from the browser that
// started the login. next must be a local path (printable ASCII, starting
// with one "/", no backslash, no scheme or host); anything else becomes "/".
//
// Callback. The state of the query must equal the cookie's (constant-time)
// and name a pending login, which is then consumed: a replayed callback is
// refused. The code is exchanged with the verifier; the ID token is checked
// by go-oidc (signature, issuer, audience, expiry) and its nonce here. The
// user is named by security.json's authentication.jwt.usernameClaim, else
// "email" (refused when email_verified is false), and their groups come
// from sso.oidc.groupsClaim, else jwt.groupsClaim, else "groups", so that a
// person has the same name and groups through a bearer token and through
// the portal. The session cookie is the Authenticator's (SessionCookie: a
// __Host- name by default), HttpOnly, Secure, SameSite=Lax, Path=/, with a
// Max-Age of the session timeout; the timeout and the number of concurrent
// sessions are the session store's. A new login ends the session the
// browser held before. Failures answer a fixed plain-text page: 400 for
// what the browser sent (state, missing code, an error from the provider),
// 502 for what the provider did (discovery, exchange, ID token).
//
// Logout. POST ends the session when it carries the session's CSRF token
// (form field CSRFField or header CSRFHeader) or comes from the same origin
// (Sec-Fetch-Site: same-origin, or an Origin equal to the redirect URI's);
// otherwise 403. GET changes nothing unless Sec-Fetch-Site says
// same-origin (a link in the portal, in a browser that sends it); elsewhere
// it answers a page whose button posts the form. Either way the cookie is
// expired and the browser goes to the provider's end_session_endpoint when
// discovery advertised one, else to "/".
//
// CSRF. SameSite=Lax stops most cross-site posts, but not in old browsers:
// the portal puts CSRFToken (an HMAC of the session id under a key of the
// process) in every state-changing form and checks it with CheckCSRF.
//
// Nothing secret is logged, put in an error, or passed to OnEvent: not the
// client secret, the code, the state, the tokens, nor a cookie's value.
// Pending logins and sessions live in one process: with several replicas
// the load balancer must keep a browser on one of them.
//
// Only the "oidc" provider is supported; okta, azure and google blocks are
// refused by New and Reload (they carry no redirect URI yet).
package oidclogin
