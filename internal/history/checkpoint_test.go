package history

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSignerFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "audit.key")
	if _, err := LoadSigner(path, false); err == nil {
		t.Fatal("LoadSigner of a missing file without create succeeded")
	}
	s, err := LoadSigner(path, true)
	if err != nil {
		t.Fatalf("LoadSigner(create): %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", fi, err)
	}
	again, err := LoadSigner(path, true)
	if err != nil || !again.PublicKey().Equal(s.PublicKey()) {
		t.Fatalf("LoadSigner of the created file = %v; want the same key", err)
	}
	pub, err := PublicKeyPEM(s.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	pubPath := filepath.Join(dir, "audit.pub")
	if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{pubPath, path} {
		k, err := LoadPublicKey(p)
		if err != nil || !k.Equal(s.PublicKey()) {
			t.Errorf("LoadPublicKey(%s) = %v; want the signer's key", filepath.Base(p), err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "junk"), []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSigner(filepath.Join(dir, "junk"), true); err == nil || !strings.Contains(err.Error(), "not PEM") {
		t.Errorf("LoadSigner of junk = %v, want a not-PEM error", err)
	}
}

func TestCheckpointSignature(t *testing.T) {
	s, err := LoadSigner(filepath.Join(t.TempDir(), "k"), true)
	if err != nil {
		t.Fatal(err)
	}
	cp := s.Sign(Checkpoint{First: 1, Seq: 9, Hash: strings.Repeat("ab", 32),
		Before: time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600)), Time: time.Now()})
	if err := cp.Check(s.PublicKey()); err != nil {
		t.Fatalf("Check of a fresh checkpoint: %v", err)
	}
	for name, edit := range map[string]func(*Checkpoint){
		"seq":       func(c *Checkpoint) { c.Seq++ },
		"hash":      func(c *Checkpoint) { c.Hash = strings.Repeat("cd", 32) },
		"first":     func(c *Checkpoint) { c.First = 2 },
		"before":    func(c *Checkpoint) { c.Before = c.Before.Add(time.Second) },
		"signature": func(c *Checkpoint) { c.Signature = "AAAA" },
		"key":       func(c *Checkpoint) { c.Key = "rsa:xyz" },
	} {
		bad := cp
		edit(&bad)
		if err := bad.Check(nil); err == nil {
			t.Errorf("Check passed a checkpoint with its %s edited", name)
		}
	}
	if !strings.HasPrefix(Fingerprint(s.PublicKey()), "SHA256:") {
		t.Errorf("Fingerprint = %s", Fingerprint(s.PublicKey()))
	}
}
