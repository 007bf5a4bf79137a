package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"time"

	"github.com/cairn-gitops/cairn/internal/auth"
	"github.com/cairn-gitops/cairn/internal/auth/identity"
	"github.com/cairn-gitops/cairn/internal/auth/rbac"
	"github.com/cairn-gitops/cairn/internal/history"
)

// call is one request on its way through a route: who made it, against
// which security snapshot, and what was answered.
type call struct {
	w     *statusWriter
	r     *http.Request
	route *route
	id    string
	start time.Time
	ip    netip.Addr
	snap  auth.Snapshot
	who   auth.Principal
	// resource is the adapter a route is about ("environment/name").
	resource string
	// allowed notes that the request passed authorization.
	allowed bool
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// json writes v with code.
func (c *call) json(code int, v any) { writeJSON(c.w, code, v) }

// fail writes the stable error shape, with the request id.
func (c *call) fail(code int, short, msg string) {
	writeJSON(c.w, code, apiError{Error: short, Message: msg, RequestID: c.id})
}

// requestIDPattern is what an incoming X-Request-Id must look like to be
// kept; anything else is replaced.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// serve runs a request through the route's checks in order: the IP
// allowlist, the rate limits, the body limits, authentication,
// authorization, then the handler; each refusal is answered in the stable
// error shape and recorded in the access trail.
func (h *Handler) serve(rt *route, w http.ResponseWriter, r *http.Request) {
	c := &call{w: &statusWriter{ResponseWriter: w}, r: r, route: rt, start: h.opts.Now()}
	c.id = r.Header.Get("X-Request-Id")
	if !requestIDPattern.MatchString(c.id) {
		c.id = newRequestID()
	}
	c.w.Header().Set("X-Request-Id", c.id)
	c.ip = clientIP(r)
	defer func() { h.opts.Metrics.ObserveRequest(rt.pattern(), r.Method, c.w.code, h.opts.Now().Sub(c.start)) }()
	g := h.guard.Load()
	if rt.allowlisted && !h.admitNetwork(c, g) {
		return
	}
	if rt.access == public {
		rt.handle(h, c)
		return
	}
	if !h.admitBody(c) || !h.admitCertificate(c, g) {
		return
	}
	if !h.authenticate(c, g) || !h.authorize(c, g) {
		return
	}
	rt.handle(h, c)
	if g.records("access", "standard") {
		h.record(c, history.AccessAllowed, "")
	}
}

// admitNetwork applies the allowlist and the rate limits.
func (h *Handler) admitNetwork(c *call, g *guard) bool {
	if !g.allowed(c.ip) {
		h.opts.Metrics.IPRefused()
		c.fail(http.StatusForbidden, "forbidden", "your address is not in the API's allowlist")
		h.record(c, history.AccessDenied, "ip-not-allowed")
		return false
	}
	if scope, retry := g.limit(c.ip.String(), c.start); scope != "" {
		h.opts.Metrics.RateLimited(scope)
		c.w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())))
		c.fail(http.StatusTooManyRequests, "rate limited", "too many requests ("+scope+" limit); retry later")
		return false
	}
	return true
}

// admitBody applies the body size and content-type limits.
func (h *Handler) admitBody(c *call) bool {
	if c.r.ContentLength > maxAPIBody {
		c.fail(http.StatusRequestEntityTooLarge, "body too large", "API request bodies are limited to 64 KiB")
		return false
	}
	c.r.Body = http.MaxBytesReader(c.w, c.r.Body, maxAPIBody)
	if c.r.Method == http.MethodPost {
		if mt, _, err := mime.ParseMediaType(c.r.Header.Get("Content-Type")); err != nil || !c.route.accepts(mt) {
			c.fail(http.StatusUnsupportedMediaType, "unsupported media type", "send application/json")
			return false
		}
	}
	return true
}

// admitCertificate refuses a request without a verified client
// certificate when security.json's mtls requires one (also when this
// listener verifies none: the configuration fails closed).
func (h *Handler) admitCertificate(c *call, g *guard) bool {
	if !g.requireCert || c.r.TLS != nil && len(c.r.TLS.VerifiedChains) > 0 {
		return true
	}
	c.fail(http.StatusUnauthorized, "unauthenticated", "a client certificate is required")
	h.opts.Metrics.AuthAttempt("mtls", "failure", "no-credentials")
	h.record(c, history.AccessUnauthenticated, "client-certificate-required")
	return false
}

// authenticate finds who the request acts for; 401 (or 503 when the
// identity provider cannot be reached) otherwise, always recorded.
func (h *Handler) authenticate(c *call, g *guard) bool {
	if h.opts.Auth == nil {
		c.w.Header().Set("WWW-Authenticate", `Bearer realm="cairn"`)
		c.fail(http.StatusUnauthorized, "unauthenticated", "no authentication is configured")
		h.record(c, history.AccessUnauthenticated, string(auth.ReasonNoCredentials))
		return false
	}
	c.snap = h.opts.Auth.Snapshot()
	who, err := c.snap.Authenticate(c.r)
	if err != nil {
		code := auth.Status(err)
		if ch := auth.Challenge(err); ch != "" {
			c.w.Header().Set("WWW-Authenticate", ch)
		}
		msg := "credentials missing or not valid"
		if code == http.StatusServiceUnavailable {
			msg = "the identity provider's keys cannot be fetched; try again"
		}
		c.fail(code, http.StatusText(code), msg)
		c.who = principalOf(err)
		h.opts.Metrics.AuthAttempt(methodOf(c.who), "failure", string(auth.ReasonOf(err)))
		h.record(c, history.AccessUnauthenticated, string(auth.ReasonOf(err)))
		return false
	}
	c.who = who
	h.opts.Metrics.AuthAttempt(methodOf(who), "success", "")
	return true
}

// principalOf keeps what a refused credential says about itself that is
// safe to record: the method and an API key's id.
func principalOf(err error) auth.Principal {
	var e *auth.Error
	if errors.As(err, &e) {
		return auth.Principal{Method: e.Method, KeyID: e.KeyID}
	}
	return auth.Principal{}
}

// authorize decides the route's permission: on the adapter for routes
// about one, else anywhere (lists are filtered by the handler). 403 when
// denied, always recorded.
func (h *Handler) authorize(c *call, _ *guard) bool {
	if c.route.perm == "" {
		c.allowed = true
		return true
	}
	var d rbac.Decision
	switch {
	case c.route.global:
		d = c.snap.Authorizer().Decide(c.who, c.route.perm, rbac.Resource{})
	case c.route.onAdapter:
		env, name := c.r.PathValue("environment"), c.r.PathValue("name")
		c.resource = env + "/" + name
		d = c.snap.Authorizer().Decide(c.who, c.route.perm, h.resourceOf(env, name))
	default:
		d = c.snap.Authorizer().DecideAny(c.who, c.route.perm)
	}
	outcome := "allowed"
	if !d.Allowed {
		outcome = "denied"
	}
	h.opts.Metrics.AuthzDecision(string(c.route.perm), outcome)
	if !d.Allowed {
		c.fail(http.StatusForbidden, "forbidden", "you may not "+string(c.route.perm)+" here")
		h.record(c, history.AccessDenied, string(d.Reason))
		return false
	}
	c.allowed = true
	return true
}

// resourceOf is an adapter as RBAC sees it: its environment, name and the
// labels of its manifest.
func (h *Handler) resourceOf(env, name string) rbac.Resource {
	res := rbac.Resource{Environment: env, Adapter: name}
	if e, ok := h.list.entry(h.opts.Status, env+"/"+name); ok {
		res.Labels = e.labels
	}
	return res
}

// record queues the access record of c.
func (h *Handler) record(c *call, event history.Event, reason string) {
	if h.access == nil {
		return
	}
	h.access.add(h.accessRecord(c, event, reason))
}

// accessRecord is the record of c, masked as security.json says.
func (h *Handler) accessRecord(c *call, event history.Event, reason string) history.Record {
	outcome := history.Succeeded
	if event != history.AccessAllowed && event != history.SyncRequested {
		outcome = history.Refused
	}
	a := &history.Access{Action: string(c.route.perm), Reason: reason,
		Actor: history.AccessActor{Type: actorType(c.who), ID: c.who.Name, Method: string(c.who.Method),
			KeyID: c.who.KeyID, IP: c.ip.String(), UserAgent: truncate(c.r.UserAgent(), 256)},
		Request: history.AccessRequest{Method: c.r.Method, Path: truncate(c.r.URL.Path, 512), Route: c.route.pattern(),
			Status: c.w.code, RequestID: c.id}}
	if a.Action == "" {
		a.Action = "authenticated"
	}
	if c.resource != "" {
		a.Resource = history.AccessResource{Type: "adapter", ID: c.resource}
	}
	if g := h.guard.Load(); g.level == "verbose" {
		a.Request.Query = truncate(c.r.URL.RawQuery, 1024)
	}
	if c.snap != (auth.Snapshot{}) {
		if m := c.snap.Masker(); m.Enabled() {
			a = maskAccess(m, a)
		}
	}
	actor := c.who.Name
	if actor == "" {
		actor = "anonymous"
	}
	return history.Record{Time: c.start, Event: event, Outcome: outcome, Actor: actor, Access: a,
		Duration: h.opts.Now().Sub(c.start)}
}

// methodOf names how p authenticated, "none" for no credentials.
func methodOf(p auth.Principal) string {
	if p.Method == "" {
		return "none"
	}
	return string(p.Method)
}

func actorType(p auth.Principal) string {
	switch p.Kind {
	case identity.User:
		return "user"
	case identity.ServiceAccount:
		return "serviceAccount"
	}
	return "anonymous"
}

// clientIP is the peer's address (a proxy's X-Forwarded-For is not
// trusted: the allowlist and rate limits apply to the connection).
func clientIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand does not fail
	return "req_" + hex.EncodeToString(b[:])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
