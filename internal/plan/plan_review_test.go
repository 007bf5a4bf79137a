package plan

// Review tests: the markdown comment under a huge change, IP range
// comparisons at their edges, and the JSON shape.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cairn-gitops/cairn/internal/validate"
)

// reviewMany returns the example with n copies of an acceptor instead of
// its adapters.
func reviewMany(t *testing.T, n int) *validate.Result {
	t.Helper()
	r := example(t)
	tmpl := r.Adapters[0]
	for _, a := range r.Adapters {
		if a.Metadata.Environment+"/"+a.Metadata.Name == "prod/client-northwind-acceptor" {
			tmpl = a
		}
	}
	r.Adapters = nil
	for i := range n {
		a := validate.Adapter{Adapter: deepCopy(t, tmpl.Adapter), Doc: tmpl.Doc}
		a.Metadata.Name = fmt.Sprintf("client-%04d-acceptor", i)
		a.Spec.Listen.Port = 10000 + i
		r.Adapters = append(r.Adapters, a)
	}
	return r
}

// TestReviewMarkdownHugeChange: 2,000 adapters, every one changed with
// high-risk changes, fit in one comment that says what it cut.
func TestReviewMarkdownHugeChange(t *testing.T) {
	base := reviewMany(t, 2000)
	head := reviewMany(t, 2000)
	for i := range head.Adapters {
		s := &head.Adapters[i].Spec
		s.Listen.AllowedSources = []string{"198.51.100.0/24"}
		s.Listen.Port = 20000 + i
		s.Replicas = ptr(3)
	}
	p := Compare(revision(t, "main", base), revision(t, "huge", head))
	if p.Summary.Changed != 2000 || p.Risk != RiskHigh {
		t.Fatalf("summary %+v, risk %s", p.Summary, p.Risk)
	}
	md := Markdown(p, MarkdownOptions{})
	if n := utf8.RuneCountInString(md); n > GitHubCommentLimit || len(md) > GitHubCommentLimit {
		t.Fatalf("%d characters, %d bytes: over GitHub's limit", n, len(md))
	}
	if !utf8.ValidString(md) {
		t.Error("not valid UTF-8")
	}
	for _, w := range []string{"**Cut to fit GitHub's 65,536-character comment limit:**", "diffs left out", "`cairn plan --output json` has the whole plan",
		"more high-risk changes not listed here"} {
		if !strings.Contains(md, w) {
			t.Errorf("the comment lacks %q", w)
		}
	}
	if strings.Count(md, "<details>") != strings.Count(md, "</details>") {
		t.Error("unbalanced <details>")
	}
	// Text and JSON are never cut.
	var b strings.Builder
	if err := WriteText(&b, p); err != nil {
		t.Fatal(err)
	}
	if strings.Count(b.String(), "\n~ uat/client-") != 0 || strings.Count(b.String(), "\n~ prod/client-") != 2000 {
		t.Errorf("text output does not list all 2,000 adapters")
	}
}

// TestReviewMarkdownSmallLimit: with a tiny limit the comment still fits
// and says it was cut.
func TestReviewMarkdownSmallLimit(t *testing.T) {
	base, head := reviewMany(t, 50), reviewMany(t, 50)
	for i := range head.Adapters {
		head.Adapters[i].Spec.Listen.AllowedSources = []string{"0.0.0.0/1"}
	}
	p := Compare(revision(t, "main", base), revision(t, "head", head))
	for _, limit := range []int{4000, 1500, 600} {
		md := Markdown(p, MarkdownOptions{Limit: limit})
		if len(md) > limit {
			t.Errorf("limit %d: %d bytes", limit, len(md))
		}
		if !utf8.ValidString(md) {
			t.Errorf("limit %d: not valid UTF-8", limit)
		}
		if !strings.Contains(md, "cut") && !strings.Contains(md, "Cut") {
			t.Errorf("limit %d: does not say it was cut:\n%s", limit, md)
		}
	}
}

// TestReviewRangeChanges compares allowed sources at the edges: IPv6,
// mixed families, a range that hides all of IPv4 inside IPv6.
func TestReviewRangeChanges(t *testing.T) {
	tests := []struct {
		name       string
		base, head []string
		kind       string // "" for no allowed-sources change
		risk       Risk
	}{
		{"v6 narrowed", []string{"2001:db8:100::/48"}, []string{"2001:db8:100::/56"}, KindAllowedSourcesNarrowed, RiskLow},
		{"v6 widened", []string{"2001:db8:100::/48"}, []string{"2001:db8::/32"}, KindAllowedSourcesWidened, RiskHigh},
		{"v4 range swapped for a v6 one", []string{"198.51.100.0/26"}, []string{"2001:db8:100::/48"}, KindAllowedSourcesWidened, RiskHigh},
		{"v4-mapped IPv6 of all IPv4", []string{"198.51.100.0/26"}, []string{"198.51.100.0/26", "::ffff:0.0.0.0/96"}, KindAllowedSourcesWidened, RiskHigh},
		{"any IPv6", []string{"198.51.100.0/26"}, []string{"198.51.100.0/26", "::/0"}, KindAllowedSourcesWidened, RiskHigh},
		{"half of IPv4", []string{"198.51.100.0/26"}, []string{"0.0.0.0/1"}, KindAllowedSourcesWidened, RiskHigh},
		{"reordered", []string{"198.51.100.0/26", "2001:db8:100::/48"}, []string{"2001:db8:100::/48", "198.51.100.0/26"}, "", RiskNone},
		{"a host inside a range added", []string{"198.51.100.0/26"}, []string{"198.51.100.0/26", "198.51.100.7/32"}, "", RiskNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, head := example(t), example(t)
			find(t, base, "prod/client-northwind-acceptor").Spec.Listen.AllowedSources = tt.base
			find(t, head, "prod/client-northwind-acceptor").Spec.Listen.AllowedSources = tt.head
			p := Compare(revision(t, "main", base), revision(t, "head", head))
			var got *Change
			for _, a := range p.Adapters {
				for i := range a.Changes {
					if strings.HasPrefix(a.Changes[i].Kind, "allowed-sources") {
						got = &a.Changes[i]
					}
				}
			}
			switch {
			case tt.kind == "" && got != nil:
				t.Errorf("unexpected %s (%s)", got.Kind, got.Summary)
			case tt.kind != "" && got == nil:
				t.Errorf("no %s:\n%s", tt.kind, kindsOf(p))
			case got != nil && (got.Kind != tt.kind || got.Risk != tt.risk):
				t.Errorf("%s %s, want %s %s (%s)", got.Kind, got.Risk, tt.kind, tt.risk, got.Summary)
			}
		})
	}
}

// TestReviewJSONRoundTrip: the JSON plan decodes into Plan and into a
// generic map with "version": "v1" and every documented top-level field.
func TestReviewJSONRoundTrip(t *testing.T) {
	base, head := example(t), example(t)
	find(t, head, "prod/client-bluefin-acceptor").Spec.Listen.AllowedSources = []string{"192.0.2.0/24"}
	drop(t, head, "uat/kafka-orders-bridge")
	p := Compare(revision(t, "main", base), revision(t, "head", head))
	var b strings.Builder
	if err := WriteJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(b.String()), &raw); err != nil {
		t.Fatal(err)
	}
	if raw["version"] != "v1" {
		t.Errorf("version %v", raw["version"])
	}
	for _, k := range []string{"base", "head", "risk", "summary", "adapters", "repository", "security", "policy"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("no %q", k)
		}
	}
	var back Plan
	if err := json.Unmarshal([]byte(b.String()), &back); err != nil {
		t.Fatal(err)
	}
	if back.Risk != RiskHigh || back.Summary.Removed != 1 || back.Summary.Changed != 1 {
		t.Errorf("decoded %s %+v", back.Risk, back.Summary)
	}
}
