package sqlitestore

import (
	"bufio"
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cairn-gitops/cairn/internal/history"
)

const crashChildEnv = "CAIRN_SQLITESTORE_CRASH_CHILD"

// TestCrashChild is the process TestKilledWriter kills: it appends until
// killed, printing the number of each record once its Append returned.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("run by TestKilledWriter")
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; ; n++ {
		r := history.Record{Event: history.RevisionApplied, Outcome: history.Succeeded, Actor: strconv.Itoa(n)}
		if err := s.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		fmt.Println(n)
	}
}

// TestKilledWriter: a writer killed with SIGKILL in the middle of appending
// leaves a file that opens, verifies, and holds every record whose Append
// had returned.
func TestKilledWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	path := filepath.Join(t.TempDir(), "history.db")
	acked := -1
	for trial := range 5 {
		cmd := osexec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		for i := 0; i < 50+trial*37 && lines.Scan(); i++ {
			if n, err := strconv.Atoi(lines.Text()); err == nil {
				acked = max(acked, n)
			}
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait() //nolint:errcheck // killed on purpose
		if acked < 0 {
			t.Fatalf("trial %d: the writer acknowledged nothing", trial)
		}
		s, err := Open(path)
		if err != nil {
			t.Fatalf("trial %d: reopening after the kill: %v", trial, err)
		}
		v, err := s.Verify(context.Background())
		if err != nil || !v.OK {
			t.Fatalf("trial %d: Verify after the kill = %+v, %v", trial, v, err)
		}
		seen := map[string]bool{}
		if err := s.Scan(context.Background(), 0, func(r history.Stored) error { seen[r.Actor] = true; return nil }); err != nil {
			t.Fatal(err)
		}
		s.Close()
		// Each child counts from 0 again; the last child's acknowledged
		// records must all be there.
		for n := 0; n <= acked; n++ {
			if !seen[strconv.Itoa(n)] {
				t.Fatalf("trial %d: record %d was acknowledged but is missing", trial, n)
			}
		}
		acked = -1
	}
}
