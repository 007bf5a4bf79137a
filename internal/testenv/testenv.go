// Package testenv holds the rule that every harness of a real component
// (the Kubernetes control plane, PostgreSQL, ...) follows when a test cannot
// have its component: outside CI a missing program skips the test; where the
// environment variable CI is set it fails, since a test that needs a real
// component never skips there. Under -short (the quick unit loop) such
// tests are skipped.
package testenv

import (
	"errors"
	"os"
	"testing"
)

// SkipOrFail ends a test whose component could not start: it skips when err
// is missing (the component's programs are not installed) and CI is unset,
// and fails otherwise.
func SkipOrFail(tb testing.TB, err, missing error) {
	tb.Helper()
	if errors.Is(err, missing) && os.Getenv("CI") == "" {
		tb.Skip(err)
	}
	tb.Fatal(err)
}

// SkipIfShort skips a test that needs the named component under -short.
func SkipIfShort(tb testing.TB, component string) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("needs " + component + ": not part of -short")
	}
}
