//go:build unix

package pgtest

import (
	"context"
	"sync"
	"testing"

	"github.com/cairn-gitops/cairn/internal/testenv"
)

// SkipOrFail ends a test that could not start its server: it skips when the
// binaries are missing and the environment variable CI is unset, and fails
// otherwise (where CI is set, a test that needs a real component never
// skips).
func SkipOrFail(tb testing.TB, err error) {
	tb.Helper()
	testenv.SkipOrFail(tb, err, ErrNoBinaries)
}

// Shared is a server that a package's tests share, started on first use.
// Declare one at package level and call Stop from TestMain after m.Run.
type Shared struct {
	// Options are used for the start.
	Options Options

	mu      sync.Mutex
	started bool
	server  *Server
	err     error
}

// Get returns the shared server, starting it on the first call. Where it
// cannot start, it ends the test through SkipOrFail. Under -short (the quick
// unit loop) it skips the test.
func (s *Shared) Get(tb testing.TB) *Server {
	tb.Helper()
	testenv.SkipIfShort(tb, "PostgreSQL")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		s.started = true
		s.server, s.err = Start(context.Background(), s.Options)
	}
	if s.err != nil {
		SkipOrFail(tb, s.err)
	}
	return s.server
}

// Database returns the DSN of a new, empty database on the shared server,
// ending the test as Get does when there is no server.
func (s *Shared) Database(tb testing.TB) string {
	tb.Helper()
	dsn, err := s.Get(tb).NewDatabase(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return dsn
}

// Stop stops the server if it was started.
func (s *Shared) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.server == nil {
		return nil
	}
	return s.server.Stop()
}
