package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Formats are the output formats of Write.
var Formats = []string{"text", "markdown", "json"}

// Write writes the plan in a format of Formats. Markdown is cut to fit a
// GitHub comment (see WriteMarkdown); text and JSON are never cut.
func Write(w io.Writer, format string, p *Plan) error {
	switch format {
	case "json":
		return WriteJSON(w, p)
	case "text":
		return WriteText(w, p)
	case "markdown":
		return WriteMarkdown(w, p, MarkdownOptions{})
	}
	return fmt.Errorf("unknown plan format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// WriteJSON writes the plan as the indented JSON document of Plan.
func WriteJSON(w io.Writer, p *Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

// statusMark is the one-character mark of a status in text output.
var statusMark = map[Status]string{StatusAdded: "+", StatusRemoved: "-", StatusChanged: "~", StatusMoved: ">"}

// WriteText writes the plan for a terminal: the summary, each change with
// its risk, and every diff in full.
func WriteText(w io.Writer, p *Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "cairn plan: %s → %s\n", revText(p.Base), revText(p.Head))
	fmt.Fprintf(&b, "risk: %s\n", p.Risk)
	s := p.Summary
	fmt.Fprintf(&b, "adapters: %d changed, %d added, %d removed, %d moved, %d unchanged\n", s.Changed, s.Added, s.Removed, s.Moved, s.Unchanged)
	fmt.Fprintf(&b, "documents: %s to cairn.json, %s to security.json, %s to policy.json\n",
		plural(s.RepositoryChanges, "change"), plural(s.SecurityChanges, "change"), plural(s.PolicyChanges, "change"))
	fmt.Fprintf(&b, "changes by risk: %d high, %d medium, %d low\n", s.High, s.Medium, s.Low)
	if !p.Changed() {
		b.WriteString("\nNo changes.\n")
	}
	for _, sec := range []struct {
		title   string
		changes []Change
	}{{"cairn.json", p.Repository}, {"security.json", p.Security}, {"policy.json", p.Policy}} {
		if len(sec.changes) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s\n", sec.title)
		for _, c := range sec.changes {
			textChange(&b, c)
		}
	}
	for _, a := range p.Adapters {
		fmt.Fprintf(&b, "\n%s %s  %s  risk %s", statusMark[a.Status], a.Key, a.Status, a.Risk)
		if a.PreviousEnvironment != "" {
			fmt.Fprintf(&b, "  (from %s)", a.PreviousEnvironment)
		}
		b.WriteString("\n")
		if len(a.Files) > 0 {
			fmt.Fprintf(&b, "    files: %s\n", strings.Join(a.Files, ", "))
		}
		for _, c := range a.Changes {
			textChange(&b, c)
		}
		if !a.ReleaseChanged {
			b.WriteString("    (the rendered release is unchanged)\n")
		}
		if a.Diff != nil {
			b.WriteString("\n")
			for _, line := range strings.SplitAfter(strings.TrimSuffix(a.Diff.Unified, "\n"), "\n") {
				b.WriteString("    ")
				b.WriteString(strings.TrimSuffix(line, "\n"))
				b.WriteString("\n")
			}
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

func textChange(b *strings.Builder, c Change) {
	where := c.Pointer
	if where == "" {
		where = "(document)"
	}
	fmt.Fprintf(b, "    [%s] %s %s: %s\n", c.Risk, c.Kind, where, c.Summary)
}

// revText names a revision as "ref (short hash)".
func revText(r RevisionInfo) string {
	h := r.Commit
	if len(h) > 12 {
		h = h[:12]
	}
	switch {
	case r.Ref == "" && h == "":
		return "(none)"
	case h == "":
		return r.Ref
	case r.Ref == "" || r.Ref == r.Commit:
		return h
	}
	return r.Ref + " (" + h + ")"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
