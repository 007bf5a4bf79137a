package gitsource_test

import (
	"os"
	"testing"

	"github.com/cairn-gitops/cairn/internal/manifest"
)

// TestMain lets this test binary serve as the Jsonnet sandbox child, which
// the validator starts from the current executable.
func TestMain(m *testing.M) {
	if code, served := manifest.ServeChild(); served {
		os.Exit(code)
	}
	os.Exit(m.Run())
}
