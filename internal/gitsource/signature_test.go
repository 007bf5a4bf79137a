package gitsource_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/gittest"
)

// pgpEntity generates an Ed25519 OpenPGP key and returns it with its
// armored public key ring.
func pgpEntity(t *testing.T, name string) (*openpgp.Entity, string) {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", strings.ToLower(name)+"@example.com",
		&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return e, b.String()
}

// signedCommit commits a change in g with go-git, signed by key.
func signedCommit(t *testing.T, g *gittest.Repo, key *openpgp.Entity) string {
	t.Helper()
	g.Write("signed.txt", "signed")
	r, err := git.PlainOpen(g.Path())
	if err != nil {
		t.Fatal(err)
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add("signed.txt"); err != nil {
		t.Fatal(err)
	}
	who := &object.Signature{Name: "Signer", Email: "signer@example.com", When: time.Unix(1_700_000_000, 0)}
	h, err := wt.Commit("signed", &git.CommitOptions{Author: who, Committer: who, SignKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// sshSignedCommit writes a commit on top of HEAD whose signature header is
// an SSH signature (not a valid one: only its kind is read) and moves main
// to it.
func sshSignedCommit(t *testing.T, g *gittest.Repo) string {
	t.Helper()
	obj := "tree " + g.Git("rev-parse", "HEAD^{tree}") + "\n" +
		"parent " + g.Head() + "\n" +
		"author A <a@example.com> 1700000000 +0000\n" +
		"committer A <a@example.com> 1700000000 +0000\n" +
		"gpgsig -----BEGIN SSH SIGNATURE-----\n U1NIU0lH\n -----END SSH SIGNATURE-----\n" +
		"\nssh signed\n"
	file := filepath.Join(t.TempDir(), "commit")
	if err := os.WriteFile(file, []byte(obj), 0o644); err != nil {
		t.Fatal(err)
	}
	h := g.Git("hash-object", "-t", "commit", "-w", file)
	g.Git("update-ref", "refs/heads/main", h)
	return h
}

func TestCommitsSignatures(t *testing.T) {
	signer, signerRing := pgpEntity(t, "Signer")
	_, otherRing := pgpEntity(t, "Other")
	g := gittest.New(t)
	unsigned := g.Commit("unsigned")
	signed := signedCommit(t, g, signer)
	sshSigned := sshSignedCommit(t, g)
	repo := open(t, g)

	tests := []struct {
		name    string
		commit  string
		keyring string // HistoryOptions.PGPKeyRing
		want    gitsource.SignatureInfo
		problem bool // whether Problem is set
	}{
		{name: "unsigned", commit: unsigned, keyring: signerRing, want: gitsource.SignatureInfo{}},
		{name: "pgp verified", commit: signed, keyring: signerRing,
			want: gitsource.SignatureInfo{Kind: "pgp", Verified: true, Signer: "Signer <signer@example.com>"}},
		{name: "pgp, other key", commit: signed, keyring: otherRing,
			want: gitsource.SignatureInfo{Kind: "pgp"}, problem: true},
		{name: "pgp, no key ring", commit: signed, want: gitsource.SignatureInfo{Kind: "pgp"}},
		{name: "ssh is not verified", commit: sshSigned, keyring: signerRing,
			want: gitsource.SignatureInfo{Kind: "ssh"}, problem: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := repo.Commits(context.Background(), "", tt.commit,
				gitsource.HistoryOptions{PGPKeyRing: tt.keyring})
			if err != nil {
				t.Fatal(err)
			}
			sig := got[0].Signature
			if (sig.Problem != "") != tt.problem {
				t.Fatalf("Problem = %q, want one: %v", sig.Problem, tt.problem)
			}
			sig.Problem = ""
			if sig != tt.want {
				t.Fatalf("Signature = %+v, want %+v", sig, tt.want)
			}
		})
	}
}

func TestCommitsBadKeyRing(t *testing.T) {
	g := gittest.New(t)
	c := g.Commit("one")
	repo := open(t, g)
	_, _, err := repo.Commits(context.Background(), "", c, gitsource.HistoryOptions{PGPKeyRing: "not a key ring"})
	if err == nil || !strings.Contains(err.Error(), "PGP key ring") {
		t.Fatalf("Commits with a bad key ring = %v, want an error naming the key ring", err)
	}
}
