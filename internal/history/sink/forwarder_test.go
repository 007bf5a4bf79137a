package sink

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

func TestStdoutStartsAfterNewestAndPolls(t *testing.T) {
	store := openStore(t)
	appendN(t, store, 5) // history before the destination: export's job
	stdout := &syncBuffer{}
	opts := testOptions(t, store, &syncBuffer{})
	opts.Stdout = stdout
	f := newForwarder(t, opts)
	configure(t, f, stdoutDest())
	run(t, f)

	appendN(t, store, 3) // no Notify: the forwarder polls
	eventually(t, 5*time.Second, "stdout gets record 8", func() bool {
		recs := decodeLines(t, stdout.String())
		return len(recs) > 0 && recs[len(recs)-1].Seq == 8
	})
	recs := decodeLines(t, stdout.String())
	if got := seqs(recs); !slices.Equal(got, span(6, 8)) {
		t.Fatalf("stdout got %v, want 6..8 (records after the newest when it was added)", got)
	}
	checkChain(t, store, recs)
}

// openFiles returns how many of this process's descriptors are open on
// path (Linux only).
func openFiles(t *testing.T, path string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("listing descriptors: %v", err)
	}
	n := 0
	for _, fd := range fds {
		if target, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); target == path {
			n++
		}
	}
	return n
}

func TestConfigureAddsAndRemoves(t *testing.T) {
	store := openStore(t)
	stdout := &syncBuffer{}
	opts := testOptions(t, store, &syncBuffer{})
	opts.Stdout = stdout
	f := newForwarder(t, opts)
	path := filepath.Join(t.TempDir(), "audit.log")
	fileLines := func() []int64 {
		data, _ := os.ReadFile(path)
		return seqs(decodeLines(t, complete(string(data))))
	}
	stdoutLines := func() []int64 { return seqs(decodeLines(t, stdout.String())) }
	appendAndWait := func(seq int64, got func() []int64) {
		t.Helper()
		appendN(t, store, 1)
		f.Notify()
		eventually(t, 5*time.Second, fmt.Sprintf("record %d delivered", seq), func() bool { return slices.Contains(got(), seq) })
	}
	configure(t, f, stdoutDest())
	run(t, f)
	appendAndWait(1, stdoutLines)

	configure(t, f, stdoutDest(), fileDest(path, nil)) // the file starts after record 1
	appendAndWait(2, fileLines)
	eventually(t, 5*time.Second, "stdout gets record 2", func() bool { return slices.Contains(stdoutLines(), 2) })

	configure(t, f, fileDest(path, nil))
	appendAndWait(3, fileLines)
	if got := names(f.Stats()); !slices.Equal(got, []string{"file " + path}) {
		t.Fatalf("Stats name %v, want only the file", got)
	}
	if got := stdoutLines(); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("stdout got %v after it was removed, want 1, 2", got)
	}

	configure(t, f, stdoutDest()) // back with its cursor: it gets record 3
	eventually(t, 5*time.Second, "stdout resumes with record 3", func() bool { return slices.Equal(stdoutLines(), []int64{1, 2, 3}) })
	if got := fileLines(); !slices.Equal(got, []int64{2, 3}) {
		t.Fatalf("file got %v, want 2, 3", got)
	}
	if runtime.GOOS == "linux" && openFiles(t, path) != 0 {
		t.Fatalf("%s still open after its destination was removed", path)
	}
}

func TestConfigureRefusesInvalidAndKeepsRunning(t *testing.T) {
	store := openStore(t)
	stdout := &syncBuffer{}
	opts := testOptions(t, store, &syncBuffer{})
	opts.Stdout = stdout
	f := newForwarder(t, opts)
	configure(t, f, stdoutDest())
	run(t, f)
	path := filepath.Join(t.TempDir(), "audit.log")

	err := f.Configure(context.Background(), []v1alpha1.AuditDestination{
		fileDest(path, nil), fileDest("/var/log/other.log", &v1alpha1.AuditRotation{MaxSize: "12XB"})})
	if err == nil || !strings.Contains(err.Error(), "audit destination 2 (file /var/log/other.log)") ||
		!strings.Contains(err.Error(), "maxSize") {
		t.Fatalf("Configure with a bad size: %v, want an error naming destination 2 and maxSize", err)
	}
	if got := names(f.Stats()); !slices.Equal(got, []string{"stdout"}) {
		t.Fatalf("destinations %v after a refused Configure, want stdout alone", got)
	}
	appendN(t, store, 1)
	f.Notify()
	eventually(t, 5*time.Second, "stdout still delivers", func() bool { return len(decodeLines(t, stdout.String())) == 1 })
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the valid destination of a refused Configure wrote %s (%v)", path, err)
	}
}

func TestConfigureErrors(t *testing.T) {
	neg := -1
	tests := []struct {
		name string
		dest v1alpha1.AuditDestination
		// want are parts of the error; hidden must not be in it.
		want   []string
		hidden []string
	}{
		{"unknown type", v1alpha1.AuditDestination{Type: "syslog"}, []string{"unknown type", "syslog"}, nil},
		{"file without its block", v1alpha1.AuditDestination{Type: TypeFile}, []string{"needs a file block"}, nil},
		{"relative path", fileDest("audit.log", nil), []string{"(file audit.log)", "not absolute"}, nil},
		{"bad age", fileDest("/a.log", &v1alpha1.AuditRotation{MaxAge: "soon"}), []string{"(file /a.log)", "maxAge"}, nil},
		{"negative backups", fileDest("/a.log", &v1alpha1.AuditRotation{MaxBackups: &neg}), []string{"maxBackups"}, nil},
		{"zero size", fileDest("/a.log", &v1alpha1.AuditRotation{MaxSize: "0B"}), []string{"maxSize"}, nil},
		{"http without its block", v1alpha1.AuditDestination{Type: TypeHTTP}, []string{"needs an http block"}, nil},
		{"scheme", httpDest("ftp://u:hunter22@host/x", "", nil), []string{"(http ftp://host/x)", "scheme"}, []string{"hunter22"}},
		{"unparsable URL with userinfo", httpDest("https://carol:pa%zz@host/", "", nil),
			[]string{"does not parse"}, []string{"carol", "pa%zz", "%zz"}},
		{"bad timeout", httpDest("https://host/x", "fast", nil), []string{"(http https://host/x)", "timeout"}, nil},
		{"zero timeout", httpDest("https://host/x", "0s", nil), []string{"timeout"}, nil},
		{"secret key is a path", httpDest("https://host/x", "", &v1alpha1.SecretRef{Name: "s", Keys: []string{"../x"}}),
			[]string{"not a header name"}, nil},
		{"secret name is a path", httpDest("https://host/x", "", &v1alpha1.SecretRef{Name: "..", Keys: []string{"A"}}),
			[]string{"single path element"}, nil},
		{"stdout without a writer", stdoutDest(), []string{"Options.Stdout"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newForwarder(t, testOptions(t, openStore(t), &syncBuffer{}))
			err := f.Configure(context.Background(), []v1alpha1.AuditDestination{tc.dest})
			if err == nil {
				t.Fatal("Configure accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, h := range tc.hidden {
				if strings.Contains(err.Error(), h) {
					t.Errorf("error %q shows %q", err, h)
				}
			}
			if len(f.Stats()) != 0 {
				t.Errorf("Stats %+v after a refused Configure", f.Stats())
			}
		})
	}
	t.Run("listed twice", func(t *testing.T) {
		f := newForwarder(t, testOptions(t, openStore(t), &syncBuffer{}))
		err := f.Configure(context.Background(), []v1alpha1.AuditDestination{fileDest("/a.log", nil), fileDest("/b/../a.log", nil)})
		if err == nil || !strings.Contains(err.Error(), "listed twice") {
			t.Fatalf("Configure: %v, want listed twice", err)
		}
	})
}

func TestFileRecordLargerThanRotationWaitsForALargerSize(t *testing.T) {
	store := openStore(t)
	f := newForwarder(t, testOptions(t, store, &syncBuffer{}))
	path := filepath.Join(t.TempDir(), "audit.log")
	configure(t, f, fileDest(path, &v1alpha1.AuditRotation{MaxSize: "1MiB"}))
	run(t, f)
	appendPadded(t, store, 1, 1<<20) // one line over 1 MiB
	appendN(t, store, 1)
	f.Notify()

	name := "file " + path
	eventually(t, 5*time.Second, "the destination reports the oversized record", func() bool {
		return strings.Contains(stat(t, f, name).LastError, "raise rotation.maxSize")
	})
	if s := stat(t, f, name); s.Delivered != 0 || s.Lag != 2 {
		t.Fatalf("Stats %+v, want nothing delivered, lag 2", s)
	}
	configure(t, f, fileDest(path, &v1alpha1.AuditRotation{MaxSize: "2MiB"}))
	eventually(t, 5*time.Second, "both records written", func() bool {
		data, _ := os.ReadFile(path)
		return slices.Equal(seqs(decodeLines(t, complete(string(data)))), []int64{1, 2})
	})
}

func TestRunTwice(t *testing.T) {
	f := newForwarder(t, testOptions(t, openStore(t), &syncBuffer{}))
	run(t, f)
	eventually(t, 5*time.Second, "the first Run started", func() bool {
		f.confMu.Lock()
		defer f.confMu.Unlock()
		return f.runCtx != nil
	})
	if err := f.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Fatalf("a second Run returned %v, want ErrRunning", err)
	}
}

func TestNewRefusesACorruptState(t *testing.T) {
	opts := testOptions(t, openStore(t), &syncBuffer{})
	if err := os.WriteFile(filepath.Join(opts.StateDir, StateFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(opts); err == nil || !strings.Contains(err.Error(), StateFile) {
		t.Fatalf("New over a corrupt state: %v, want an error naming the file", err)
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		name     string
		failures int
		// r is the random draw in [0, 1).
		r    float64
		want time.Duration
	}{
		{"first failure, lowest draw: never below the minimum", 1, 0, time.Second},
		{"first failure, highest draw", 1, 0.999999, time.Second},
		{"third failure, lowest draw: half of 4s", 3, 0, 2 * time.Second},
		{"third failure, middle draw", 3, 0.5, 3 * time.Second},
		{"tenth failure: capped at 5m, then jittered", 10, 0, 150 * time.Second},
		{"thousandth failure does not overflow", 1000, 0.999999, 5 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := backoff(tc.failures, time.Second, 5*time.Minute, tc.r)
			if got.Round(time.Millisecond) != tc.want {
				t.Fatalf("backoff = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{"-3", 0},
		{"999999999", time.Hour},
		{"Sun, 01 Mar 2026 12:00:30 GMT", 30 * time.Second},
		{"Sun, 01 Mar 2026 11:00:00 GMT", 0},
		{"soon", 0},
	}
	for _, tc := range tests {
		if got := parseRetryAfter(tc.value, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.value, got, tc.want)
		}
	}
}

func TestScrub(t *testing.T) {
	err := scrub(fmt.Errorf("sending: %w", context.DeadlineExceeded), "Bearer abcdefgh12345678", "abcdefgh12345678", "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("scrub lost the wrapped error: %v", err)
	}
	parts := secretParts("Bearer abcdefgh12345678")
	got := scrub(errors.New("refused Bearer abcdefgh12345678, token abcdefgh12345678"), parts...).Error()
	if got != "refused [redacted], token [redacted]" {
		t.Fatalf("scrub = %q", got)
	}
}
