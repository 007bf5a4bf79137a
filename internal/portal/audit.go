package portal

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-gitops/cairn/internal/auth/rbac"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/status"
)

// auditPageSize is how many records one page of the audit log shows.
const auditPageSize = 50

// events are the events the audit log's filter offers.
var events = []history.Event{history.RevisionApplied, history.RevisionRefused, history.RevisionFailed,
	history.AdapterInstalled, history.AdapterUpgraded, history.AdapterUninstall, history.AdapterRolledBack,
	history.AdapterFailed, history.AdapterWaiting, history.DriftDetected, history.DriftCorrected,
	history.HistoryRewritten, history.SyncRequested, history.AccessAllowed, history.AccessUnauthenticated,
	history.AccessDenied, history.LoginSucceeded, history.LoginFailed, history.LoggedOut, history.HistoryPruned}

// timeLayouts are what the since and until fields take: RFC 3339, or a
// browser's datetime-local value (read as UTC).
var timeLayouts = []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"}

// auditFilter is the audit log's query, as the form sends it.
type auditFilter struct {
	Environment, Adapter, Author, Event, Since, Until string
	Before                                            int64
	Verify                                            bool
}

func readAuditFilter(q url.Values) (auditFilter, history.Filter, string) {
	f := auditFilter{Environment: strings.TrimSpace(q.Get("environment")), Adapter: strings.TrimSpace(q.Get("adapter")),
		Author: strings.TrimSpace(q.Get("author")), Event: q.Get("event"), Since: q.Get("since"), Until: q.Get("until"),
		Verify: q.Get("verify") != ""}
	hf := history.Filter{Environment: f.Environment, Adapter: f.Adapter, Author: f.Author, Limit: auditPageSize}
	if f.Event != "" {
		hf.Events = []history.Event{history.Event(f.Event)}
	}
	var problem string
	for _, t := range []struct {
		name, value string
		to          *time.Time
	}{{"since", f.Since, &hf.Since}, {"until", f.Until, &hf.Until}} {
		if t.value == "" {
			continue
		}
		if *t.to = parseTime(t.value); t.to.IsZero() {
			problem = t.name + " is not a time (use 2026-11-01T09:30 or RFC 3339); it was ignored"
		}
	}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && b > 0 {
		f.Before, hf.Before = b, b
	}
	return f, hf, problem
}

func auditURL(q url.Values) string {
	if len(q) == 0 {
		return "/audit"
	}
	return "/audit?" + q.Encode()
}

func parseTime(s string) time.Time {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// query is f as a query, paged before seq.
func (f auditFilter) query(before int64) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"environment": f.Environment, "adapter": f.Adapter, "author": f.Author,
		"event": f.Event, "since": f.Since, "until": f.Until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	return q
}

// auditPage is the audit log's data.
type auditPage struct {
	Filter  auditFilter
	Events  []history.Event
	Problem string
	Records []history.Stored
	// Older is the link to the next page, "" on the last; Newest the link
	// back to the first when paging.
	Older, Newest string
	// VerifyURL asks for the chain's verification with the same filters;
	// Verification is its result when asked.
	VerifyURL    string
	Verification *history.Verification
	// MayExport shows the export links.
	MayExport bool
	HasStore  bool
}

// Audit serves "/audit": the records the caller may read, newest first,
// filtered and paged, the export links, and on request the result of
// verifying the whole chain.
func (p *Portal) Audit(w http.ResponseWriter, r *http.Request, c Caller) {
	f, hf, problem := readAuditFilter(r.URL.Query())
	pg := auditPage{Filter: f, Events: events, Problem: problem, MayExport: c.mayAnywhere(rbac.ExportHistory),
		HasStore: p.opts.History != nil}
	vq := f.query(f.Before)
	vq.Set("verify", "1")
	pg.VerifyURL = auditURL(vq)
	if f.Before > 0 {
		pg.Newest = auditURL(f.query(0))
	}
	if pg.HasStore {
		if err := p.auditRecords(r, c, hf, &pg); err != nil {
			p.fail(w, r, c, err)
			return
		}
	}
	p.render(w, r, c, http.StatusOK, "audit", "Audit log", pg)
}

func (p *Portal) auditRecords(r *http.Request, c Caller, hf history.Filter, pg *auditPage) error {
	recs, err := p.opts.History.List(r.Context(), hf)
	if err != nil {
		return err
	}
	snap := p.opts.Status.Snapshot()
	sub := c.Authorizer.For(c.Who)
	var readable []history.Stored
	for _, rec := range recs {
		if rec.Adapter == "" || sub.Decide(rbac.ReadHistory, resourceOf(&snap, rec.Environment, rec.Adapter)).Allowed {
			readable = append(readable, rec)
		}
	}
	if pg.Records, err = maskRecords(c, readable); err != nil {
		return err
	}
	if len(recs) == hf.Limit {
		pg.Older = auditURL(pg.Filter.query(recs[len(recs)-1].Seq))
	}
	if pg.Filter.Verify {
		v, err := p.opts.History.Verify(r.Context())
		if err != nil {
			return err
		}
		pg.Verification = &v
	}
	return nil
}

// resourceOf is an adapter as RBAC sees it, with the labels of its
// manifest when it is still in the status (a removed adapter's records are
// decided on its environment and name).
func resourceOf(snap *status.Snapshot, env, name string) rbac.Resource {
	if a, ok := snap.Adapter(env + "/" + name); ok {
		return adapterResource(a)
	}
	return rbac.Resource{Environment: env, Adapter: name}
}
