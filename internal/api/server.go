package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth"
	"github.com/cairn-gitops/cairn/internal/auth/oidclogin"
	"github.com/cairn-gitops/cairn/internal/changereq"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/metrics"
	"github.com/cairn-gitops/cairn/internal/portal"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/render"
)

// maxWebhookBody bounds a webhook's body; GitHub caps payloads at 25 MB,
// but a push event to a config repository is far smaller. maxAPIBody
// bounds the body of an API request (a sync's reason).
const (
	maxWebhookBody = 5 << 20
	maxAPIBody     = 64 << 10
)

// Options configure the handler. Only Branch and Trigger are needed for
// the webhook; the API needs Auth, Status and History.
type Options struct {
	// Branch is the branch followed; pushes to other branches are ignored.
	Branch string
	// Trigger asks the reconciler for a reconcile now.
	Trigger func()
	// Ready reports whether the process is ready to serve (it has fetched
	// once, or it is a standby replica).
	Ready func() bool
	// WebhookSecret verifies GitHub's signatures; empty refuses webhooks.
	WebhookSecret []byte
	Logger        *slog.Logger

	// Auth authenticates and authorizes API requests; nil accepts no
	// credentials (every API route answers 401).
	Auth *auth.Authenticator
	// Status is the reconciler's status.
	Status *status.Store
	// History is the audit store: the history routes read it and access
	// records go to it. nil: those routes answer 503 and nothing is kept.
	History history.Store
	// Rendered returns an adapter's release as last rendered.
	Rendered func(key string) (render.Release, bool)
	// Sync asks for a manual sync (every release applied again); an error
	// says why it cannot (a standby replica).
	Sync func() error
	// Metrics counts requests, authentications, decisions and refusals, and
	// serves /metrics; nil counts nothing and answers 404.
	Metrics *metrics.Metrics
	// ChangeRequest plans pull request number against the branch: the
	// head's validation and the plan; nil answers 404.
	ChangeRequest func(ctx context.Context, number int) (changereq.Result, error)
	// PullRequest receives verified pull_request webhook payloads (it
	// must return at once; the check runs in the background); nil ignores
	// them.
	PullRequest func(payload []byte)
	// Login is the browser login (/auth/login, /auth/callback,
	// /auth/logout); nil answers 404 there.
	Login http.Handler
	// Now tells the time (default time.Now).
	Now func() time.Time
}

// Handler serves the endpoints.
type Handler struct {
	opts   Options
	mux    *http.ServeMux
	guard  atomic.Pointer[guard]
	access *accessLog
	list   adapterCache
	portal *portal.Portal
	// droppedReported is the access records dropped already counted in
	// the metrics.
	droppedReported atomic.Int64

	mu   sync.Mutex
	seen map[string]bool // delivery ids, bounded
	ring []string
}

// New returns the handler. Call Run to write access records, and Reload
// with each security configuration applied.
func New(opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Status == nil {
		opts.Status = status.NewStore("", opts.Branch)
	}
	h := &Handler{opts: opts, mux: http.NewServeMux(), seen: map[string]bool{}}
	if opts.History != nil {
		h.access = newAccessLog(opts.History, opts.Logger)
	}
	g, _ := compileGuard(nil) // cannot fail
	h.guard.Store(g)
	csrf, _ := opts.Login.(portal.CSRF) // nil without single sign-on: no portal form posts
	h.portal = portal.New(portal.Options{Status: opts.Status, History: opts.History, Rendered: opts.Rendered,
		CSRF: csrf, Logger: opts.Logger})
	for _, rt := range routes() {
		if rt.page {
			h.mux.HandleFunc(rt.pattern(), func(w http.ResponseWriter, r *http.Request) { h.servePage(rt, w, r) })
			continue
		}
		h.mux.HandleFunc(rt.pattern(), func(w http.ResponseWriter, r *http.Request) { h.serve(rt, w, r) })
	}
	h.mux.HandleFunc("/", h.notFound)
	return h
}

// Reload puts the network limits and audit settings of cfg in force (the
// caller reloads the Authenticator). On error the settings in force stay.
func (h *Handler) Reload(cfg *v1.SecurityConfig) error {
	g, err := compileGuard(cfg)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	h.guard.Store(g)
	return nil
}

// Run writes the access records until ctx ends.
func (h *Handler) Run(ctx context.Context) {
	if h.access != nil {
		h.access.run(ctx)
	}
}

// AccessDropped is how many access records were dropped (the queue was
// full or the store failed).
func (h *Handler) AccessDropped() int64 {
	if h.access == nil {
		return 0
	}
	return h.access.Dropped()
}

// ServeHTTP sets the security headers and routes the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	if r.TLS != nil {
		hd.Set("Strict-Transport-Security", "max-age=31536000")
	}
	h.mux.ServeHTTP(w, r)
}

// notFound answers paths no route has, 405 for a path another method has.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "/" && m != r.Method {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, "method not allowed", "this path answers "+strings.Join(allow, ", "))
		return
	}
	writeError(w, http.StatusNotFound, "not found", "no such route")
}

// servePage runs a portal page's request through the same checks as any
// route (serve), and turns their refusals, written in the API's JSON error
// shape, into what a browser can use: a GET without valid credentials goes
// to the login and comes back, any other refusal is the portal's error
// page with the same status and message.
func (h *Handler) servePage(rt *route, w http.ResponseWriter, r *http.Request) {
	pw := &pageWriter{ResponseWriter: w, r: r, p: h.portal}
	defer pw.finish()
	h.serve(rt, pw, r)
}

// pageWriter holds back a JSON error answer (the middleware's refusals;
// the portal's own answers are HTML and pass through) until finish.
type pageWriter struct {
	http.ResponseWriter
	r *http.Request
	p *portal.Portal
	// held is the status of the error answer held back, 0 for none.
	held int
	body bytes.Buffer
}

func (pw *pageWriter) WriteHeader(code int) {
	if code >= http.StatusBadRequest && strings.HasPrefix(pw.Header().Get("Content-Type"), "application/json") {
		pw.held = code
		return
	}
	pw.ResponseWriter.WriteHeader(code)
}

func (pw *pageWriter) Write(b []byte) (int, error) {
	if pw.held != 0 {
		return pw.body.Write(b)
	}
	return pw.ResponseWriter.Write(b)
}

// finish answers the error held back, if any.
func (pw *pageWriter) finish() {
	if pw.held == 0 {
		return
	}
	var e apiError
	_ = json.Unmarshal(pw.body.Bytes(), &e) // our own encoding; a zero message if not
	if pw.held == http.StatusUnauthorized && pw.r.Method == http.MethodGet {
		pw.Header().Del("WWW-Authenticate")
		pw.Header().Del("Content-Type")
		http.Redirect(pw.ResponseWriter, pw.r, oidclogin.PathLogin+"?next="+url.QueryEscape(pw.r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	pw.p.Error(pw.ResponseWriter, pw.r, pw.held, e.Message, e.RequestID)
}

// portalPage makes a portal page a route's handler: the page gets the
// caller the middleware admitted, and a sync it asks for is recorded once
// the page has answered, as POST /api/v1/sync records it.
func portalPage(page func(*portal.Portal, http.ResponseWriter, *http.Request, portal.Caller)) func(*Handler, *call) {
	return func(h *Handler, c *call) {
		var reason string // set when the page started a sync
		pc := portal.Caller{Who: c.who, Authorizer: c.snap.Authorizer(), Masker: c.snap.Masker(), RequestID: c.id}
		if h.opts.Sync != nil {
			pc.Sync = func(_ context.Context, why string) error {
				if err := h.opts.Sync(); err != nil {
					return err
				}
				reason = why
				return nil
			}
		}
		page(h.portal, c.w, c.r, pc)
		if reason != "" {
			h.recordSync(c, reason)
		}
	}
}

// recordSync appends the record of a manual sync with its reason; a sync
// is a change, so it is written before the answer ends, not queued.
func (h *Handler) recordSync(c *call, reason string) {
	if h.opts.History == nil {
		return
	}
	rec := h.accessRecord(c, history.SyncRequested, "")
	rec.Note = "reason: " + reason
	if err := h.opts.History.Append(c.r.Context(), rec); err != nil {
		h.opts.Logger.ErrorContext(c.r.Context(), "api: sync record not written", "error", err)
	}
}

// login hands the browser login's paths to the login handler.
func (h *Handler) login(c *call) {
	if h.opts.Login == nil {
		c.fail(http.StatusNotFound, "not found", "single sign-on is not configured")
		return
	}
	h.opts.Login.ServeHTTP(c.w, c.r)
}

// OnLogin records a browser login, a failed one or a logout in the access
// trail (failures always; the others with the authentication events).
func (h *Handler) OnLogin(_ context.Context, ev oidclogin.Event) {
	g := h.guard.Load()
	event, outcome := history.LoginSucceeded, history.Succeeded
	switch ev.Kind {
	case oidclogin.EventLoginFailed:
		event, outcome = history.LoginFailed, history.Refused
	case oidclogin.EventLogout:
		event = history.LoggedOut
	}
	if outcome == history.Succeeded && !g.records("authentication", "minimal") {
		return
	}
	who := ev.Principal
	a := &history.Access{Action: string(event), Reason: string(ev.Reason),
		Actor:   history.AccessActor{Type: actorType(who), ID: who.Name, Method: "session", IP: ev.IP, UserAgent: ev.UserAgent},
		Request: history.AccessRequest{Method: http.MethodGet, Path: "/auth/" + string(ev.Kind)}}
	if h.opts.Auth != nil {
		if m := h.opts.Auth.Masker(); m.Enabled() {
			a = maskAccess(m, a)
		}
	}
	actor := who.Name
	if actor == "" {
		actor = "anonymous"
	}
	if h.access != nil {
		h.access.add(history.Record{Time: h.opts.Now(), Event: event, Outcome: outcome, Actor: actor, Access: a})
	}
}

func (h *Handler) healthz(c *call) { c.json(http.StatusOK, map[string]string{"status": "ok"}) }

func (h *Handler) readyz(c *call) {
	if h.opts.Ready != nil && !h.opts.Ready() {
		c.fail(http.StatusServiceUnavailable, "not ready", "the branch has not been fetched yet")
		return
	}
	c.json(http.StatusOK, map[string]string{"status": "ready"})
}

// webhook verifies, deduplicates and acts on a GitHub delivery.
func (h *Handler) webhook(c *call) {
	w, r := c.w, c.r
	if len(h.opts.WebhookSecret) == 0 {
		writeError(w, http.StatusForbidden, "webhooks disabled", "no webhook secret is configured")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body too large", "webhook bodies are limited to 5 MiB")
		return
	}
	if !validSignature(h.opts.WebhookSecret, body, r.Header.Get("X-Hub-Signature-256")) {
		h.opts.Logger.Warn("webhook: bad or missing signature", "remote", r.RemoteAddr)
		h.opts.Metrics.WebhookDelivery("bad-signature")
		writeError(w, http.StatusUnauthorized, "bad signature", "X-Hub-Signature-256 is missing or does not match")
		return
	}
	if id := r.Header.Get("X-GitHub-Delivery"); id != "" && h.repeated(id) {
		h.opts.Metrics.WebhookDelivery("duplicate")
		writeJSON(w, http.StatusOK, map[string]string{"result": "duplicate delivery ignored"})
		return
	}
	switch r.Header.Get("X-GitHub-Event") {
	case "ping":
		writeJSON(w, http.StatusOK, map[string]string{"result": "pong"})
	case "push":
		h.push(w, body)
	case "pull_request":
		if h.opts.PullRequest == nil {
			writeJSON(w, http.StatusAccepted, map[string]string{"result": "pull requests are not checked here"})
			return
		}
		h.opts.PullRequest(body)
		writeJSON(w, http.StatusAccepted, map[string]string{"result": "pull request check started"})
	default:
		writeJSON(w, http.StatusAccepted, map[string]string{"result": "event ignored"})
	}
}

func (h *Handler) push(w http.ResponseWriter, body []byte) {
	var ev struct {
		Ref string `json:"ref"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		writeError(w, http.StatusBadRequest, "malformed JSON", "the push event could not be parsed")
		return
	}
	if ev.Ref != "refs/heads/"+h.opts.Branch {
		writeJSON(w, http.StatusAccepted, map[string]string{"result": "push to another branch ignored"})
		return
	}
	h.opts.Trigger()
	h.opts.Metrics.WebhookDelivery("accepted")
	writeJSON(w, http.StatusAccepted, map[string]string{"result": "reconcile triggered"})
}

// validSignature checks "sha256=<hex>" against the body's HMAC.
func validSignature(secret, body []byte, header string) bool {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// repeated notes a delivery id and reports whether it was seen before.
func (h *Handler) repeated(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen[id] {
		return true
	}
	h.seen[id] = true
	h.ring = append(h.ring, id)
	if len(h.ring) > 4096 {
		delete(h.seen, h.ring[0])
		h.ring = h.ring[1:]
	}
	return false
}

// apiError is the stable shape of every error answer.
type apiError struct {
	Error     string `json:"error"`
	Message   string `json:"message"`
	RequestID string `json:"requestId,omitempty"`
}

func writeError(w http.ResponseWriter, code int, short, msg string) {
	writeJSON(w, code, apiError{Error: short, Message: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to do
}
