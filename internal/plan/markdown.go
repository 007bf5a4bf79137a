package plan

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// GitHubCommentLimit is the most characters GitHub accepts in the body of
// a pull request comment.
const GitHubCommentLimit = 65536

// MarkdownOptions tune WriteMarkdown.
type MarkdownOptions struct {
	// Limit is the most bytes the comment may take (bytes are never fewer
	// than characters); 0 means GitHubCommentLimit.
	Limit int
}

// sectionRows caps the rows of the security, policy and repository tables.
const sectionRows = 60

// minDiffLines is the fewest lines a diff is cut to before whole diffs are
// left out.
const minDiffLines = 20

// WriteMarkdown writes the plan as a pull request comment: the summary, the
// high-risk changes with what to check, a table of the adapters, the
// security, policy and repository changes, and a collapsed diff per
// adapter. When all of it would not fit in opts.Limit, it cuts, in this
// order and only as far as needed: the longest diffs to a common number of
// lines (down to 20), then whole diffs (lowest risk first), then table rows
// (lowest risk first), then high-risk items; and it says exactly what was cut.
func WriteMarkdown(w io.Writer, p *Plan, opts MarkdownOptions) error {
	if _, err := io.WriteString(w, Markdown(p, opts)); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

// Markdown returns the comment WriteMarkdown writes.
func Markdown(p *Plan, opts MarkdownOptions) string {
	limit := opts.Limit
	if limit <= 0 {
		limit = GitHubCommentLimit
	}
	m := newMarkdown(p)
	m.limit = limit
	lim := m.fit(limit)
	var b strings.Builder
	m.write(&b, lim)
	out := b.String()
	if len(out) > limit {
		// Only the fixed parts (headings, summary, capped tables) are left
		// and they do not fit either: cut the text itself.
		note := fmt.Sprintf("\n\n*Comment cut at %d bytes to fit the limit; `cairn plan --output json` has the whole plan.*\n", limit)
		cut := limit - len(note)
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = out[:max(cut, 0)] + note
	}
	return out
}

// limits say how much of each cuttable part is shown.
type limits struct {
	lines  int // lines of each diff
	blocks int // diffs shown, in risk order
	rows   int // adapter table rows, in risk order
	items  int // high-risk items
}

type mdItem struct {
	where string
	c     *Change
}

type mdBlock struct {
	a     *AdapterChange
	lines []string // the diff's lines, each with its newline
	fence string
}

type markdown struct {
	p        *Plan
	limit    int
	items    []mdItem
	rows     []*AdapterChange
	blocks   []mdBlock
	maxLines int
}

func newMarkdown(p *Plan) *markdown {
	m := &markdown{p: p}
	byRisk := func(x, y *AdapterChange) int { return cmp.Or(cmp.Compare(y.Risk, x.Risk), cmp.Compare(x.Key, y.Key)) }
	for i := range p.Adapters {
		m.rows = append(m.rows, &p.Adapters[i])
	}
	slices.SortStableFunc(m.rows, byRisk)
	for _, a := range m.rows {
		for i := range a.Changes {
			if a.Changes[i].Risk == RiskHigh {
				m.items = append(m.items, mdItem{where: a.Key, c: &a.Changes[i]})
			}
		}
		if a.Diff != nil {
			lines := strings.SplitAfter(strings.TrimSuffix(a.Diff.Unified, "\n"), "\n")
			for i, l := range lines {
				if !strings.HasSuffix(l, "\n") {
					lines[i] = l + "\n"
				}
			}
			m.blocks = append(m.blocks, mdBlock{a: a, lines: lines, fence: fenceFor(a.Diff.Unified)})
			m.maxLines = max(m.maxLines, len(lines))
		}
	}
	for _, sec := range []struct {
		file    string
		changes []Change
	}{{"cairn.json", p.Repository}, {"security.json", p.Security}, {"policy.json", p.Policy}} {
		for i := range sec.changes {
			if sec.changes[i].Risk == RiskHigh {
				m.items = append(m.items, mdItem{where: orDefault(sec.changes[i].File, sec.file), c: &sec.changes[i]})
			}
		}
	}
	return m
}

// fit finds the most generous limits whose comment fits in limit bytes.
func (m *markdown) fit(limit int) limits {
	all := limits{lines: m.maxLines, blocks: len(m.blocks), rows: len(m.rows), items: len(m.items)}
	fits := func(l limits) bool {
		var c counter
		m.write(&c, l)
		return int(c) <= limit
	}
	if fits(all) {
		return all
	}
	// largest returns the largest n in [lo, hi] for which ok holds, or lo.
	largest := func(lo, hi int, ok func(int) bool) int {
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if ok(mid) {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		return lo
	}
	l := all
	l.lines = min(minDiffLines, m.maxLines)
	if fits(l) {
		l.lines = largest(l.lines, m.maxLines, func(n int) bool { return fits(limits{n, all.blocks, all.rows, all.items}) })
		return l
	}
	l.blocks = 0
	if fits(l) {
		l.blocks = largest(0, all.blocks, func(n int) bool { return fits(limits{l.lines, n, all.rows, all.items}) })
		return l
	}
	l.rows = 0
	if fits(l) {
		l.rows = largest(0, all.rows, func(n int) bool { return fits(limits{l.lines, 0, n, all.items}) })
		return l
	}
	l.items = largest(0, all.items, func(n int) bool { return fits(limits{l.lines, 0, 0, n}) })
	return l
}

// counter counts the bytes written to it.
type counter int

func (c *counter) WriteString(s string) (int, error) { *c += counter(len(s)); return len(s), nil }

var riskMark = map[Risk]string{RiskHigh: "🔴", RiskMedium: "🟠", RiskLow: "🟡", RiskNone: "🟢"}

// write writes the comment with the given limits.
func (m *markdown) write(w io.StringWriter, l limits) {
	p := m.p
	put := func(format string, args ...any) {
		if len(args) == 0 {
			w.WriteString(format)
			return
		}
		w.WriteString(fmt.Sprintf(format, args...))
	}
	put("### cairn plan: %s %s risk\n\n", riskMark[p.Risk], p.Risk)
	put("Base %s → head %s", mdRev(p.Base), mdRev(p.Head))
	if p.Head.Subject != "" {
		put(": %s", mdText(p.Head.Subject, 200))
	}
	put("\n\n")
	s := p.Summary
	put("**Adapters:** %d changed · %d added · %d removed · %d moved · %d unchanged  \n", s.Changed, s.Added, s.Removed, s.Moved, s.Unchanged)
	put("**Documents:** %s to `cairn.json` · %s to `security.json` · %s to `policy.json`  \n",
		plural(s.RepositoryChanges, "change"), plural(s.SecurityChanges, "change"), plural(s.PolicyChanges, "change"))
	put("**Changes by risk:** %d high · %d medium · %d low\n\n", s.High, s.Medium, s.Low)
	if !p.Changed() {
		put("No changes: every adapter renders as before.\n")
		return
	}
	if len(m.items) > 0 {
		put("#### ⚠️ High-risk changes (%d): review these first\n\n", len(m.items))
		advised := map[string]bool{} // advice is given once per kind
		for _, it := range m.items[:l.items] {
			put("- **%s**: %s  \n  ", mdText(it.where, 200), mdText(it.c.Summary, 600))
			if it.c.File != "" {
				put("`%s` ", mdCode(it.c.File))
			}
			put("`%s`.", mdCode(orDefault(it.c.Pointer, "(document)")))
			if !advised[it.c.Kind] {
				advised[it.c.Kind] = true
				put(" *Check:* %s", mdText(it.c.Advice, 400))
			}
			put("\n")
		}
		if n := len(m.items) - l.items; n > 0 {
			put("- *%s not listed here for length; `cairn plan --output json` lists every one.*\n", plural(n, "more high-risk change"))
		}
		put("\n")
	}
	if len(m.rows) > 0 {
		put("#### Adapters (%d)\n\n| | Adapter | Status | Risk | Changes |\n|---|---|---|---|---|\n", len(m.rows))
		for _, a := range m.rows[:l.rows] {
			put("| %s | `%s` | %s | %s | %s |\n", riskMark[a.Risk], mdCell(a.Key, 200), statusText(a), a.Risk, mdCell(changeText(a), 300))
		}
		if n := len(m.rows) - l.rows; n > 0 {
			put("\n*%s not listed in this table for length (the lowest-risk ones).*\n", plural(n, "more adapter"))
		}
		put("\n")
	}
	for _, sec := range []struct {
		title, file string
		changes     []Change
	}{{"Security configuration", "security.json", p.Security}, {"Change policy", "policy.json", p.Policy}, {"Repository", "cairn.json", p.Repository}} {
		if len(sec.changes) == 0 {
			continue
		}
		put("#### %s (`%s`)\n\n| | Change | Pointer |\n|---|---|---|\n", sec.title, sec.file)
		shown := sec.changes[:min(len(sec.changes), sectionRows)]
		for _, c := range shown {
			put("| %s | %s | `%s` |\n", riskMark[c.Risk], mdCell(c.Summary, 400), mdCell(orDefault(c.Pointer, "(document)"), 200))
		}
		if n := len(sec.changes) - len(shown); n > 0 {
			put("\n*%s not listed for length.*\n", plural(n, "more change"))
		}
		put("\n")
	}
	if len(m.blocks) > 0 {
		put("#### Rendered diffs\n\n")
	}
	truncated := 0
	for _, b := range m.blocks[:l.blocks] {
		d := b.a.Diff
		put("<details><summary><code>%s</code>: %s, %s risk (+%d −%d)</summary>\n\n", mdText(b.a.Key, 200), statusText(b.a), b.a.Risk, d.Added, d.Removed)
		n := min(l.lines, len(b.lines))
		if n > 0 {
			put("%sdiff\n", b.fence)
			for _, line := range b.lines[:n] {
				w.WriteString(line)
			}
			put("%s\n", b.fence)
		}
		if n < len(b.lines) {
			truncated++
			put("\n*diff of %s truncated: %d of %d lines shown.*\n", b.a.Key, n, len(b.lines))
		}
		put("\n</details>\n\n")
	}
	var hidden, hiddenLines int
	for _, b := range m.blocks[l.blocks:] {
		hidden++
		hiddenLines += len(b.lines)
	}
	if hidden > 0 {
		put("*Diffs of %s not shown for length (%s in all, the lowest-risk ones); `cairn plan --output text` prints every diff.*\n\n",
			plural(hidden, "more adapter"), plural(hiddenLines, "line"))
	}
	var cuts []string
	if truncated > 0 {
		cuts = append(cuts, fmt.Sprintf("%s truncated to %d lines (the longest first)", plural(truncated, "diff"), l.lines))
	}
	if hidden > 0 {
		cuts = append(cuts, fmt.Sprintf("%s left out", plural(hidden, "diff")))
	}
	if n := len(m.rows) - l.rows; n > 0 {
		cuts = append(cuts, fmt.Sprintf("%s of the adapters table left out", plural(n, "row")))
	}
	if n := len(m.items) - l.items; n > 0 {
		cuts = append(cuts, fmt.Sprintf("%s left out", plural(n, "high-risk item")))
	}
	if len(cuts) > 0 {
		what := "GitHub's 65,536-character comment limit"
		if m.limit != GitHubCommentLimit {
			what = fmt.Sprintf("the limit of %s bytes", groupDigits(int64(m.limit)))
		}
		put("---\n**Cut to fit %s:** %s. `cairn plan --output json` has the whole plan.\n", what, strings.Join(cuts, "; "))
	}
}

func statusText(a *AdapterChange) string {
	if a.Status == StatusMoved {
		return "moved from " + a.PreviousEnvironment
	}
	return string(a.Status)
}

// changeText summarises an adapter's changes: the riskiest, and how many more.
func changeText(a *AdapterChange) string {
	if len(a.Changes) == 0 {
		return "rendered objects changed"
	}
	s := a.Changes[0].Summary
	if n := len(a.Changes) - 1; n > 0 {
		s += fmt.Sprintf(" (+%d more)", n)
	}
	return s
}

func mdRev(r RevisionInfo) string {
	h := r.Commit
	if len(h) > 12 {
		h = h[:12]
	}
	switch {
	case h == "":
		return "`" + mdCode(r.Ref) + "`"
	case r.Ref == "" || r.Ref == r.Commit:
		return "`" + h + "`"
	}
	return "`" + mdCode(r.Ref) + "` (`" + h + "`)"
}

// mdText makes text safe to put in Markdown prose: no HTML, one line, at
// most n bytes.
func mdText(s string, n int) string {
	s = strings.NewReplacer("\r", " ", "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
	return cutText(s, n)
}

// mdCell makes text safe for a table cell.
func mdCell(s string, n int) string {
	return strings.ReplaceAll(mdText(s, n), "|", "\\|")
}

func mdCode(s string) string { return strings.ReplaceAll(s, "`", "'") }

func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// fenceFor returns a code fence longer than any run of backticks in s.
func fenceFor(s string) string {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}
