// Package session keeps the portal's login sessions in memory: opaque
// random ids, an absolute timeout from login, and a limit on concurrent
// sessions per principal (logging in beyond it ends the oldest).
//
// An id is 256 bits from crypto/rand, base64url; the store keeps only its
// SHA-256, so ids are not recoverable from memory and lookups do not
// compare secrets. Sessions live in one process: a restart, or another
// replica, asks users to log in again. The HTTP layer sets the cookie
// (Secure, HttpOnly, SameSite) and calls Sweep now and then.
package session
