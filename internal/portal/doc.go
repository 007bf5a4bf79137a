// Package portal renders cairn's web pages for reviewers and operations
// staff: the overview, the adapter list, one adapter with its rendered
// objects and its history as a timeline, and the audit log. It reads the
// same status store and audit store as the API and writes nothing but a
// manual sync, which it asks the API server to run and record.
//
// The portal does not authenticate or authorize: the API server mounts each
// page as a route of its route table, with the permission the page needs,
// and hands the page a Caller once its middleware has admitted the request
// (allowlist, rate limits, authentication, RBAC). What a page lists is then
// filtered with the Caller's Authorizer exactly as the API filters its
// answers, and masked with the Caller's Masker; a value that cannot be
// masked fails the page rather than show it unmasked.
//
// Pages are html/template (contextual escaping: nothing a manifest, a
// commit or a request carries is ever trusted as HTML), with their CSS and
// one small script embedded and served from /assets/. They are complete
// without JavaScript; the script only rewrites each <time> (UTC in the
// HTML) into the viewer's zone and keeps the UTC time as its title. Tables
// sort on the server (?sort=column, ?sort=-column descending) and filter
// with plain GET forms. The one form that changes something, "sync now",
// posts the session's CSRF token (oidclogin) and is checked with CheckCSRF;
// it is shown only to callers granted sync:create unscoped.
//
// Not here yet: the change requests page (open pull requests, their plans
// and what the change policy still requires), htmx partial updates, the
// adapter's manifest as committed (the rendered values are shown).
package portal
