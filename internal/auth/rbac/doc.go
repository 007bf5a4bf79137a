// Package rbac decides what an authenticated principal may do, from
// security.json's rbac block and, for an API key, its scopes.
//
// A Permission is resource:action in the schema's vocabulary
// ("adapters:read", "sync:create"). Roles are sets of permissions: the
// built-in admin, operator, developer and viewer (see BuiltinPermissions)
// and the custom roles of security.json. Bindings grant a role to a user, a
// group or a service account (an API key by its name, a client certificate
// by its common name, a token without a username claim by its subject),
// optionally only for some environments, some adapters by name, or adapters
// whose labels match a selector: every field of a binding's scope must
// match. This is how "an operator of uat is only a viewer of prod" and the
// per-adapter ("pattern-level") permissions are written.
//
// Decide answers for one resource; a resource with no environment and no
// adapter (the overall status, the security configuration) matches only
// bindings without a scope. DecideAny answers whether the principal may do
// something anywhere (a route-level check before Filter narrows a list).
// A subject named by no binding gets the default role, when there is one.
// An API key never exceeds its roles: its scopes must also cover the
// permission ("admin" covers all). No rbac block means nobody is allowed
// anything (fail closed); "enabled": false allows every authenticated
// principal (API key scopes still apply).
//
// An Authorizer is immutable: build a new one from each configuration.
// Nothing here does I/O.
package rbac
