package gitsource_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gliderssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// httpBackend is git's CGI program for the smart HTTP protocol.
const httpBackend = "/usr/lib/git-core/git-http-backend"

// needFile fails the test when a program it needs is missing: the tests
// never skip.
func needFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("this test needs %s (Debian package git): %v", path, err)
	}
}

// httpGitServer serves the repository at repoDir (a worktree) over smart
// HTTP at <URL>/repo.git through git http-backend. When user is not
// empty, it demands basic authentication with user and pass.
func httpGitServer(t *testing.T, repoDir, user, pass string) *httptest.Server {
	t.Helper()
	needFile(t, httpBackend)
	backend := &cgi.Handler{
		Path: httpBackend,
		Env:  []string{"GIT_PROJECT_ROOT=" + repoDir, "GIT_HTTP_EXPORT_ALL=1"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); user != "" && (!ok || u != user || p != pass) {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		// The repository is served as /repo.git; it is the worktree's .git.
		rest, ok := strings.CutPrefix(r.URL.Path, "/repo.git")
		if !ok {
			http.NotFound(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/.git" + rest
		backend.ServeHTTP(w, r2)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// hangingServer accepts requests and never answers until the test ends.
func hangingServer(t *testing.T) *httptest.Server {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs first: unblocks handlers
	return srv
}

// sshGitServer serves the repository at repoDir (a worktree) over SSH:
// any path ending in repo.git runs git-upload-pack on it. Only clientKey
// may log in.
type sshGitServer struct {
	Addr        string        // 127.0.0.1:port
	HostKey     ssh.PublicKey // the server's
	Connections atomic.Int32  // TCP connections accepted
}

func newSSHGitServer(t *testing.T, repoDir string, clientKey ssh.PublicKey) *sshGitServer {
	t.Helper()
	hostSigner, _ := newSSHKey(t)
	s := &sshGitServer{HostKey: hostSigner.PublicKey()}
	srv := &gliderssh.Server{
		Handler: func(sess gliderssh.Session) { serveUploadPack(sess, repoDir) },
		PublicKeyHandler: func(_ gliderssh.Context, key gliderssh.PublicKey) bool {
			return gliderssh.KeysEqual(key, clientKey)
		},
	}
	srv.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go srv.Serve(&countingListener{Listener: ln, n: &s.Connections})
	t.Cleanup(func() { srv.Close() })
	return s
}

func serveUploadPack(sess gliderssh.Session, repoDir string) {
	args := sess.Command()
	if len(args) != 2 || args[0] != "git-upload-pack" || !strings.HasSuffix(args[1], "repo.git") {
		fmt.Fprintf(sess.Stderr(), "unsupported command %q\n", sess.RawCommand())
		sess.Exit(1)
		return
	}
	cmd := exec.Command("git", "upload-pack", repoDir)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = sess, sess, sess.Stderr()
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		sess.Exit(exit.ExitCode())
	case err != nil:
		sess.Exit(1)
	default:
		sess.Exit(0)
	}
}

type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// newSSHKey generates an Ed25519 key: its signer and its PEM encoding.
func newSSHKey(t *testing.T) (ssh.Signer, []byte) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer, pem.EncodeToMemory(block)
}

// knownHostsLine is the known_hosts line for key at addr (host:port).
func knownHostsLine(addr string, key ssh.PublicKey) []byte {
	return []byte(knownhosts.Line([]string{knownhosts.Normalize(addr)}, key) + "\n")
}

// encryptedKey generates an ECDSA key encrypted with passphrase in the
// legacy PEM format, which decrypts fast (the OpenSSH format's bcrypt
// takes seconds under the race detector).
func encryptedKey(t *testing.T, passphrase string) []byte {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 the legacy format is wanted here for its speed.
	block, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", der, []byte(passphrase), x509.PEMCipherAES256) //nolint:staticcheck
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block)
}
