package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/validate"
	"github.com/cairn-gitops/cairn/render"
)

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it, review the diff):\n%s", name, got)
	}
}

// reviewPlan is the plan of a pull request that widens an acceptor's
// allowed sources, removes a production adapter, scales another and grants
// a new admin.
func reviewPlan(t *testing.T) *Plan {
	head := example(t)
	find(t, head, "prod/client-bluefin-acceptor").Spec.Listen.AllowedSources = []string{"192.0.2.0/24"}
	find(t, head, "prod/lse-fix-primary").Spec.Replicas = ptr(3)
	drop(t, head, "prod/lse-fix-dropcopy")
	head.Security.Spec.RBAC.Bindings = append(head.Security.Spec.RBAC.Bindings,
		v1.Binding{Subject: v1.Subject{Type: v1.SubjectGroup, Name: "contractors"}, Role: v1.RoleOperator,
			Scope: &v1.BindingScope{Environments: []string{"prod"}}})
	return Compare(revision(t, "main", example(t)), revision(t, "pr-42", head))
}

func TestFormatsGolden(t *testing.T) {
	p := reviewPlan(t)
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, format, p); err != nil {
				t.Fatal(err)
			}
			golden(t, "review."+format+".golden", b.Bytes())
		})
	}
	if err := Write(&bytes.Buffer{}, "yaml", p); err == nil || !strings.Contains(err.Error(), "yaml") {
		t.Errorf("unknown format: %v", err)
	}
}

func TestNoChangeFormats(t *testing.T) {
	p := Compare(revision(t, "main", example(t)), revision(t, "main", example(t)))
	for _, tt := range []struct {
		format string // output format
		want   string // text it must contain
	}{
		{"text", "No changes."},
		{"markdown", "No changes: every adapter renders as before."},
		{"json", `"risk": "none"`},
	} {
		var b bytes.Buffer
		if err := Write(&b, tt.format, p); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("%s output lacks %q:\n%s", tt.format, tt.want, b.String())
		}
	}
}

// TestJSONShape checks the documented top-level shape of the JSON plan.
func TestJSONShape(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, reviewPlan(t)); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "base", "head", "risk", "summary", "adapters", "repository", "security", "policy"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("no %q in the JSON plan", k)
		}
	}
	if doc["version"] != "v1" || doc["risk"] != "high" {
		t.Errorf("version %v risk %v", doc["version"], doc["risk"])
	}
	var back Plan
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatalf("the JSON plan does not read back into Plan: %v", err)
	}
}

func TestReleaseDiff(t *testing.T) {
	rel := func(ns, yaml string) *render.Release {
		return &render.Release{Name: "x", Namespace: ns, Environment: "prod",
			Objects: []render.Object{{Kind: "ConfigMap", Template: "t/configmap.yaml", YAML: yaml}}}
	}
	a := rel("ns", "a: 1\nb: 2\nc: 3\n")
	b := rel("ns", "a: 1\nb: 20\nc: 3\nd: 4\n")
	tests := []struct {
		name                  string
		base, head            *render.Release
		lines, added, removed int
	}{
		{"changed", a, b, 10, 2, 1},
		{"added", nil, b, 9, 6, 0},
		{"removed", a, nil, 8, 0, 5},
	}
	var all bytes.Buffer
	for _, tt := range tests {
		d := releaseDiff(tt.base, tt.head)
		if d == nil {
			t.Fatalf("%s: no diff", tt.name)
		}
		if d.Lines != tt.lines || d.Added != tt.added || d.Removed != tt.removed {
			t.Errorf("%s: %d lines +%d -%d, want %d +%d -%d\n%s", tt.name, d.Lines, d.Added, d.Removed, tt.lines, tt.added, tt.removed, d.Unified)
		}
		fmt.Fprintf(&all, "== %s\n%s", tt.name, d.Unified)
	}
	golden(t, "diff.golden", all.Bytes())
	if d := releaseDiff(a, rel("ns", "a: 1\nb: 2\nc: 3\n")); d != nil {
		t.Errorf("equal releases diff: %s", d.Unified)
	}
}

// manyAdapters returns a repository of n acceptors and the same repository
// with every adapter changed by change.
func manyAdapters(t *testing.T, n int, change func(i int, a *v1.Adapter)) (*validate.Result, *validate.Result) {
	t.Helper()
	mk := func(edit bool) *validate.Result {
		r := example(t)
		tmpl := *find(t, r, "prod/client-bluefin-acceptor")
		r.Adapters = nil
		for i := 0; i < n; i++ {
			a := deepCopy(t, &tmpl)
			a.Metadata.Name = fmt.Sprintf("client-%04d-acceptor", i)
			a.Spec.Listen.Port = 10000 + i
			a.Spec.Listen.NodePort = 0
			a.Spec.Listen.AllowedSources = []string{fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)}
			if edit && change != nil {
				change(i, a)
			}
			r.Adapters = append(r.Adapters, validate.Adapter{Adapter: a})
		}
		return r
	}
	return mk(false), mk(true)
}

var truncatedNote = regexp.MustCompile(`diff of (\S+) truncated: (\d+) of (\d+) lines shown`)

// TestMarkdownFitsThousandAdapters changes 1,000 adapters at once: the
// comment fits, leads with the high-risk changes and says what it cut.
func TestMarkdownFitsThousandAdapters(t *testing.T) {
	base, head := manyAdapters(t, 1000, func(i int, a *v1.Adapter) {
		a.Spec.Listen.AllowedSources = []string{fmt.Sprintf("10.%d.0.0/16", i/256)}
		a.Spec.FIX.TargetCompID = fmt.Sprintf("CLIENT%04d", i)
		a.Spec.Description = strings.Repeat("A longer description so that every diff has more lines. ", 1+i%5)
	})
	p := Compare(revision(t, "main", base), revision(t, "big", head))
	if p.Summary.Changed != 1000 || p.Risk != RiskHigh {
		t.Fatalf("summary %+v risk %v", p.Summary, p.Risk)
	}
	md := Markdown(p, MarkdownOptions{})
	if len(md) > GitHubCommentLimit {
		t.Fatalf("comment is %d bytes, over %d", len(md), GitHubCommentLimit)
	}
	for _, want := range []string{"🔴 high risk", "High-risk changes (1000)", "Cut to fit GitHub's 65,536-character comment limit", "cairn plan --output json"} {
		if !strings.Contains(md, want) {
			t.Errorf("comment lacks %q", want)
		}
	}
	if i, j := strings.Index(md, "High-risk changes"), strings.Index(md, "#### Adapters"); i < 0 || (j >= 0 && j < i) {
		t.Error("high-risk changes do not come first")
	}
	// What was cut is said in numbers that add up.
	shownItems := strings.Count(md, "\n- **")
	if shownItems < 1000 {
		m := regexp.MustCompile(`(\d+) more high-risk changes not listed`).FindStringSubmatch(md)
		if m == nil {
			t.Fatalf("%d of 1000 high-risk items shown and no note says so", shownItems)
		}
		if n, _ := strconv.Atoi(m[1]); n+shownItems != 1000 {
			t.Errorf("%d shown + %d noted != 1000", shownItems, n)
		}
	}
	t.Logf("comment: %d bytes, %d of 1000 high-risk items shown", len(md), shownItems)
}

// TestMarkdownTruncatesLongestDiffFirst: one huge diff among small ones is
// cut, and says so; the small ones stay whole.
func TestMarkdownTruncatesLongestDiffFirst(t *testing.T) {
	base, head := manyAdapters(t, 5, func(i int, a *v1.Adapter) { a.Spec.Replicas = ptr(2) })
	hb, bb := revision(t, "big", head), revision(t, "main", base)
	big := &hb.Releases[2]
	var y strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&y, "line-%d: %s\n", i, strings.Repeat("x", 40))
	}
	big.Objects = append(big.Objects, render.Object{Kind: "ConfigMap", Name: "huge", Template: "t/huge.yaml", YAML: y.String()})
	p := Compare(bb, hb)
	md := Markdown(p, MarkdownOptions{})
	if len(md) > GitHubCommentLimit {
		t.Fatalf("comment is %d bytes", len(md))
	}
	notes := truncatedNote.FindAllStringSubmatch(md, -1)
	if len(notes) != 1 || notes[0][1] != big.Environment+"/"+big.Name {
		t.Fatalf("truncation notes %v, want exactly one for %s", notes, big.Key())
	}
	shown, _ := strconv.Atoi(notes[0][2])
	total, _ := strconv.Atoi(notes[0][3])
	if total != p.Adapters[2].Diff.Lines || shown >= total || shown < minDiffLines {
		t.Errorf("note says %d of %d lines; the diff has %d", shown, total, p.Adapters[2].Diff.Lines)
	}
	if strings.Count(md, "<details>") != 5 {
		t.Errorf("%d diff blocks, want 5", strings.Count(md, "<details>"))
	}
	if !strings.Contains(md, "1 diff truncated to") {
		t.Error("the footer does not say a diff was truncated")
	}
}

// TestMarkdownLimits cuts the same plan to ever smaller limits: each
// comment fits, and says what it cut.
func TestMarkdownLimits(t *testing.T) {
	base, head := manyAdapters(t, 40, func(i int, a *v1.Adapter) {
		a.Spec.Listen.AllowedSources = []string{"10.0.0.0/8"}
	})
	p := Compare(revision(t, "main", base), revision(t, "wide", head))
	full := Markdown(p, MarkdownOptions{})
	tests := []struct {
		limit int      // comment limit in bytes
		want  []string // what the comment must say it cut
	}{
		{limit: len(full), want: nil},
		{limit: len(full) - 2000, want: []string{"more adapters not shown", "diffs left out"}},
		{limit: 12000, want: []string{"Diffs of 40 more adapters not shown", "more adapters not listed in this table", "rows of the adapters table left out"}},
		{limit: 2500, want: []string{"Diffs of 40 more adapters not shown", "40 more adapters not listed", "more high-risk changes not listed"}},
		{limit: 600, want: []string{"Comment cut at 600 bytes"}},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.limit), func(t *testing.T) {
			md := Markdown(p, MarkdownOptions{Limit: tt.limit})
			if len(md) > tt.limit {
				t.Fatalf("%d bytes, over %d", len(md), tt.limit)
			}
			for _, w := range tt.want {
				if !strings.Contains(md, w) {
					t.Errorf("comment lacks %q:\n%s", w, md)
				}
			}
			if tt.want == nil && md != full {
				t.Error("a comment that fits was cut")
			}
		})
	}
}

func TestFenceFor(t *testing.T) {
	for s, want := range map[string]string{"plain": "```", "a ``` b": "````", "`````": "``````"} {
		if got := fenceFor(s); got != want {
			t.Errorf("fenceFor(%q) = %q, want %q", s, got, want)
		}
	}
}
