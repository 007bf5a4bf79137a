package testcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/cairn-gitops/cairn/internal/testenv"
)

// SkipOrFail ends a test that could not start its cluster: it skips when the
// binaries are missing and the environment variable CI is unset, and fails
// otherwise (where CI is set, a test that needs a real component never
// skips).
func SkipOrFail(tb testing.TB, err error) {
	tb.Helper()
	testenv.SkipOrFail(tb, err, ErrNoBinaries)
}

// Shared is a cluster that a package's tests share, started on first use.
// Declare one at package level and call Stop from TestMain after m.Run.
type Shared struct {
	// Options are used for the start. Where Log is nil, the output goes to a
	// temporary file whose path Get logs.
	Options Options

	mu      sync.Mutex
	started bool
	cluster *Cluster
	err     error
	logFile *os.File
}

// Get returns the shared cluster, starting it on the first call. Where it
// cannot start, it ends the test through SkipOrFail. Under -short (the quick
// unit loop) it skips the test.
func (s *Shared) Get(tb testing.TB) *Cluster {
	tb.Helper()
	testenv.SkipIfShort(tb, "the local control plane")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		s.started = true
		opts := s.Options
		if opts.Log == nil {
			f, err := os.CreateTemp("", "cairn-testcluster-*.log")
			if err != nil {
				s.err = fmt.Errorf("testcluster: %w", err)
			} else {
				s.logFile, opts.Log = f, f
			}
		}
		if s.err == nil {
			s.cluster, s.err = Start(context.Background(), opts)
		}
		if s.logFile != nil {
			if st, err := s.logFile.Stat(); s.err != nil && err == nil && st.Size() == 0 {
				// Nothing ran (no binaries, say): leave no empty file behind.
				s.logFile.Close()
				os.Remove(s.logFile.Name())
				s.logFile = nil
			} else {
				tb.Logf("testcluster: control plane output in %s", s.logFile.Name())
			}
		}
	}
	if s.err != nil {
		SkipOrFail(tb, s.err)
	}
	return s.cluster
}

// Stop stops the cluster if it was started. The log file Get made is removed
// unless keepLog is set (pass true when a test failed).
func (s *Shared) Stop(keepLog bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if s.cluster != nil {
		errs = append(errs, s.cluster.Stop())
	}
	if s.logFile != nil {
		errs = append(errs, s.logFile.Close())
		if !keepLog {
			errs = append(errs, os.Remove(s.logFile.Name()))
		}
		s.logFile = nil
	}
	return errors.Join(errs...)
}
