package diag

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestRulesAreDocumented keeps docs/rules.md in step with the catalogue.
func TestRulesAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range Rules {
		if seen[r.Code] {
			t.Errorf("rule %s is listed twice", r.Code)
		}
		seen[r.Code] = true
		if r.Summary == "" || r.Help == "" || (r.Severity != Error && r.Severity != Warning) {
			t.Errorf("rule %s is incomplete: %+v", r.Code, r)
		}
		if !strings.Contains(string(doc), "| `"+r.Code+"` | "+string(r.Severity)+" |") {
			t.Errorf("docs/rules.md does not document rule %s as %s", r.Code, r.Severity)
		}
		if got, ok := Lookup(r.Code); !ok || got != r {
			t.Errorf("Lookup(%s) = %+v, %v", r.Code, got, ok)
		}
	}
	if _, ok := Lookup("no-such-rule"); ok {
		t.Error("Lookup found a rule that does not exist")
	}
}

func TestSortAndErrors(t *testing.T) {
	fs := []Finding{
		{File: "b.json", Line: 1, Severity: Error},
		{File: "a.json", Line: 9, Severity: Warning},
		{File: "a.json", Line: 2, Column: 5, Severity: Error},
		{File: "a.json", Line: 2, Column: 1, Severity: Error},
	}
	Sort(fs)
	var got []string
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column))
	}
	if want := "a.json:2:1 a.json:2:5 a.json:9:0 b.json:1:0"; strings.Join(got, " ") != want {
		t.Errorf("sorted %v, want %s", got, want)
	}
	if n := Errors(fs); n != 3 {
		t.Errorf("Errors = %d, want 3", n)
	}
}
