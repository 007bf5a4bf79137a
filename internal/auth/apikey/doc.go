// Package apikey makes and checks cairn's API keys.
//
// A key reads cairn_<id>_<secret>: the public id (k_ and 16 hex digits,
// the id security.json lists) and 43 base62 characters of secret (256 bits
// from crypto/rand). Only "sha256:" + hex(SHA-256(whole key)) is committed,
// so a key is found by its id and checked by comparing digests in constant
// time; the key itself exists only in the output of NewKey. Nothing here
// puts a key, or any part of its secret, into an error.
package apikey
