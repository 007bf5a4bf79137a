package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestExampleWorkflows: the commands the example CI workflows run parse
// with cairn's own flags (a renamed flag breaks the example, not a user's
// CI first).
func TestExampleWorkflows(t *testing.T) {
	for file, want := range map[string][]string{
		"../../examples/ci/pr-check.yml": {"cairn validate --output github .", "cairn pr check"},
		"../../examples/ci/validate.yml": {"cairn validate --output github ."},
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text := regexp.MustCompile(`\$\{\{[^}]*\}\}`).ReplaceAllString(string(b), "1")
		text = strings.ReplaceAll(text, "\\\n", " ")
		for _, cmdline := range want {
			found := false
			for _, line := range strings.Split(text, "\n") {
				line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "run:"))
				if !strings.HasPrefix(line, cmdline) {
					continue
				}
				found = true
				args := strings.Fields(strings.ReplaceAll(line, `"`, ""))[1:]
				cmd := NewRoot("test", Streams{Out: &strings.Builder{}, Err: &strings.Builder{}})
				sub, rest, err := cmd.Find(args)
				if err != nil {
					t.Fatalf("%s: %q: %v", file, line, err)
				}
				if err := sub.ParseFlags(rest); err != nil {
					t.Errorf("%s: %q: %v", file, line, err)
				}
			}
			if !found {
				t.Errorf("%s runs no %q", file, cmdline)
			}
		}
	}
}
