package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryLinksNoTestHelpers keeps the packages that exist for tests out
// of cairn: internal/gittest runs the git command line and the others start
// control planes and databases; the binary reads Git through go-git
// (internal/gitsource) and Helm through its library (internal/helm) only.
func TestBinaryLinksNoTestHelpers(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, helper := range []string{"/internal/gittest", "/internal/testcluster", "/internal/pgtest", "/internal/demo", "/internal/history/historytest", "/internal/oidctest", "/internal/github/githubtest", "/internal/browsertest"} {
			if strings.HasSuffix(pkg, helper) {
				t.Errorf("cairn links %s, a package for tests", pkg)
			}
		}
	}
}
