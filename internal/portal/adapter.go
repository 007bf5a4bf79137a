package portal

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/cairn-gitops/cairn/internal/auth/rbac"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/render"
)

// timelinePage is how many records one page of an adapter's timeline
// shows.
const timelinePage = 50

// adapterView is one adapter as the API answers it: its status and its
// release as rendered (values hold Secret references, never their
// contents). Masking paths apply to it as to the API's answer.
type adapterView struct {
	status.Adapter
	Release *render.Release `json:"release,omitempty"`
}

// adapterPage is one adapter's data.
type adapterPage struct {
	A adapterView
	// Values is the release's values as indented JSON.
	Values string
	// MayReadHistory says whether the timeline is shown; Timeline is its
	// page, newest first, and Before pages on ("": no older records).
	MayReadHistory bool
	HasHistory     bool
	Timeline       []history.Stored
	Before         string
}

// Adapter serves "/adapters/{environment}/{name}": its status and health,
// its rendered release and objects, and its history as a timeline. The
// route has decided adapters:read on this adapter.
func (p *Portal) Adapter(w http.ResponseWriter, r *http.Request, c Caller) {
	key := r.PathValue("environment") + "/" + r.PathValue("name")
	snap := p.opts.Status.Snapshot()
	a, ok := snap.Adapter(key)
	if !ok {
		p.Error(w, r, http.StatusNotFound, "there is no adapter "+key, c.RequestID)
		return
	}
	v := adapterView{Adapter: a}
	if p.opts.Rendered != nil {
		if rel, ok := p.opts.Rendered(key); ok {
			v.Release = &rel
		}
	}
	v, err := maskAs(c.Masker, v)
	if err != nil {
		p.fail(w, r, c, err)
		return
	}
	pg := adapterPage{A: v, HasHistory: p.opts.History != nil,
		MayReadHistory: c.may(rbac.ReadHistory, adapterResource(a))}
	if v.Release != nil {
		b, _ := json.MarshalIndent(v.Release.Values, "", "  ") // decoded JSON always marshals
		pg.Values = string(b)
	}
	if pg.MayReadHistory && pg.HasHistory {
		before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
		recs, err := p.opts.History.List(r.Context(), history.Filter{Environment: a.Environment, Adapter: a.Name,
			Before: max(before, 0), Limit: timelinePage})
		if err != nil {
			p.fail(w, r, c, err)
			return
		}
		if pg.Timeline, err = maskRecords(c, recs); err != nil {
			p.fail(w, r, c, err)
			return
		}
		if len(recs) == timelinePage {
			pg.Before = strconv.FormatInt(recs[len(recs)-1].Seq, 10)
		}
	}
	p.render(w, r, c, http.StatusOK, "adapter", a.Name+" ("+a.Environment+")", pg)
}

// maskRecords masks each record's access details, as the API does.
func maskRecords(c Caller, recs []history.Stored) ([]history.Stored, error) {
	if !c.Masker.Enabled() {
		return recs, nil
	}
	out := make([]history.Stored, len(recs))
	for i, r := range recs {
		if r.Access != nil {
			a, err := maskAs(c.Masker, *r.Access)
			if err != nil {
				return nil, err
			}
			r.Access = &a
		}
		out[i] = r
	}
	return out, nil
}
