package api

import (
	"net/http"

	"github.com/cairn-gitops/cairn/internal/auth/rbac"
	"github.com/cairn-gitops/cairn/internal/portal"
)

// access says who may call a route.
type access int

const (
	// public routes take no credentials: the kubelet's probes, and the
	// webhook receiver (HMAC-verified instead).
	public access = iota
	// authenticated routes need credentials and a permission (perm);
	// perm "" is any authenticated caller.
	authenticated
)

// route is one entry of the route table: its method and path pattern (Go's
// ServeMux syntax), who may call it, the permission it needs and, for
// routes about one adapter, the resource the permission is decided on
// (others decide on the permission anywhere and filter their answer).
type route struct {
	method, path string
	access       access
	perm         rbac.Permission
	onAdapter    bool
	// global routes act on everything (a sync of every release): the
	// permission must be granted unscoped, not in one environment.
	global bool
	// allowlisted routes are behind the IP allowlist (all but the probes
	// and the webhook, which is HMAC-verified and comes from GitHub).
	allowlisted bool
	// page routes are the portal's: HTML for a browser, not in the OpenAPI
	// document. Their refusals are HTML pages (a GET without credentials is
	// sent to the login) and they take form posts.
	page   bool
	handle func(h *Handler, c *call)
}

// formType is the body of an HTML form's post.
const formType = "application/x-www-form-urlencoded"

// accepts says whether a POST body of media type mt may reach the route:
// JSON everywhere, form posts on page routes.
func (rt *route) accepts(mt string) bool {
	return mt == "application/json" || rt.page && mt == formType
}

// pattern is the ServeMux pattern and the route's name in metrics.
func (rt *route) pattern() string { return rt.method + " " + rt.path }

// routes is every route the server answers. A test walks it: each route
// that is not public names a permission or is deliberately open to any
// authenticated caller, and each appears in the OpenAPI document.
func routes() []*route {
	return []*route{
		{method: http.MethodGet, path: "/healthz", access: public, handle: (*Handler).healthz},
		{method: http.MethodGet, path: "/readyz", access: public, handle: (*Handler).readyz},
		{method: http.MethodPost, path: "/api/v1/webhooks/github", access: public, handle: (*Handler).webhook},
		{method: http.MethodGet, path: "/auth/login", access: public, allowlisted: true, handle: (*Handler).login},
		{method: http.MethodGet, path: "/auth/callback", access: public, allowlisted: true, handle: (*Handler).login},
		{method: http.MethodGet, path: "/auth/logout", access: public, allowlisted: true, handle: (*Handler).login},
		{method: http.MethodPost, path: "/auth/logout", access: public, allowlisted: true, handle: (*Handler).login},
		{method: http.MethodGet, path: "/metrics", access: authenticated, perm: rbac.ReadStatus, allowlisted: true, handle: (*Handler).metrics},
		{method: http.MethodGet, path: "/api/v1/openapi.json", access: authenticated, allowlisted: true, handle: (*Handler).openapi},
		{method: http.MethodGet, path: "/api/v1/whoami", access: authenticated, allowlisted: true, handle: (*Handler).whoami},
		{method: http.MethodGet, path: "/api/v1/status", access: authenticated, perm: rbac.ReadStatus, allowlisted: true, handle: (*Handler).status},
		{method: http.MethodGet, path: "/api/v1/adapters", access: authenticated, perm: rbac.ReadAdapters, allowlisted: true, handle: (*Handler).adapters},
		{method: http.MethodGet, path: "/api/v1/adapters/{environment}/{name}", access: authenticated, perm: rbac.ReadAdapters,
			onAdapter: true, allowlisted: true, handle: (*Handler).adapter},
		{method: http.MethodGet, path: "/api/v1/adapters/{environment}/{name}/history", access: authenticated, perm: rbac.ReadHistory,
			onAdapter: true, allowlisted: true, handle: (*Handler).adapterHistory},
		{method: http.MethodGet, path: "/api/v1/history", access: authenticated, perm: rbac.ReadHistory, allowlisted: true, handle: (*Handler).history},
		{method: http.MethodGet, path: "/api/v1/history/export", access: authenticated, perm: rbac.ExportHistory, allowlisted: true, handle: (*Handler).export},
		{method: http.MethodGet, path: "/api/v1/history/verify", access: authenticated, perm: rbac.ReadHistory, allowlisted: true, handle: (*Handler).verify},
		{method: http.MethodGet, path: "/api/v1/changerequests/{number}/plan", access: authenticated, perm: rbac.ReadChangeRequests,
			global: true, allowlisted: true, handle: (*Handler).changeRequestPlan},
		{method: http.MethodPost, path: "/api/v1/sync", access: authenticated, perm: rbac.CreateSync, global: true,
			allowlisted: true, handle: (*Handler).sync},

		// The portal's pages (package portal), each with the permission of
		// the API route it shows; its assets hold no data.
		{method: http.MethodGet, path: "/{$}", access: authenticated, perm: rbac.ReadStatus, allowlisted: true, page: true,
			handle: portalPage((*portal.Portal).Overview)},
		{method: http.MethodGet, path: "/adapters", access: authenticated, perm: rbac.ReadAdapters, allowlisted: true, page: true,
			handle: portalPage((*portal.Portal).Adapters)},
		{method: http.MethodGet, path: "/adapters/{environment}/{name}", access: authenticated, perm: rbac.ReadAdapters,
			onAdapter: true, allowlisted: true, page: true, handle: portalPage((*portal.Portal).Adapter)},
		{method: http.MethodGet, path: "/audit", access: authenticated, perm: rbac.ReadHistory, allowlisted: true, page: true,
			handle: portalPage((*portal.Portal).Audit)},
		{method: http.MethodPost, path: "/sync", access: authenticated, perm: rbac.CreateSync, global: true, allowlisted: true,
			page: true, handle: portalPage((*portal.Portal).Sync)},
		{method: http.MethodGet, path: "/assets/{file}", access: public, allowlisted: true, page: true,
			handle: func(h *Handler, c *call) { h.portal.Asset(c.w, c.r) }},
	}
}
