// Package oidctest starts a real OpenID provider inside a test process:
// github.com/zitadel/oidc/v3's example provider (example/server/exampleop
// over example/server/storage) mounted in an httptest server, with its own
// users, a groups claim, and signing keys the test can rotate.
//
// Tokens come from the provider itself through the authorization code flow
// with PKCE (Login), or, for the cases a real provider would never issue
// (expired, wrong audience, other algorithms, forged signatures), from
// SignWith, which signs arbitrary claims with the provider's own current
// key or with any key the test supplies. JWKSRequests counts fetches of the
// key set, so a test can see a verifier refetch it after a rotation.
//
// The example storage wrapped here keeps everything in memory; the
// provider serves plain HTTP on 127.0.0.1 (an issuer security.json accepts
// for loopback). It is made for tests and never linked into cairn.
package oidctest
