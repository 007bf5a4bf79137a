package plan

import (
	"strings"

	"github.com/aymanbagabas/go-udiff"

	"github.com/cairn-gitops/cairn/render"
)

// contextLines is the unchanged lines shown around each change, as `diff -u`.
const contextLines = 3

// releaseText is a release's objects as one YAML stream, each introduced by
// its template, as `cairn render` writes them (without the digest line,
// which changes whenever anything does).
func releaseText(r *render.Release) string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	for _, o := range r.Objects {
		b.WriteString("---\n# Source: ")
		b.WriteString(o.Template)
		b.WriteString("\n")
		b.WriteString(o.YAML)
		if !strings.HasSuffix(o.YAML, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// releaseDiff is the unified diff from base to head of a release's
// rendered objects; either may be nil (added or removed). It returns nil
// when the objects are the same.
func releaseDiff(base, head *render.Release) *Diff {
	before, after := releaseText(base), releaseText(head)
	if before == after {
		return nil
	}
	label := func(prefix string, r *render.Release) string {
		if r == nil {
			return "/dev/null"
		}
		return prefix + r.Namespace + "/" + r.Name
	}
	edits := udiff.Lines(before, after)
	u, err := udiff.ToUnified(label("base/", base), label("head/", head), before, edits, contextLines)
	if err != nil {
		// ToUnified fails only on edits that do not fit the text, which
		// Lines never produces; show the whole change rather than nothing.
		u = "--- " + label("base/", base) + "\n+++ " + label("head/", head) + "\n" + prefixLines(before, "-") + prefixLines(after, "+")
	}
	d := &Diff{Unified: u}
	for i, line := range strings.SplitAfter(strings.TrimSuffix(u, "\n"), "\n") {
		d.Lines++
		switch {
		case i < 2: // the --- and +++ header
		case strings.HasPrefix(line, "+"):
			d.Added++
		case strings.HasPrefix(line, "-"):
			d.Removed++
		}
	}
	return d
}

func prefixLines(s, prefix string) string {
	if s == "" {
		return ""
	}
	return prefix + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+prefix) + "\n"
}

// renderedChanges explains a release change the manifest does not: a new
// namespace, values inherited from cairn.json, or another chart.
func renderedChanges(base, head Revision, bs, hs side, manifestChanged bool) []Change {
	br, hr := bs.release, hs.release
	if br == nil || hr == nil || br.Digest == hr.Digest {
		return nil
	}
	var out []Change
	if br.Namespace != hr.Namespace {
		out = append(out, Change{Kind: KindNamespaceChanged, File: "cairn.json",
			Pointer: "/spec/environments/" + escape(hr.Environment) + "/namespace", Risk: RiskHigh,
			Before: br.Namespace, After: hr.Namespace,
			Summary: "release moves from namespace " + br.Namespace + " to " + hr.Namespace + ": uninstalled and installed again"})
	}
	if manifestChanged {
		return out
	}
	if br.ValuesDigest == hr.ValuesDigest {
		return append(out, Change{Kind: KindChart, Pointer: "", Risk: RiskMedium, Before: br.Chart, After: hr.Chart,
			Summary: "rendered with a changed chart (" + br.Chart + " → " + hr.Chart + "); the values are the same"})
	}
	c := &collector{}
	c.claim("/cairn")
	c.rest(br.Values, hr.Values, func(string) (string, Risk) { return KindValues, RiskLow })
	for i := range c.changes {
		c.changes[i].Summary = "rendered value " + c.changes[i].Summary + " (inherited from cairn.json)"
	}
	return append(out, c.changes...)
}
