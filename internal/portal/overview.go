package portal

import (
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cairn-gitops/cairn/internal/auth/rbac"
	"github.com/cairn-gitops/cairn/internal/status"
)

// healthCodes are gitops-engine's health codes, in the order the overview
// shows them.
var healthCodes = []string{"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}

// Reason length bounds for a manual sync, as the API has them.
const (
	minReason = 3
	maxReason = 500
)

// overviewPage is the overview's data.
type overviewPage struct {
	Snap   status.Snapshot
	Health []string
	// Counts are the visible adapters per environment, in name order.
	Counts []envCount
	Total  int
	// Attention are the visible adapters failing, waiting, drifted or not
	// healthy.
	Attention []status.Adapter
	// MaySync shows the "sync now" form; Synced says a sync was just
	// requested; Reason and ReasonError refill a refused form.
	MaySync     bool
	Synced      bool
	Reason      string
	ReasonError string
}

// envCount is one environment's row of counts.
type envCount struct {
	Environment string
	// ByHealth is the count per health code, in healthCodes' order.
	ByHealth []int
	Total    int
}

// Overview serves "/": the branch, the revision applied and the last
// attempt, the counts per environment and health, what needs attention,
// and "sync now" for those who may.
func (p *Portal) Overview(w http.ResponseWriter, r *http.Request, c Caller) {
	pg, err := p.overview(c)
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	pg.Synced = r.URL.Query().Get("sync") == "requested"
	p.render(w, r, c, http.StatusOK, "overview", "Overview", pg)
}

func (p *Portal) overview(c Caller) (overviewPage, error) {
	snap := p.opts.Status.Snapshot()
	pg := overviewPage{Health: healthCodes, MaySync: c.may(rbac.CreateSync, rbac.Resource{}) && c.Sync != nil}
	visible, err := maskAs(c.Masker, rbac.Visible(c.Authorizer, c.Who, snap.Adapters, adapterResource))
	if err != nil {
		return pg, err
	}
	snap.Adapters = nil // only the visible ones are shown
	pg.Snap = snap
	byEnv := map[string]*envCount{}
	for _, a := range visible {
		e := byEnv[a.Environment]
		if e == nil {
			e = &envCount{Environment: a.Environment, ByHealth: make([]int, len(healthCodes))}
			byEnv[a.Environment] = e
		}
		i := slices.Index(healthCodes, a.Health)
		if i < 0 {
			i = slices.Index(healthCodes, "Unknown")
		}
		e.ByHealth[i]++
		e.Total++
		pg.Total++
		if a.Phase != status.Applied || a.Drift != "" || a.Health != "Healthy" {
			pg.Attention = append(pg.Attention, a)
		}
	}
	for _, e := range byEnv {
		pg.Counts = append(pg.Counts, *e)
	}
	slices.SortFunc(pg.Counts, func(a, b envCount) int { return strings.Compare(a.Environment, b.Environment) })
	return pg, nil
}

// Sync serves the "sync now" form's post: the CSRF token, a reason, then
// the same sync as POST /api/v1/sync; back to the overview on success. The
// route has checked sync:create already; the check here is the form's own.
func (p *Portal) Sync(w http.ResponseWriter, r *http.Request, c Caller) {
	if p.opts.CSRF == nil || !p.opts.CSRF.CheckCSRF(r) {
		p.Error(w, r, http.StatusForbidden,
			"the form's security token is missing or stale: reload the overview and try again (API clients use POST /api/v1/sync)", c.RequestID)
		return
	}
	if c.Sync == nil {
		p.Error(w, r, http.StatusServiceUnavailable, "this cairn cannot sync", c.RequestID)
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if n := utf8.RuneCountInString(reason); n < minReason || n > maxReason {
		p.refuseSync(w, r, c, http.StatusBadRequest, reason, "A sync needs a reason of 3 to 500 characters.")
		return
	}
	if err := c.Sync(r.Context(), reason); err != nil {
		p.refuseSync(w, r, c, http.StatusServiceUnavailable, reason, "The sync was not started: "+err.Error())
		return
	}
	http.Redirect(w, r, "/?sync=requested", http.StatusSeeOther)
}

// refuseSync shows the overview again with the form's error.
func (p *Portal) refuseSync(w http.ResponseWriter, r *http.Request, c Caller, code int, reason, msg string) {
	pg, err := p.overview(c)
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	pg.Reason, pg.ReasonError = reason, msg
	p.render(w, r, c, code, "overview", "Overview", pg)
}

// fail logs err and answers 500 without its text.
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, c Caller, err error) {
	p.opts.Logger.ErrorContext(r.Context(), "portal: page failed", "path", r.URL.Path, "error", err)
	p.Error(w, r, http.StatusInternalServerError, "the page could not be built; the server's log says why", c.RequestID)
}
