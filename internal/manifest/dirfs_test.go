package manifest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-gitops/cairn/internal/diag"
)

// write creates files under dir, making parent directories.
func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDirFSReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"a.json": "12345", "big.json": strings.Repeat("x", 10000)})
	if err := os.Symlink("a.json", filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	fsys := DirFS(dir).(limitedReadFS)
	if b, err := fsys.readFileLimit("a.json", 5); err != nil || string(b) != "12345" {
		t.Errorf("a.json: %q, %v", b, err)
	}
	if _, err := fsys.readFileLimit("big.json", 9999); err != errTooLarge {
		t.Errorf("big.json over the limit: %v", err)
	}
	if b, err := fsys.readFileLimit("big.json", 10000); err != nil || len(b) != 10000 {
		t.Errorf("big.json at the limit: %d bytes, %v", len(b), err)
	}
	if _, err := fsys.readFileLimit("link.json", 100); err == nil {
		t.Error("a symbolic link must not be followed")
	}
	if _, err := fsys.readFileLimit("../a.json", 100); err == nil {
		t.Error("a path leaving the root must be refused")
	}
}

func TestJsonnetImportThroughLinkedDirectory(t *testing.T) {
	outside := t.TempDir()
	write(t, outside, map[string]string{"secret.libsonnet": "{ password: 's3cr3t-outside' }"})
	repo := t.TempDir()
	write(t, repo, map[string]string{"adapters/x.jsonnet": "(import 'secret.libsonnet').password"})
	if err := os.Symlink(outside, filepath.Join(repo, "lib")); err != nil {
		t.Fatal(err)
	}
	e := Entry{Path: "adapters/x.jsonnet", Kind: "Adapter", Format: FormatJsonnet}
	docs, fs := LoadFile(context.Background(), DirFS(repo), e, Options{})
	if len(docs) != 0 || len(fs) != 1 || fs[0].Rule != diag.RuleImportEscape || !strings.Contains(fs[0].Message, "symbolic link") {
		t.Fatalf("want one import-escape finding, got %d docs and %+v", len(docs), fs)
	}
	if strings.Contains(fs[0].Message, "s3cr3t") {
		t.Error("the file outside the repository leaked")
	}
}
