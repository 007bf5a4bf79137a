package sink

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/history/sqlitestore"
	"gopkg.in/natefinch/lumberjack.v2"
)

func TestFileGetsEveryRecordInOrder(t *testing.T) {
	store := openStore(t)
	f := newForwarder(t, testOptions(t, store, &syncBuffer{}))
	path := filepath.Join(t.TempDir(), "logs", "cairn", "audit.log")
	configure(t, f, fileDest(path, nil))
	run(t, f)

	appendN(t, store, 30)
	f.Notify()

	var got []int64
	eventually(t, 10*time.Second, "the file holds records 1..30", func() bool {
		data, _ := os.ReadFile(path)
		got = seqs(decodeLines(t, complete(string(data))))
		return len(got) >= 30
	})
	if !slices.Equal(got, span(1, 30)) {
		t.Fatalf("file holds %v, want 1..30 in order", got)
	}
	data, _ := os.ReadFile(path)
	checkChain(t, store, decodeLines(t, string(data)))
	for p, want := range map[string]os.FileMode{filepath.Dir(path): 0o750, path: 0o600} {
		if info, err := os.Stat(p); err != nil || info.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", p, info.Mode().Perm(), err, want)
		}
	}
	eventually(t, 5*time.Second, "Stats shows 30 delivered, no lag", func() bool {
		s := stat(t, f, "file "+path)
		return s.Delivered == 30 && s.Cursor == 30 && s.Lag == 0 && s.Failures == 0
	})
}

// readRotated returns the lines of every backup (gunzipped, oldest first)
// and of the current file, and how many backups there are and how many of
// them are not compressed.
func readRotated(t *testing.T, path string) (lines string, backups, plain int) {
	t.Helper()
	dir, base := filepath.Dir(path), filepath.Base(path)
	prefix := strings.TrimSuffix(base, filepath.Ext(base)) + "-"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	var b strings.Builder
	for _, e := range entries { // names hold the rotation time: sorted is oldest first
		name := e.Name()
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		backups++
		if !strings.HasSuffix(name, ".gz") {
			plain++
			continue
		}
		b.WriteString(gunzip(t, filepath.Join(dir, name)))
	}
	cur, _ := os.ReadFile(path) // none before the first write
	b.WriteString(complete(string(cur)))
	return b.String(), backups, plain
}

// gunzip returns a compressed file's content, or "" if it is still being
// written.
func gunzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return ""
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return ""
	}
	return string(data)
}

// rotationCase appends n records of about pad bytes each (so that lumberjack,
// which counts in MiB, rotates several times) and waits until the folder
// settles: every backup compressed and at most maxBackups of them.
func rotationCase(t *testing.T, n, pad int, maxBackups int) (s *sqlitestore.Store, lines string, backups int) {
	t.Helper()
	s = openStore(t)
	f := newForwarder(t, testOptions(t, s, &syncBuffer{}))
	path := filepath.Join(t.TempDir(), "audit.log")
	compress := true
	configure(t, f, fileDest(path, &v1alpha1.AuditRotation{MaxSize: "1MiB", MaxBackups: &maxBackups, Compress: &compress}))
	run(t, f)
	appendPadded(t, s, n, pad)
	f.Notify()
	eventually(t, 60*time.Second, "the records are written, every backup compressed", func() bool {
		var plain int
		lines, backups, plain = readRotated(t, path)
		recs := decodeLines(t, lines)
		settled := len(recs) > 0 && recs[len(recs)-1].Seq == int64(n) && plain == 0 &&
			(maxBackups == 0 || backups <= maxBackups)
		again, backupsAgain, _ := readRotated(t, path) // lumberjack's goroutine is done
		return settled && again == lines && backupsAgain == backups
	})
	return s, lines, backups
}

// pad48K makes each line about 48 KiB: a 1 MiB file holds about 21.
const pad48K = 48 << 10

func TestFileRotatesAndCompresses(t *testing.T) {
	s, lines, backups := rotationCase(t, 120, pad48K, 0)
	if backups < 3 {
		t.Fatalf("%d backups, want several (about 5)", backups)
	}
	recs := decodeLines(t, lines)
	if got := seqs(recs); !slices.Equal(got, span(1, 120)) {
		t.Fatalf("backups and file hold %v, want 1..120 in order", got)
	}
	checkChain(t, s, recs)
}

func TestFileKeepsMaxBackups(t *testing.T) {
	_, lines, backups := rotationCase(t, 120, pad48K, 2)
	if backups != 2 {
		t.Fatalf("%d backups, want 2", backups)
	}
	got := seqs(decodeLines(t, lines))
	if len(got) == 0 || got[0] == 1 || !slices.Equal(got, span(got[0], 120)) {
		t.Fatalf("backups and file hold %v, want the newest records, a run ending at 120 (the oldest removed)", got)
	}
}

// limits are lumberjack's: MaxSize (MiB), MaxAge (days), MaxBackups,
// Compress.
type limits struct {
	size, age, backups int
	compress           bool
}

func TestRotationLimits(t *testing.T) {
	intp := func(n int) *int { return &n }
	yes := true
	tests := []struct {
		name string
		rot  *v1alpha1.AuditRotation
		// want are lumberjack's limits: MiB, days, backups, compress.
		want limits
	}{
		{"none: lumberjack's defaults", nil, limits{}},
		{"a byte rounds up to 1 MiB", &v1alpha1.AuditRotation{MaxSize: "1B"}, limits{size: 1}},
		{"1MB is under 1 MiB", &v1alpha1.AuditRotation{MaxSize: "1MB"}, limits{size: 1}},
		{"1 MiB exactly", &v1alpha1.AuditRotation{MaxSize: "1MiB"}, limits{size: 1}},
		{"a byte over 1 MiB", &v1alpha1.AuditRotation{MaxSize: "1048577B"}, limits{size: 2}},
		{"100MB", &v1alpha1.AuditRotation{MaxSize: "100MB"}, limits{size: 96}},
		{"days", &v1alpha1.AuditRotation{MaxAge: "30d"}, limits{age: 30}},
		{"an hour rounds up to a day", &v1alpha1.AuditRotation{MaxAge: "1h"}, limits{age: 1}},
		{"years", &v1alpha1.AuditRotation{MaxAge: "1y"}, limits{age: 365}},
		{"backups and compression", &v1alpha1.AuditRotation{MaxBackups: intp(7), Compress: &yes},
			limits{backups: 7, compress: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var lj lumberjack.Logger
			if err := applyRotation(&lj, tc.rot); err != nil {
				t.Fatalf("applyRotation: %v", err)
			}
			got := limits{size: lj.MaxSize, age: lj.MaxAge, backups: lj.MaxBackups, compress: lj.Compress}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
