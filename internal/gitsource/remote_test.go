package gitsource_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/gittest"
)

// openRemote opens a remote, closing it with the test.
func openRemote(t *testing.T, opts gitsource.RemoteOptions) *gitsource.Remote {
	t.Helper()
	r, err := gitsource.OpenRemote(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// fetch fetches and checks that the head is want.
func fetch(t *testing.T, r *gitsource.Remote, want string) {
	t.Helper()
	got, err := r.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash != want {
		t.Fatalf("Fetch = %s, want %s", got.Hash, want)
	}
	tracking, err := r.Repo().Resolve("origin/main")
	if err != nil || tracking.Hash != want {
		t.Fatalf("origin/main = %s, %v; want %s", tracking.Hash, err, want)
	}
}

// packs counts the pack files of the clone at dir.
func packs(t *testing.T, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

func upstream(t *testing.T) (*gittest.Repo, string) {
	t.Helper()
	g := gittest.New(t)
	g.Write("apps/a.yaml", "a: 1\n")
	return g, g.Commit("first")
}

func TestRemoteLocal(t *testing.T) {
	tests := []struct {
		name string
		url  func(path string) string
	}{
		{name: "path", url: func(p string) string { return p }},
		{name: "file URL", url: func(p string) string { return "file://" + p }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, first := upstream(t)
			dir := filepath.Join(t.TempDir(), "clones", "cache")
			r := openRemote(t, gitsource.RemoteOptions{URL: tt.url(g.Path()), Branch: "main", Dir: dir})
			fetch(t, r, first)
			g.Write("apps/a.yaml", "a: 2\n")
			second := g.Commit("second")
			fetch(t, r, second)
			tree, err := r.Repo().Tree(second)
			if err != nil {
				t.Fatal(err)
			}
			if b, err := fs.ReadFile(tree, "apps/a.yaml"); err != nil || string(b) != "a: 2\n" {
				t.Fatalf("apps/a.yaml = %q, %v", b, err)
			}
			got, _, err := r.Repo().Commits(context.Background(), first, second, gitsource.HistoryOptions{})
			if err != nil || len(got) != 1 || got[0].Hash != second {
				t.Fatalf("Commits = %v, %v", hashes(got), err)
			}
		})
	}
}

// A second OpenRemote on the same Dir finds the objects of the first and
// fetches nothing new when nothing changed.
func TestRemoteReusesClone(t *testing.T) {
	g, first := upstream(t)
	dir := t.TempDir()
	opts := gitsource.RemoteOptions{URL: g.Path(), Branch: "main", Dir: dir}
	r, err := gitsource.OpenRemote(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	fetch(t, r, first)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	before := packs(t, dir)

	again := openRemote(t, opts)
	if c, err := again.Repo().Resolve("origin/main"); err != nil || c.Hash != first {
		t.Fatalf("before fetching, reopened origin/main = %s, %v; want %s", c.Hash, err, first)
	}
	fetch(t, again, first)
	if after := packs(t, dir); after != before || before == 0 {
		t.Fatalf("pack files: %d before, %d after a fetch with nothing new", before, after)
	}
}

func TestRemoteURLChange(t *testing.T) {
	g1, first := upstream(t)
	g2 := gittest.New(t)
	g2.Write("other.txt", "other")
	other := g2.Commit("other repository")
	dir := t.TempDir()
	r1, err := gitsource.OpenRemote(context.Background(), gitsource.RemoteOptions{URL: g1.Path(), Branch: "main", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	fetch(t, r1, first)
	r1.Close()
	r2 := openRemote(t, gitsource.RemoteOptions{URL: g2.Path(), Branch: "main", Dir: dir})
	fetch(t, r2, other)
	if got := gitCmd(t, dir, "config", "remote.origin.url"); got != g2.Path() {
		t.Fatalf("remote.origin.url = %q, want %q", got, g2.Path())
	}
}

// A force push is seen by the next fetch; the old head stays readable and
// Commits reports the rewrite.
func TestRemoteForcePush(t *testing.T) {
	g, first := upstream(t)
	g.Write("apps/b.yaml", "b\n")
	oldHead := g.Commit("to be rewritten")
	r := openRemote(t, gitsource.RemoteOptions{URL: g.Path(), Branch: "main", Dir: t.TempDir()})
	fetch(t, r, oldHead)
	g.ResetHard(first)
	g.Write("apps/c.yaml", "c\n")
	newHead := g.Commit("rewritten")
	g.Git("reflog", "expire", "--expire=now", "--all")
	g.Git("gc", "-q", "--prune=now")
	fetch(t, r, newHead)

	if _, err := r.Repo().Tree(oldHead); err != nil {
		t.Fatalf("old head unreadable after the force push: %v", err)
	}
	_, _, err := r.Repo().Commits(context.Background(), oldHead, newHead, gitsource.HistoryOptions{})
	var re *gitsource.RewrittenError
	if !errors.As(err, &re) || re.MergeBase != first {
		t.Fatalf("Commits(old, new) = %v, want a *RewrittenError with merge base %s", err, first)
	}
}

func TestRemoteNotFound(t *testing.T) {
	g, _ := upstream(t)
	tests := []struct {
		name        string
		url, branch string
	}{
		{name: "no such branch", url: g.Path(), branch: "nope"},
		{name: "no such repository", url: filepath.Join(t.TempDir(), "missing"), branch: "main"},
		{name: "empty repository", url: gittest.New(t).Path(), branch: "main"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openRemote(t, gitsource.RemoteOptions{URL: tt.url, Branch: tt.branch, Dir: t.TempDir()})
			_, err := r.Fetch(context.Background())
			var fe *gitsource.FetchError
			if !errors.Is(err, gitsource.ErrNotFound) || !errors.As(err, &fe) || fe.Branch != tt.branch {
				t.Fatalf("Fetch = %v, want a *FetchError wrapping ErrNotFound", err)
			}
		})
	}
}

func TestRemoteHTTP(t *testing.T) {
	const user, pass, token = "alice", "s3cret-Pa55", "tok-9f8e7d6c"
	tests := []struct {
		name       string
		serverUser string // the user the server demands ("" for none)
		serverPass string
		auth       gitsource.Auth
		wantAuth   bool // whether the fetch fails with ErrAuth
	}{
		{name: "anonymous", auth: gitsource.Auth{}},
		{name: "password", serverUser: user, serverPass: pass,
			auth: gitsource.Auth{Username: user, Password: pass}},
		{name: "token", serverUser: "x-access-token", serverPass: token,
			auth: gitsource.Auth{Token: token}},
		{name: "token with user", serverUser: user, serverPass: token,
			auth: gitsource.Auth{Username: user, Token: token}},
		{name: "wrong password", serverUser: user, serverPass: "right-one",
			auth: gitsource.Auth{Username: user, Password: pass}, wantAuth: true},
		{name: "wrong token", serverUser: "x-access-token", serverPass: "right-one",
			auth: gitsource.Auth{Token: token}, wantAuth: true},
		{name: "no credentials", serverUser: user, serverPass: pass, wantAuth: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, head := upstream(t)
			srv := httpGitServer(t, g.Path(), tt.serverUser, tt.serverPass)
			r := openRemote(t, gitsource.RemoteOptions{URL: srv.URL + "/repo.git", Branch: "main",
				Dir: t.TempDir(), Auth: tt.auth})
			got, err := r.Fetch(context.Background())
			if !tt.wantAuth {
				if err != nil || got.Hash != head {
					t.Fatalf("Fetch = %s, %v; want %s", got.Hash, err, head)
				}
				return
			}
			if !errors.Is(err, gitsource.ErrAuth) {
				t.Fatalf("Fetch = %v, want ErrAuth", err)
			}
			for _, secret := range []string{pass, token} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q shows a secret", err)
				}
			}
		})
	}
}

// Credentials in the URL are used, and shown neither in errors nor logs.
func TestRemoteHTTPCredentialsInURL(t *testing.T) {
	g, head := upstream(t)
	srv := httpGitServer(t, g.Path(), "bob", "url-Secret-1")
	host := strings.TrimPrefix(srv.URL, "http://")
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))

	good := openRemote(t, gitsource.RemoteOptions{URL: "http://bob:url-Secret-1@" + host + "/repo.git",
		Branch: "main", Dir: t.TempDir(), Logger: log})
	if c, err := good.Fetch(context.Background()); err != nil || c.Hash != head {
		t.Fatalf("Fetch = %s, %v", c.Hash, err)
	}
	bad := openRemote(t, gitsource.RemoteOptions{URL: "http://bob:wrong-Secret-2@" + host + "/repo.git",
		Branch: "main", Dir: t.TempDir(), Logger: log})
	_, err := bad.Fetch(context.Background())
	if !errors.Is(err, gitsource.ErrAuth) {
		t.Fatalf("Fetch = %v, want ErrAuth", err)
	}
	var fe *gitsource.FetchError
	if !errors.As(err, &fe) || fe.URL != "http://"+host+"/repo.git" {
		t.Fatalf("error %v does not name the URL without credentials", err)
	}
	for _, s := range []string{"url-Secret-1", "wrong-Secret-2"} {
		if strings.Contains(err.Error(), s) || strings.Contains(logs.String(), s) {
			t.Fatalf("a secret shows: error %q, logs %q", err, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "fetched") {
		t.Fatalf("no log line for the fetch: %q", logs.String())
	}
}

func TestRemoteSSH(t *testing.T) {
	clientSigner, clientPEM := newSSHKey(t)
	_, strangerPEM := newSSHKey(t)
	otherHost, _ := newSSHKey(t)
	g, head := upstream(t)
	srv := newSSHGitServer(t, g.Path(), clientSigner.PublicKey())
	good := knownHostsLine(srv.Addr, srv.HostKey)
	port := srv.Addr[strings.LastIndex(srv.Addr, ":")+1:]

	tests := []struct {
		name       string
		url        string
		key        []byte
		knownHosts []byte
		wantErr    error // nil for success
		errHas     string
	}{
		{name: "ssh URL", url: "ssh://git@" + srv.Addr + "/srv/repo.git", key: clientPEM, knownHosts: good},
		// scp-like addresses have no port in git; go-git reads host:port:path.
		{name: "scp-like URL", url: "git@127.0.0.1:" + port + ":srv/repo.git", key: clientPEM, knownHosts: good},
		{name: "host key mismatch", url: "ssh://git@" + srv.Addr + "/srv/repo.git", key: clientPEM,
			knownHosts: knownHostsLine(srv.Addr, otherHost.PublicKey()), wantErr: gitsource.ErrHostKey,
			errHas: "127.0.0.1"},
		{name: "unknown host", url: "ssh://git@" + srv.Addr + "/srv/repo.git", key: clientPEM,
			knownHosts: knownHostsLine("192.0.2.1:22", srv.HostKey), wantErr: gitsource.ErrHostKey,
			errHas: "127.0.0.1"},
		{name: "key not authorised", url: "ssh://git@" + srv.Addr + "/srv/repo.git", key: strangerPEM,
			knownHosts: good, wantErr: gitsource.ErrAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openRemote(t, gitsource.RemoteOptions{URL: tt.url, Branch: "main", Dir: t.TempDir(),
				Auth: gitsource.Auth{SSHKey: tt.key, KnownHosts: tt.knownHosts}})
			got, err := r.Fetch(context.Background())
			if tt.wantErr == nil {
				if err != nil || got.Hash != head {
					t.Fatalf("Fetch = %s, %v; want %s", got.Hash, err, head)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("Fetch = %v, want %v naming %q", err, tt.wantErr, tt.errHas)
			}
		})
	}
}

// Without known_hosts, nothing connects.
func TestRemoteSSHNeedsKnownHosts(t *testing.T) {
	clientSigner, clientPEM := newSSHKey(t)
	g, _ := upstream(t)
	srv := newSSHGitServer(t, g.Path(), clientSigner.PublicKey())
	_, err := gitsource.OpenRemote(context.Background(), gitsource.RemoteOptions{
		URL: "ssh://git@" + srv.Addr + "/srv/repo.git", Branch: "main", Dir: t.TempDir(),
		Auth: gitsource.Auth{SSHKey: clientPEM}})
	if !errors.Is(err, gitsource.ErrHostKey) {
		t.Fatalf("OpenRemote without known_hosts = %v, want ErrHostKey", err)
	}
	if n := srv.Connections.Load(); n != 0 {
		t.Fatalf("%d connections to the server, want none", n)
	}
}

// A fetch from a server that never answers returns soon after the
// context ends, with the context's error.
func TestFetchCanceled(t *testing.T) {
	srv := hangingServer(t)
	r := openRemote(t, gitsource.RemoteOptions{URL: srv.URL + "/repo.git", Branch: "main", Dir: t.TempDir()})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Fetch(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Fetch = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Fetch returned after %v", d)
	}
}

// Readers of the clone run while fetches write to it (run with -race).
func TestFetchWhileReading(t *testing.T) {
	g, first := upstream(t)
	r := openRemote(t, gitsource.RemoteOptions{URL: g.Path(), Branch: "main", Dir: t.TempDir()})
	fetch(t, r, first)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := readClone(r.Repo(), first); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var last string
	for i := range 5 {
		g.Write(fmt.Sprintf("apps/n%d.yaml", i), "n\n")
		last = g.Commit(fmt.Sprintf("change %d", i))
		if _, err := r.Fetch(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	fetch(t, r, last)
}

func readClone(repo *gitsource.Repo, first string) error {
	head, err := repo.Resolve("origin/main")
	if err != nil {
		return err
	}
	tree, err := repo.Tree(head.Hash)
	if err != nil {
		return err
	}
	if _, err := fs.ReadFile(tree, "apps/a.yaml"); err != nil {
		return err
	}
	_, _, err = repo.Commits(context.Background(), first, head.Hash, gitsource.HistoryOptions{})
	return err
}

func TestOpenRemoteRefuses(t *testing.T) {
	_, key := newSSHKey(t)
	notRepo := t.TempDir()
	writeFiles(t, notRepo, map[string]string{"file": "x"})
	tests := []struct {
		name    string
		opts    gitsource.RemoteOptions
		errHas  string
		wantErr error // a sentinel the error wraps, or nil
	}{
		{name: "no URL", opts: gitsource.RemoteOptions{Branch: "main", Dir: t.TempDir()}, errHas: "no URL"},
		{name: "no branch", opts: gitsource.RemoteOptions{URL: "/x", Dir: t.TempDir()}, errHas: "no Branch"},
		{name: "bad branch", opts: gitsource.RemoteOptions{URL: "/x", Branch: "a..b", Dir: t.TempDir()},
			errHas: "not a valid branch name"},
		{name: "no dir", opts: gitsource.RemoteOptions{URL: "/x", Branch: "main"}, errHas: "no Dir"},
		{name: "dir holds other files", opts: gitsource.RemoteOptions{URL: "/x", Branch: "main", Dir: notRepo},
			errHas: "neither empty nor a Git repository"},
		{name: "password and token", opts: gitsource.RemoteOptions{URL: "https://h/r.git", Branch: "main",
			Dir: t.TempDir(), Auth: gitsource.Auth{Password: "p1-secret", Token: "t1-secret"}}, errHas: "not both"},
		{name: "SSH key for HTTPS", opts: gitsource.RemoteOptions{URL: "https://h/r.git", Branch: "main",
			Dir: t.TempDir(), Auth: gitsource.Auth{SSHKey: key}}, errHas: "SSH credentials"},
		{name: "password for SSH", opts: gitsource.RemoteOptions{URL: "ssh://git@h/r.git", Branch: "main",
			Dir: t.TempDir(), Auth: gitsource.Auth{Password: "p2-secret"}}, errHas: "HTTP credentials"},
		{name: "SSH without key", opts: gitsource.RemoteOptions{URL: "git@h:r/r.git", Branch: "main",
			Dir: t.TempDir(), Auth: gitsource.Auth{KnownHosts: []byte("h ssh-ed25519 AAAA\n")}},
			errHas: "without Auth.SSHKey", wantErr: gitsource.ErrAuth},
		{name: "SSH key unreadable", opts: gitsource.RemoteOptions{URL: "git@h:r/r.git", Branch: "main",
			Dir: t.TempDir(), Auth: gitsource.Auth{SSHKey: []byte("junk"), KnownHosts: []byte("x")}},
			errHas: "not a usable private key", wantErr: gitsource.ErrAuth},
		{name: "credentials for a local path", opts: gitsource.RemoteOptions{URL: "/x", Branch: "main",
			Dir: t.TempDir(), Auth: gitsource.Auth{Token: "t2-secret"}}, errHas: "takes none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := gitsource.OpenRemote(context.Background(), tt.opts)
			if err == nil {
				r.Close()
				t.Fatal("OpenRemote succeeded")
			}
			if !strings.Contains(err.Error(), tt.errHas) || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("OpenRemote = %v, want an error with %q (wrapping %v)", err, tt.errHas, tt.wantErr)
			}
			if strings.Contains(err.Error(), "-secret") {
				t.Fatalf("error %q shows a secret", err)
			}
		})
	}
}

// An encrypted SSH key needs its passphrase, and a wrong one is an
// authentication error that does not show the passphrase.
func TestOpenRemoteEncryptedKey(t *testing.T) {
	signer, _ := newSSHKey(t)
	encrypted := encryptedKey(t, "right-Phrase")
	known := knownHostsLine("127.0.0.1:22", signer.PublicKey())
	tests := []struct {
		name       string
		passphrase string
		ok         bool
	}{
		{name: "right passphrase", passphrase: "right-Phrase", ok: true},
		{name: "wrong passphrase", passphrase: "wrong-Phrase"},
		{name: "no passphrase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := gitsource.OpenRemote(context.Background(), gitsource.RemoteOptions{
				URL: "ssh://git@127.0.0.1/r.git", Branch: "main", Dir: t.TempDir(),
				Auth: gitsource.Auth{SSHKey: encrypted, SSHKeyPassphrase: tt.passphrase, KnownHosts: known}})
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				r.Close()
				return
			}
			if !errors.Is(err, gitsource.ErrAuth) || strings.Contains(err.Error(), "Phrase") {
				t.Fatalf("OpenRemote = %v, want ErrAuth without the passphrase", err)
			}
		})
	}
}

func TestAuthIsNotPrinted(t *testing.T) {
	a := gitsource.Auth{Username: "u", Password: "pw-secret", Token: "tok-secret",
		SSHKey: []byte("key-secret"), SSHKeyPassphrase: "phrase-secret"}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("auth", "auth", a)
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%+v", a), fmt.Sprintf("%#v", a), logs.String()} {
		if strings.Contains(s, "secret") || !strings.Contains(s, "Password") {
			t.Fatalf("printed Auth = %q: want the fields set named, no values", s)
		}
	}
}

// TestRemoteRepairsEmptyRefs: a process killed while go-git wrote a
// reference leaves it empty; the clone still opens and fetches.
func TestRemoteRepairsEmptyRefs(t *testing.T) {
	g, first := upstream(t)
	dir := t.TempDir()
	opts := gitsource.RemoteOptions{URL: g.Path(), Branch: "main", Dir: dir}
	r := openRemote(t, opts)
	fetch(t, r, first)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"refs/remotes/origin/main", "refs/cairn/fetch/main"} {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(ref)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	again := openRemote(t, opts)
	fetch(t, again, first)
	if c, err := again.Repo().Resolve("origin/main"); err != nil || c.Hash != first {
		t.Fatalf("after the repair, origin/main = %s, %v; want %s", c.Hash, err, first)
	}
}

// TestFetchPullRequest: a pull request's head, published by the host as
// refs/pull/N/head, is fetched beside the branch, which does not move.
func TestFetchPullRequest(t *testing.T) {
	g, first := upstream(t)
	g.Git("checkout", "-q", "-b", "feature")
	g.Write("apps/a.yaml", "a: 2\n")
	prHead := g.Commit("change a")
	g.Git("update-ref", "refs/pull/7/head", prHead)
	g.Git("checkout", "-q", "main")
	r := openRemote(t, gitsource.RemoteOptions{URL: g.Path(), Branch: "main", Dir: t.TempDir()})
	fetch(t, r, first)
	c, err := r.FetchPullRequest(context.Background(), 7)
	if err != nil || c.Hash != prHead {
		t.Fatalf("FetchPullRequest(7) = %s, %v; want %s", c.Hash, err, prHead)
	}
	if got, err := r.Repo().Resolve("refs/cairn/pull/7"); err != nil || got.Hash != prHead {
		t.Errorf("refs/cairn/pull/7 = %s, %v", got.Hash, err)
	}
	if got, err := r.Repo().Resolve("origin/main"); err != nil || got.Hash != first {
		t.Errorf("the branch moved: origin/main = %s, %v", got.Hash, err)
	}
	_, err = r.FetchPullRequest(context.Background(), 8)
	if !errors.Is(err, gitsource.ErrNotFound) {
		t.Errorf("FetchPullRequest(8) of no such pull request: %v, want ErrNotFound", err)
	}
}

// TestRemoteReplacesADamagedClone: a clone whose pack index a killed
// process left truncated cannot be fetched into; the fetch sets it aside,
// fetches into a new clone and goes on.
func TestRemoteReplacesADamagedClone(t *testing.T) {
	g, first := upstream(t)
	dir := t.TempDir()
	opts := gitsource.RemoteOptions{URL: g.Path(), Branch: "main", Dir: dir}
	r := openRemote(t, opts)
	fetch(t, r, first)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	idx, err := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.idx"))
	if err != nil || len(idx) == 0 {
		t.Fatalf("no pack index in the clone: %v", err)
	}
	for _, f := range idx {
		if err := os.Truncate(f, 12); err != nil {
			t.Fatal(err)
		}
	}
	g.Write("apps/a.yaml", "a: 3\n")
	second := g.Commit("second")
	again := openRemote(t, opts)
	fetch(t, again, second)
	if got, err := again.Repo().Resolve("origin/main"); err != nil || got.Hash != second {
		t.Fatalf("after the repair, origin/main = %s, %v; want %s", got.Hash, err, second)
	}
	if left, _ := filepath.Glob(dir + ".damaged-*"); len(left) != 0 {
		t.Errorf("the damaged clone was left behind: %v", left)
	}
}
