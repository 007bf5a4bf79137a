package manifest

import (
	"os"
	"testing"
)

// TestMain lets this test binary serve as the Jsonnet sandbox child.
func TestMain(m *testing.M) {
	if code, served := ServeChild(); served {
		os.Exit(code)
	}
	os.Exit(m.Run())
}
