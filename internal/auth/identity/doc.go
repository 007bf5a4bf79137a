// Package identity holds Principal, who a request acts for once it is
// authenticated, and the kinds and methods that describe it. It is a leaf
// package so that authentication (package auth) and authorization (package
// rbac) can share the type without depending on each other.
package identity
