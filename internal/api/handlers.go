package api

import (
	_ "embed" // the OpenAPI document
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-gitops/cairn/internal/auth/mask"
	"github.com/cairn-gitops/cairn/internal/auth/rbac"
	"github.com/cairn-gitops/cairn/internal/diag"
	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/plan"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/render"
)

// statusAnswer is the overall status: the revision applied and the last
// attempt, counts by environment and health, and what is not well.
type statusAnswer struct {
	URL       string           `json:"url"`
	Branch    string           `json:"branch"`
	Leader    bool             `json:"leader"`
	Fetched   string           `json:"fetched,omitempty"`
	FetchedAt time.Time        `json:"fetchedAt,omitzero"`
	Applied   string           `json:"applied,omitempty"`
	AppliedAt time.Time        `json:"appliedAt,omitzero"`
	Last      *status.Revision `json:"last,omitempty"`
	// Counts are adapters by environment, then by health.
	Counts map[string]map[string]int `json:"counts"`
	// Attention lists the adapters failing, waiting, drifted or not
	// healthy that the caller may see.
	Attention []status.Adapter `json:"attention"`
}

func (h *Handler) status(c *call) {
	snap := h.opts.Status.Snapshot()
	ans := statusAnswer{URL: snap.URL, Branch: snap.Branch, Leader: snap.Leader, Fetched: snap.Fetched,
		FetchedAt: snap.FetchedAt, Applied: snap.Applied, AppliedAt: snap.AppliedAt, Last: snap.Last,
		Counts: map[string]map[string]int{}, Attention: []status.Adapter{}}
	visible := rbac.Filter(c.snap.Authorizer(), c.who, rbac.ReadAdapters, snap.Adapters, func(a status.Adapter) rbac.Resource {
		return rbac.Resource{Environment: a.Environment, Adapter: a.Name, Labels: a.Labels}
	})
	for _, a := range visible {
		if ans.Counts[a.Environment] == nil {
			ans.Counts[a.Environment] = map[string]int{}
		}
		ans.Counts[a.Environment][a.Health]++
		if a.Phase != status.Applied || a.Drift != "" || a.Health != "Healthy" {
			ans.Attention = append(ans.Attention, a)
		}
	}
	c.masked(http.StatusOK, ans)
}

// masked writes v with the snapshot's masking applied.
func (c *call) masked(code int, v any) {
	if m := c.snap.Masker(); m.Enabled() {
		if mv, err := m.Value(v); err == nil {
			v = mv
		}
	}
	c.json(code, v)
}

func (h *Handler) adapters(c *call) {
	q := c.r.URL.Query()
	f := listFilter{environment: q.Get("environment"), health: q.Get("health"), protocol: q.Get("protocol"),
		role: q.Get("role"), after: q.Get("after")}
	limit, ok := parseLimit(q.Get("limit"), 100, 1000)
	if !ok {
		c.fail(http.StatusBadRequest, "bad query", "limit must be a number from 1 to 1000")
		return
	}
	f.limit = limit
	for _, l := range q["label"] {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			c.fail(http.StatusBadRequest, "bad query", "label must be key=value")
			return
		}
		if f.labels == nil {
			f.labels = map[string]string{}
		}
		f.labels[k] = v
	}
	body := page(c.snap.Authorizer(), c.who, h.list.snapshot(h.opts.Status, c.snap.Masker()), f)
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(body)
}

// adapterAnswer is one adapter: its status and its release as rendered
// (values hold Secret references, never their contents).
type adapterAnswer struct {
	status.Adapter
	Release *render.Release `json:"release,omitempty"`
}

func (h *Handler) adapter(c *call) {
	snap := h.opts.Status.Snapshot()
	a, ok := snap.Adapter(c.resource)
	if !ok {
		c.fail(http.StatusNotFound, "not found", "no adapter "+c.resource)
		return
	}
	ans := adapterAnswer{Adapter: a}
	if h.opts.Rendered != nil {
		if rel, ok := h.opts.Rendered(c.resource); ok {
			ans.Release = &rel
		}
	}
	c.masked(http.StatusOK, ans)
}

func (h *Handler) adapterHistory(c *call) {
	f, ok := c.historyFilter()
	if !ok {
		return
	}
	f.Environment, f.Adapter = c.r.PathValue("environment"), c.r.PathValue("name")
	h.listHistory(c, f)
}

func (h *Handler) history(c *call) {
	if f, ok := c.historyFilter(); ok {
		h.listHistory(c, f)
	}
}

// historyFilter reads the history query: adapter, environment, author,
// event (repeated), since and until (RFC 3339), before (a sequence number)
// and limit.
func (c *call) historyFilter() (history.Filter, bool) {
	q := c.r.URL.Query()
	f := history.Filter{Adapter: q.Get("adapter"), Environment: q.Get("environment"), Author: q.Get("author")}
	for _, e := range q["event"] {
		f.Events = append(f.Events, history.Event(e))
	}
	var err error
	for _, t := range []struct {
		name string
		to   *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(t.name); v != "" {
			if *t.to, err = time.Parse(time.RFC3339, v); err != nil {
				c.fail(http.StatusBadRequest, "bad query", t.name+" must be an RFC 3339 time")
				return f, false
			}
		}
	}
	if v := q.Get("before"); v != "" {
		if f.Before, err = strconv.ParseInt(v, 10, 64); err != nil || f.Before < 1 {
			c.fail(http.StatusBadRequest, "bad query", "before must be a sequence number")
			return f, false
		}
	}
	limit, ok := parseLimit(q.Get("limit"), 100, 1000)
	if !ok {
		c.fail(http.StatusBadRequest, "bad query", "limit must be a number from 1 to 1000")
		return f, false
	}
	f.Limit = limit
	return f, true
}

// historyAnswer is a page of records, newest first; Before pages on.
type historyAnswer struct {
	Records []history.Stored `json:"records"`
	Before  int64            `json:"before,omitempty"`
}

// listHistory answers a page of the records the caller may see.
func (h *Handler) listHistory(c *call, f history.Filter) {
	if h.opts.History == nil {
		c.fail(http.StatusServiceUnavailable, "unavailable", "no audit store")
		return
	}
	recs, err := h.opts.History.List(c.r.Context(), f)
	if err != nil {
		h.opts.Logger.ErrorContext(c.r.Context(), "api: listing the audit trail", "error", err)
		c.fail(http.StatusInternalServerError, "internal error", "the audit trail could not be read")
		return
	}
	ans := historyAnswer{Records: make([]history.Stored, 0, len(recs))}
	for _, r := range recs {
		if h.mayRead(c, r.Record) {
			ans.Records = append(ans.Records, r)
		}
	}
	if len(recs) == f.Limit && len(recs) > 0 {
		ans.Before = recs[len(recs)-1].Seq
	}
	c.masked(http.StatusOK, ans)
}

// mayRead says whether the caller may read a record: an adapter's record
// needs history:read on the adapter, others history:read anywhere (which
// the route checked).
func (h *Handler) mayRead(c *call, r history.Record) bool {
	if r.Adapter == "" {
		return true
	}
	return c.snap.Authorizer().Decide(c.who, rbac.ReadHistory, h.resourceOf(r.Environment, r.Adapter)).Allowed
}

func (h *Handler) export(c *call) {
	if h.opts.History == nil {
		c.fail(http.StatusServiceUnavailable, "unavailable", "no audit store")
		return
	}
	format := c.r.URL.Query().Get("format")
	if format == "" {
		format = "ndjson"
	}
	types := map[string]string{"ndjson": "application/x-ndjson", "json": "application/json", "csv": "text/csv"}
	if types[format] == "" {
		c.fail(http.StatusBadRequest, "bad query", "format must be ndjson, json or csv")
		return
	}
	c.w.Header().Set("Content-Type", types[format])
	c.w.Header().Set("Content-Disposition", `attachment; filename="cairn-audit.`+format+`"`)
	out, _ := history.NewExporter(c.w, format) // the format is known
	m := c.snap.Masker()
	err := h.opts.History.Scan(c.r.Context(), 0, func(r history.Stored) error {
		if !h.mayRead(c, r.Record) {
			return nil
		}
		return out.Write(maskStored(m, r))
	})
	if err == nil {
		err = out.Close()
	}
	if err != nil {
		h.opts.Logger.WarnContext(c.r.Context(), "api: export ended early", "error", err)
	}
}

// maskStored masks a record's access details (the record's own hash is
// kept: a masked export says so by the masked values).
func maskStored(m *mask.Masker, r history.Stored) history.Stored {
	if r.Access != nil && m.Enabled() {
		r.Access = maskAccess(m, r.Access)
	}
	return r
}

// maskAccess masks an access description (actor.ip and the like).
func maskAccess(m *mask.Masker, a *history.Access) *history.Access {
	b, err := json.Marshal(a)
	if err != nil {
		return a
	}
	mb, err := m.JSON(b)
	if err != nil {
		return a
	}
	var out history.Access
	if json.Unmarshal(mb, &out) != nil {
		return a
	}
	return &out
}

func (h *Handler) verify(c *call) {
	if h.opts.History == nil {
		c.fail(http.StatusServiceUnavailable, "unavailable", "no audit store")
		return
	}
	v, err := h.opts.History.Verify(c.r.Context())
	if err != nil {
		c.fail(http.StatusInternalServerError, "internal error", "the audit trail could not be read")
		return
	}
	c.json(http.StatusOK, v)
}

// syncRequest asks for a manual sync, with the reason recorded.
type syncRequest struct {
	Reason string `json:"reason"`
}

func (h *Handler) sync(c *call) {
	var req syncRequest
	dec := json.NewDecoder(c.r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.fail(http.StatusRequestEntityTooLarge, "body too large", "API request bodies are limited to 64 KiB")
			return
		}
		c.fail(http.StatusBadRequest, "malformed JSON", `send {"reason": "why"}`)
		return
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if len(req.Reason) < 3 || len(req.Reason) > 500 {
		c.fail(http.StatusBadRequest, "reason required", "a sync needs a reason of 3 to 500 characters")
		return
	}
	if h.opts.Sync == nil {
		c.fail(http.StatusServiceUnavailable, "unavailable", "this cairn cannot sync")
		return
	}
	if err := h.opts.Sync(); err != nil {
		c.fail(http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	c.json(http.StatusAccepted, map[string]string{"result": "sync requested", "requestId": c.id})
	h.recordSync(c, req.Reason) // a change: recorded before the answer ends
}

// whoamiAnswer is the caller as cairn sees it, and what it may do.
type whoamiAnswer struct {
	Principal   any      `json:"principal"`
	Permissions []string `json:"permissions"`
}

func (h *Handler) whoami(c *call) {
	ans := whoamiAnswer{Principal: c.who, Permissions: []string{}}
	for _, p := range []rbac.Permission{rbac.ReadStatus, rbac.ReadAdapters, rbac.ReadHistory, rbac.ExportHistory,
		rbac.ReadChangeRequests, rbac.ReadSync, rbac.CreateSync, rbac.ReadSecurity} {
		if c.snap.Authorizer().DecideAny(c.who, p).Allowed {
			ans.Permissions = append(ans.Permissions, string(p))
		}
	}
	c.json(http.StatusOK, ans)
}

func (h *Handler) metrics(c *call) {
	if h.opts.Metrics == nil {
		c.fail(http.StatusNotFound, "not found", "metrics are not enabled")
		return
	}
	cur := h.AccessDropped()
	h.opts.Metrics.AuditAccessDropped(int(cur - h.droppedReported.Swap(cur)))
	h.opts.Metrics.Handler().ServeHTTP(c.w, c.r)
}

// parseLimit reads a page size: def when empty, else 1..most.
func parseLimit(s string, def, most int) (int, bool) {
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= most
}

//go:embed openapi.json
var openAPIDoc []byte

func (h *Handler) openapi(c *call) {
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(openAPIDoc)
}

// changeRequestAnswer is the plan of a pull request: the head's findings
// and, when it validates, what it changes against the branch.
type changeRequestAnswer struct {
	Number   int            `json:"number"`
	Base     string         `json:"base"`
	Head     string         `json:"head"`
	Valid    bool           `json:"valid"`
	Findings []diag.Finding `json:"findings"`
	Plan     *plan.Plan     `json:"plan,omitempty"`
}

func (h *Handler) changeRequestPlan(c *call) {
	n, err := strconv.Atoi(c.r.PathValue("number"))
	if err != nil || n < 1 {
		c.fail(http.StatusBadRequest, "bad request", "the change request is a pull request number")
		return
	}
	if h.opts.ChangeRequest == nil {
		c.fail(http.StatusNotFound, "not found", "change requests are not available")
		return
	}
	res, err := h.opts.ChangeRequest(c.r.Context(), n)
	if errors.Is(err, gitsource.ErrNotFound) {
		c.fail(http.StatusNotFound, "not found", fmt.Sprintf("no pull request %d", n))
		return
	}
	if err != nil {
		h.opts.Logger.WarnContext(c.r.Context(), "api: planning a change request", "number", n, "error", err)
		c.fail(http.StatusBadGateway, "unavailable", "the pull request could not be fetched or planned")
		return
	}
	ans := changeRequestAnswer{Number: n, Base: res.Base.Hash, Head: res.Head.Hash, Valid: res.Valid,
		Findings: res.Findings, Plan: res.Plan}
	if ans.Findings == nil {
		ans.Findings = []diag.Finding{}
	}
	c.masked(http.StatusOK, ans)
}
