package github

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// windowHorizon is how far ahead the gate looks for an open window.
const windowHorizon = 8 * 24 * time.Hour

// windowWait says when the change windows of every environment are open
// together: nil when they are open at now, a Wait with the earliest such
// time otherwise, or a Requirement when none opens within a week (or a
// window cannot be read).
func windowWait(windows map[string]v1.ChangeWindow, envs []string, now time.Time) (*Wait, []Requirement) {
	ws, missing := loadWindows(windows, envs)
	if len(missing) > 0 {
		return nil, missing
	}
	var closed []string
	for _, w := range ws {
		if !w.open(now) {
			closed = append(closed, w.env)
		}
	}
	if len(closed) == 0 {
		return nil, nil
	}
	until, ok := commonOpening(ws, now)
	if !ok {
		return nil, []Requirement{{Kind: KindWindow, Message: fmt.Sprintf(
			"the change windows of %s do not open together within a week", strings.Join(closed, ", "))}}
	}
	return &Wait{Until: until.UTC(), Environments: closed, Message: waitMessage(ws, closed, until)}, nil
}

// window is one environment's change window with its location.
type window struct {
	env string
	loc *time.Location
	w   v1.ChangeWindow
}

func loadWindows(windows map[string]v1.ChangeWindow, envs []string) ([]window, []Requirement) {
	var out []window
	var missing []Requirement
	seen := map[string]bool{}
	for _, env := range slices.Sorted(slices.Values(envs)) {
		w, ok := windows[env]
		if !ok || seen[env] {
			continue
		}
		seen[env] = true
		loc, err := time.LoadLocation(w.Timezone)
		if err != nil {
			missing = append(missing, Requirement{Kind: KindWindow, Message: fmt.Sprintf(
				"the change window of %s names an unknown time zone %q", env, w.Timezone)})
			continue
		}
		out = append(out, window{env: env, loc: loc, w: w})
	}
	return out, missing
}

func commonOpening(ws []window, now time.Time) (time.Time, bool) {
	t := now
	for range 64 {
		moved := false
		for _, w := range ws {
			if w.open(t) {
				continue
			}
			next, ok := w.nextOpening(t)
			if !ok || next.Sub(now) > windowHorizon {
				return time.Time{}, false
			}
			t, moved = next, true
		}
		if !moved {
			return t, true
		}
	}
	return time.Time{}, false
}

func waitMessage(ws []window, closed []string, until time.Time) string {
	loc := time.UTC
	for _, w := range ws {
		if w.env == closed[0] {
			loc = w.loc
		}
	}
	noun := "window of " + closed[0] + " is"
	if len(closed) > 1 {
		noun = "windows of " + strings.Join(closed, ", ") + " are"
	}
	return fmt.Sprintf("the change %s closed until %s", noun,
		until.In(loc).Format("Mon 2006-01-02 15:04 MST"))
}

// open reports whether changes may apply at t: inside no deny period and,
// when there are allow periods, inside one.
func (w window) open(t time.Time) bool {
	lt := t.In(w.loc)
	for _, p := range w.w.Deny {
		if w.inPeriod(p, lt) {
			return false
		}
	}
	if len(w.w.Allow) == 0 {
		return true
	}
	for _, p := range w.w.Allow {
		if w.inPeriod(p, lt) {
			return true
		}
	}
	return false
}

// inPeriod reports whether t falls in p, started on t's day or, for a
// period past midnight, the day before.
func (w window) inPeriod(p v1.Period, t time.Time) bool {
	for _, back := range []int{0, -1} {
		start, end, ok := w.span(p, t, back)
		if ok && !t.Before(start) && t.Before(end) {
			return true
		}
	}
	return false
}

// span is p's occurrence starting offset days from t's day, if p runs
// that weekday.
func (w window) span(p v1.Period, t time.Time, offset int) (start, end time.Time, ok bool) {
	y, m, d := t.In(w.loc).Date()
	day := time.Date(y, m, d+offset, 0, 0, 0, 0, w.loc)
	if len(p.Days) > 0 && !slices.Contains(p.Days, day.Weekday().String()[:3]) {
		return time.Time{}, time.Time{}, false
	}
	start, err1 := clockOn(day, p.Start)
	end, err2 := clockOn(day, p.End)
	if err1 != nil || err2 != nil {
		return time.Time{}, time.Time{}, false
	}
	if !end.After(start) {
		end, _ = clockOn(day.AddDate(0, 0, 1), p.End)
	}
	return start, end, true
}

// clockOn is HH:MM on day, in day's location.
func clockOn(day time.Time, hhmm string) (time.Time, error) {
	c, err := time.Parse("15:04", hhmm)
	if err != nil {
		return time.Time{}, fmt.Errorf("time of day %q: %w", hhmm, err)
	}
	y, m, d := day.Date()
	return time.Date(y, m, d, c.Hour(), c.Minute(), 0, 0, day.Location()), nil
}

// nextOpening is the earliest time after t at which the window is open:
// the end of a deny period or the start of an allow period.
func (w window) nextOpening(t time.Time) (time.Time, bool) {
	var cands []time.Time
	for offset := -1; offset <= 8; offset++ {
		for _, p := range w.w.Deny {
			if _, end, ok := w.span(p, t, offset); ok && end.After(t) {
				cands = append(cands, end)
			}
		}
		for _, p := range w.w.Allow {
			if start, _, ok := w.span(p, t, offset); ok && start.After(t) {
				cands = append(cands, start)
			}
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].Before(cands[j]) })
	for _, c := range cands {
		if w.open(c) {
			return c, true
		}
	}
	return time.Time{}, false
}
