// Package jwtauth verifies bearer JSON Web Tokens from an identity provider
// against the keys it publishes (JWKS), for cairn's API.
//
// A token is refused before it is parsed when it is larger than
// MaxTokenSize; then its header must name an allowed asymmetric algorithm
// (never none, never HS*: a public key is never used as an HMAC secret) and
// a key id. Keys come from the configured jwksUri or, when that is empty,
// from the issuer's discovery document (github.com/coreos/go-oidc/v3, which
// checks that the document names the same issuer). An unknown key id makes
// the key set be fetched again, at most once per Options.MinRefresh, so a
// stream of made-up key ids costs the provider one request per interval;
// the key set is also refreshed when older than Options.MaxKeyAge, so a key
// the provider stopped publishing stops working. Signatures are checked with
// github.com/go-jose/go-jose/v4; then the issuer, the audience, exp (required),
// nbf and iat with the configured clock skew.
//
// Errors are the sentinels below, wrapped; they never hold the token or any
// part of it, so they are safe to log. This package does not decide what a
// caller may do: it reports who the token names.
package jwtauth
