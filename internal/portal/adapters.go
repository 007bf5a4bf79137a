package portal

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cairn-gitops/cairn/internal/auth/rbac"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/status"
)

// venueLabel is the label that names an adapter's venue.
const venueLabel = "venue"

// changeEvents are the records that change what an adapter runs.
var changeEvents = []history.Event{history.AdapterInstalled, history.AdapterUpgraded,
	history.AdapterUninstall, history.AdapterRolledBack}

// lastChangeWindow is how many of the newest change records the adapter
// list reads to find each adapter's last change: one query, whatever the
// number of adapters; an adapter whose last change is older shows none.
const lastChangeWindow = 1000

// adapterFilter is the adapter list's query.
type adapterFilter struct {
	Environment, Role, Protocol, Venue, Health string
	// Sort is a column key, "-" first for descending.
	Sort string
}

func readAdapterFilter(q url.Values) adapterFilter {
	f := adapterFilter{Environment: q.Get("environment"), Role: q.Get("role"), Protocol: q.Get("protocol"),
		Venue: q.Get("venue"), Health: q.Get("health"), Sort: q.Get("sort")}
	if _, ok := sortKeys[strings.TrimPrefix(f.Sort, "-")]; !ok {
		f.Sort = "key"
	}
	return f
}

func (f adapterFilter) match(a status.Adapter) bool {
	return (f.Environment == "" || a.Environment == f.Environment) && (f.Role == "" || a.Role == f.Role) &&
		(f.Protocol == "" || a.Protocol == f.Protocol) && (f.Venue == "" || a.Labels[venueLabel] == f.Venue) &&
		(f.Health == "" || a.Health == f.Health)
}

// query is f as a query string, with sort replaced.
func (f adapterFilter) query(sort string) string {
	q := url.Values{}
	for k, v := range map[string]string{"environment": f.Environment, "role": f.Role, "protocol": f.Protocol,
		"venue": f.Venue, "health": f.Health, "sort": sort} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

// adapterRow is one row of the list.
type adapterRow struct {
	status.Adapter
	Venue string
	// Last is the adapter's last change, nil when unknown or not readable.
	Last *lastChange
}

// lastChange is who changed an adapter last, through which pull request.
type lastChange struct {
	Seq         int64
	Event       history.Event
	Time        time.Time
	Author      string
	PullRequest int
}

// sortKeys order rows by a column; ties by key.
var sortKeys = map[string]func(a, b adapterRow) int{
	"key":         func(a, b adapterRow) int { return 0 },
	"name":        func(a, b adapterRow) int { return strings.Compare(a.Name, b.Name) },
	"environment": func(a, b adapterRow) int { return strings.Compare(a.Environment, b.Environment) },
	"protocol":    func(a, b adapterRow) int { return strings.Compare(a.Protocol, b.Protocol) },
	"role":        func(a, b adapterRow) int { return strings.Compare(a.Role, b.Role) },
	"venue":       func(a, b adapterRow) int { return strings.Compare(a.Venue, b.Venue) },
	"health":      func(a, b adapterRow) int { return strings.Compare(a.Health, b.Health) },
	"phase":       func(a, b adapterRow) int { return strings.Compare(string(a.Phase), string(b.Phase)) },
	"changed":     func(a, b adapterRow) int { return changedAt(a).Compare(changedAt(b)) },
}

func changedAt(r adapterRow) time.Time {
	if r.Last == nil {
		return time.Time{}
	}
	return r.Last.Time
}

// column is a sortable column heading.
type column struct {
	Key, Label, URL string
	// Sorted is "ascending", "descending" or "" (for aria-sort).
	Sorted string
}

var columns = [][2]string{{"name", "Adapter"}, {"environment", "Environment"}, {"protocol", "Protocol"},
	{"role", "Role"}, {"venue", "Venue"}, {"health", "Health"}, {"phase", "Phase"}, {"changed", "Last change"}}

func (f adapterFilter) columns() []column {
	out := make([]column, 0, len(columns))
	for _, c := range columns {
		col := column{Key: c[0], Label: c[1], URL: "/adapters?" + f.query(c[0])}
		switch f.Sort {
		case c[0]:
			col.Sorted, col.URL = "ascending", "/adapters?"+f.query("-"+c[0])
		case "-" + c[0]:
			col.Sorted = "descending"
		}
		out = append(out, col)
	}
	return out
}

// adaptersPage is the list's data.
type adaptersPage struct {
	Filter  adapterFilter
	Columns []column
	Rows    []adapterRow
	// Visible is how many adapters the caller may see, before filters.
	Visible int
	// Choices are the values the filters offer, from the visible adapters.
	Environments, Roles, Protocols, Venues, Healths []string
}

// Adapters serves "/adapters": the adapters the caller may read, filtered
// and sorted by the query, with each one's last change.
func (p *Portal) Adapters(w http.ResponseWriter, r *http.Request, c Caller) {
	f := readAdapterFilter(r.URL.Query())
	visible, err := maskAs(c.Masker, rbac.Visible(c.Authorizer, c.Who, p.opts.Status.Snapshot().Adapters, adapterResource))
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	pg := adaptersPage{Filter: f, Columns: f.columns(), Visible: len(visible)}
	choices := map[string]map[string]bool{}
	note := func(kind, v string) {
		if choices[kind] == nil {
			choices[kind] = map[string]bool{}
		}
		if v != "" {
			choices[kind][v] = true
		}
	}
	for _, a := range visible {
		note("environment", a.Environment)
		note("role", a.Role)
		note("protocol", a.Protocol)
		note("venue", a.Labels[venueLabel])
		note("health", a.Health)
		if f.match(a) {
			pg.Rows = append(pg.Rows, adapterRow{Adapter: a, Venue: a.Labels[venueLabel]})
		}
	}
	pg.Environments, pg.Roles, pg.Protocols = sortedKeys(choices["environment"]), sortedKeys(choices["role"]), sortedKeys(choices["protocol"])
	pg.Venues, pg.Healths = sortedKeys(choices["venue"]), sortedKeys(choices["health"])
	if err := p.lastChanges(r.Context(), c, pg.Rows); err != nil {
		p.opts.Logger.WarnContext(r.Context(), "portal: last changes not read", "error", err)
	}
	sortRows(pg.Rows, f.Sort)
	p.render(w, r, c, http.StatusOK, "adapters", "Adapters", pg)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortRows(rows []adapterRow, sort string) {
	key, desc := strings.CutPrefix(sort, "-")
	by := sortKeys[key]
	slices.SortStableFunc(rows, func(a, b adapterRow) int {
		n := by(a, b)
		if desc {
			n = -n
		}
		return cmp.Or(n, strings.Compare(a.Key, b.Key))
	})
}

// lastChanges fills in each row's last change, from the newest change
// records, where the caller may read the adapter's history.
func (p *Portal) lastChanges(ctx context.Context, c Caller, rows []adapterRow) error {
	if p.opts.History == nil || len(rows) == 0 {
		return nil
	}
	recs, err := p.opts.History.List(ctx, history.Filter{Events: changeEvents, Limit: lastChangeWindow})
	if err != nil {
		return err
	}
	newest := map[string]history.Stored{}
	for _, r := range recs { // newest first
		key := r.Environment + "/" + r.Adapter
		if _, seen := newest[key]; !seen {
			newest[key] = r
		}
	}
	sub := c.Authorizer.For(c.Who)
	for i := range rows {
		r, ok := newest[rows[i].Key]
		if !ok || !sub.Decide(rbac.ReadHistory, adapterResource(rows[i].Adapter)).Allowed {
			continue
		}
		rows[i].Last = changeOf(r)
	}
	return nil
}

// changeOf is a record's change: the newest commit it names (commits are
// listed oldest first), else the record's actor.
func changeOf(r history.Stored) *lastChange {
	lc := &lastChange{Seq: r.Seq, Event: r.Event, Time: r.Time, Author: r.Actor}
	if n := len(r.Commits); n > 0 {
		last := r.Commits[n-1]
		lc.Author, lc.PullRequest = cmp.Or(last.Author.Name, last.Author.Email), last.PullRequest
	}
	return lc
}
