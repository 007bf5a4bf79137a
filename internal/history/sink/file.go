package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"gopkg.in/natefinch/lumberjack.v2"
	"k8s.io/utils/clock"
)

const (
	// mebibyte is lumberjack's unit of MaxSize.
	mebibyte = 1 << 20
	// defaultMaxSize is lumberjack's size when none is set (100 MiB).
	defaultMaxSize = 100 * mebibyte
	// rotationGap keeps two rotations of a file apart: lumberjack names
	// backups by the millisecond and would overwrite one made in the same
	// millisecond.
	rotationGap = 2 * time.Millisecond
	day         = 24 * time.Hour
)

// fileSink appends NDJSON lines to a file that lumberjack rotates.
type fileSink struct {
	path     string
	maxBytes int64
	lj       *lumberjack.Logger
	clock    clock.Clock
	// lastRotation is when a rotation was last expected; only the worker's
	// goroutine uses it.
	lastRotation time.Time
}

// parseFile validates a file destination.
func (e *env) parseFile(f *v1alpha1.AuditFile) (string, sink, error) {
	if f == nil {
		return "", nil, errors.New("type file needs a file block")
	}
	if !filepath.IsAbs(f.Path) {
		return "", nil, fmt.Errorf("path %q is not absolute", f.Path)
	}
	path := filepath.Clean(f.Path)
	lj := &lumberjack.Logger{Filename: path}
	if err := applyRotation(lj, f.Rotation); err != nil {
		return "", nil, err
	}
	maxBytes := int64(lj.MaxSize) * mebibyte
	if lj.MaxSize == 0 {
		maxBytes = defaultMaxSize
	}
	return fileName(path), &fileSink{path: path, maxBytes: maxBytes, lj: lj, clock: e.clock}, nil
}

// applyRotation sets lumberjack's limits from the configuration: sizes in
// MiB rounded up (at least 1), ages in days rounded up.
func applyRotation(lj *lumberjack.Logger, r *v1alpha1.AuditRotation) error {
	if r == nil {
		return nil
	}
	if r.MaxSize != "" {
		n, err := v1alpha1.ParseByteSize(r.MaxSize)
		if err != nil {
			return fmt.Errorf("rotation maxSize: %w", err)
		}
		if n <= 0 {
			return fmt.Errorf("rotation maxSize %q: want more than zero", r.MaxSize)
		}
		lj.MaxSize = int(max(1, (n+mebibyte-1)/mebibyte))
	}
	if r.MaxAge != "" {
		d, err := v1alpha1.ParseDuration(r.MaxAge)
		if err != nil {
			return fmt.Errorf("rotation maxAge: %w", err)
		}
		if d < 0 {
			return fmt.Errorf("rotation maxAge %q: want zero or more", r.MaxAge)
		}
		lj.MaxAge = int((d + day - 1) / day)
	}
	if r.MaxBackups != nil {
		if *r.MaxBackups < 0 {
			return fmt.Errorf("rotation maxBackups %d: want zero or more", *r.MaxBackups)
		}
		lj.MaxBackups = *r.MaxBackups
	}
	lj.Compress = r.Compress != nil && *r.Compress
	return nil
}

// deliver appends one line per record, then fsyncs the file, so that the
// cursor only moves past records that are on disk.
func (s *fileSink) deliver(_ context.Context, batch []entry) (int, error) {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o750); err != nil {
		return 0, fmt.Errorf("creating the folder of %s: %w", s.path, err)
	}
	for i, e := range batch {
		line := append(e.line[:len(e.line):len(e.line)], '\n')
		if int64(len(line)) > s.maxBytes {
			return i, fmt.Errorf("record %d is %d bytes, more than the rotation size of %s (%d bytes): raise rotation.maxSize",
				e.seq, len(line), s.path, s.maxBytes)
		}
		if err := s.beforeWrite(len(line)); err != nil {
			return i, err
		}
		if _, err := s.lj.Write(line); err != nil {
			return i, fmt.Errorf("writing record %d to %s: %w", e.seq, s.path, err)
		}
	}
	if err := syncFile(s.path); err != nil {
		return 0, err
	}
	return len(batch), nil
}

// beforeWrite runs before a line of n bytes is written. When that write
// will make lumberjack rotate, it fsyncs the file about to become a backup
// and makes sure the last rotation is at least rotationGap old.
func (s *fileSink) beforeWrite(n int) error {
	info, err := os.Stat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking %s: %w", s.path, err)
	}
	if info.Size()+int64(n) < s.maxBytes {
		return nil
	}
	if err := syncFile(s.path); err != nil {
		return err
	}
	if wait := rotationGap - s.clock.Since(s.lastRotation); wait > 0 {
		s.clock.Sleep(wait)
	}
	s.lastRotation = s.clock.Now()
	return nil
}

// close closes the current file; lumberjack opens it again on the next
// write.
func (s *fileSink) close() error {
	if err := s.lj.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", s.path, err)
	}
	return nil
}

// syncFile fsyncs the file at path. On Linux, fsync through any descriptor
// flushes what every descriptor of the file wrote.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening %s to sync it: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	return nil
}

// stdoutSink writes NDJSON lines to a writer, one Write per line, so that
// lines from other writers of the same stream do not cut into a record.
type stdoutSink struct{ w io.Writer }

// deliver writes one line per record.
func (s *stdoutSink) deliver(_ context.Context, batch []entry) (int, error) {
	for i, e := range batch {
		line := append(e.line[:len(e.line):len(e.line)], '\n')
		if _, err := s.w.Write(line); err != nil {
			return i, fmt.Errorf("writing record %d to stdout: %w", e.seq, err)
		}
	}
	return len(batch), nil
}

// close does nothing: the stream belongs to the caller.
func (s *stdoutSink) close() error { return nil }
