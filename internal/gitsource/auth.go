package gitsource

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// ErrAuth means the server refused the credentials (or asked for some and
// none were given), or the credentials themselves are unusable. Retrying
// with the same credentials cannot help. Test with errors.Is.
var ErrAuth = errors.New("authentication failed")

// ErrHostKey means an SSH server's host key is not in Auth.KnownHosts, does
// not match the key recorded there, or no known_hosts was given at all.
// Retrying cannot help until known_hosts changes. Test with errors.Is.
var ErrHostKey = errors.New("SSH host key not trusted")

// sshConnectTimeout bounds an SSH connection and handshake when the
// context has no deadline: go-git does not cancel them with the context.
const sshConnectTimeout = 30 * time.Second

// Auth holds the credentials of a remote. Set the fields of one kind only:
// HTTP(S) (Username, Password, Token) or SSH (SSHKey, KnownHosts, ...).
// Credentials never appear in errors or logs; printing an Auth shows which
// fields are set, not their values.
type Auth struct {
	// Username and Password are HTTP(S) basic authentication.
	Username, Password string
	// Token is an HTTP(S) access token, sent as the password of basic
	// authentication with the user name "x-access-token" unless Username is
	// set (GitHub and most servers accept this). Set Password or Token, not
	// both.
	Token string
	// SSHKey is a PEM private key, required for SSH remotes;
	// SSHKeyPassphrase decrypts it when it is encrypted.
	SSHKey           []byte
	SSHKeyPassphrase string
	// KnownHosts is the contents of a known_hosts file, required for SSH
	// remotes: the server's host key must be in it.
	KnownHosts []byte
	// SSHUser is the SSH login; when empty, the URL's user, else "git".
	SSHUser string
}

// String names the fields that are set, never their values.
func (a Auth) String() string {
	var set []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"Username", a.Username != ""}, {"Password", a.Password != ""}, {"Token", a.Token != ""},
		{"SSHKey", len(a.SSHKey) > 0}, {"SSHKeyPassphrase", a.SSHKeyPassphrase != ""},
		{"KnownHosts", len(a.KnownHosts) > 0}, {"SSHUser", a.SSHUser != ""},
	} {
		if f.set {
			set = append(set, f.name)
		}
	}
	return "Auth{" + strings.Join(set, ",") + "}"
}

// GoString is String, so that %#v does not print credentials either.
func (a Auth) GoString() string { return a.String() }

// LogValue is String, so that slog does not print credentials either.
func (a Auth) LogValue() slog.Value { return slog.StringValue(a.String()) }

func (a Auth) hasHTTP() bool { return a.Username != "" || a.Password != "" || a.Token != "" }

func (a Auth) hasSSH() bool {
	return len(a.SSHKey) > 0 || a.SSHKeyPassphrase != "" || len(a.KnownHosts) > 0 || a.SSHUser != ""
}

// secrets are the strings that must never appear in an error or a log.
func (a Auth) secrets() []string {
	var s []string
	for _, v := range []string{a.Password, a.Token, a.SSHKeyPassphrase} {
		if v != "" {
			s = append(s, v)
		}
	}
	return s
}

// httpAuth turns the HTTP(S) fields into go-git's basic authentication,
// nil when none is set.
func httpAuth(a Auth) (*githttp.BasicAuth, error) {
	switch {
	case a.hasSSH():
		return nil, errors.New("SSH credentials given for an HTTP(S) remote")
	case a.Token != "" && a.Password != "":
		return nil, errors.New("set Auth.Password or Auth.Token, not both")
	case a.Token != "":
		user := a.Username
		if user == "" {
			user = "x-access-token"
		}
		return &githttp.BasicAuth{Username: user, Password: a.Token}, nil
	case a.Username != "" || a.Password != "":
		return &githttp.BasicAuth{Username: a.Username, Password: a.Password}, nil
	}
	return nil, nil
}

// sshAuth is what an SSH fetch needs, checked once when the remote is
// opened: the parsed key and known_hosts, and the address whose host key
// is checked.
type sshAuth struct {
	user   string
	signer ssh.Signer
	hosts  *knownhosts.HostKeyDB
	addr   string // host:port
}

func newSSHAuth(a Auth, ep *transport.Endpoint) (*sshAuth, error) {
	if a.hasHTTP() {
		return nil, errors.New("HTTP credentials given for an SSH remote")
	}
	if len(a.KnownHosts) == 0 {
		return nil, fmt.Errorf("SSH remote without Auth.KnownHosts: %w", ErrHostKey)
	}
	if len(a.SSHKey) == 0 {
		return nil, fmt.Errorf("SSH remote without Auth.SSHKey: %w", ErrAuth)
	}
	signer, err := parseKey(a.SSHKey, a.SSHKeyPassphrase)
	if err != nil {
		return nil, err
	}
	hosts, err := parseKnownHosts(a.KnownHosts)
	if err != nil {
		return nil, err
	}
	port := ep.Port
	if port <= 0 {
		port = gitssh.DefaultPort
	}
	user := a.SSHUser
	if user == "" {
		user = ep.User
	}
	if user == "" {
		user = "git"
	}
	return &sshAuth{user: user, signer: signer, hosts: hosts,
		addr: net.JoinHostPort(ep.Host, strconv.Itoa(port))}, nil
}

// parseKey reads a PEM private key. Its errors say nothing of the key or
// the passphrase.
func parseKey(pem []byte, passphrase string) (ssh.Signer, error) {
	signer, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if passphrase == "" {
			return nil, fmt.Errorf("Auth.SSHKey is encrypted and Auth.SSHKeyPassphrase is empty: %w", ErrAuth)
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(pem, []byte(passphrase))
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, fmt.Errorf("Auth.SSHKeyPassphrase does not decrypt Auth.SSHKey: %w", ErrAuth)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("Auth.SSHKey is not a usable private key: %w", ErrAuth)
	}
	return signer, nil
}

// parseKnownHosts reads known_hosts contents. The library reads only
// files, so they go through a temporary file that is removed at once.
func parseKnownHosts(b []byte) (*knownhosts.HostKeyDB, error) {
	f, err := os.CreateTemp("", "cairn-known-hosts-*")
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(b)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("known_hosts: %w", werr)
	}
	db, err := knownhosts.NewDB(f.Name())
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), f.Name(), "Auth.KnownHosts")
		return nil, fmt.Errorf("%s: %w", msg, ErrHostKey)
	}
	return db, nil
}

// method is the go-git authentication of one fetch: it records why the
// host key was refused, since go-git's error does not keep that.
func (s *sshAuth) method(timeout time.Duration) *sshMethod {
	return &sshMethod{auth: s, timeout: timeout}
}

type sshMethod struct {
	auth    *sshAuth
	timeout time.Duration

	mu         sync.Mutex
	hostKeyErr error // set when the host key was refused
}

var _ gitssh.AuthMethod = (*sshMethod)(nil)

func (m *sshMethod) Name() string   { return gitssh.PublicKeysName }
func (m *sshMethod) String() string { return "user: " + m.auth.user + ", name: " + m.Name() }

// ClientConfig is the SSH client configuration: the key, the host key
// check against known_hosts, and the host key algorithms known_hosts has
// for the host (so that the server is not asked for a key of another type).
func (m *sshMethod) ClientConfig() (*ssh.ClientConfig, error) {
	return &ssh.ClientConfig{
		User:              m.auth.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(m.auth.signer)},
		HostKeyCallback:   m.checkHostKey,
		HostKeyAlgorithms: m.auth.hosts.HostKeyAlgorithms(m.auth.addr),
		Timeout:           m.timeout,
	}, nil
}

func (m *sshMethod) checkHostKey(hostname string, remote net.Addr, key ssh.PublicKey) error {
	err := m.auth.hosts.HostKeyCallback()(hostname, remote, key)
	if err == nil {
		return nil
	}
	var why string
	switch {
	case knownhosts.IsHostUnknown(err):
		why = "is not in known_hosts"
	case knownhosts.IsHostKeyChanged(err):
		why = "does not match known_hosts"
	default:
		why = "was refused: " + err.Error()
	}
	herr := fmt.Errorf("host key of %s (%s) %s: %w", hostname, ssh.FingerprintSHA256(key), why, ErrHostKey)
	m.mu.Lock()
	m.hostKeyErr = herr
	m.mu.Unlock()
	return herr
}

func (m *sshMethod) refusedHostKey() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hostKeyErr
}

// userinfo matches the user (and password) part of a URL.
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\s]*@`)

// redactURL removes user information from a URL ("https://u:p@h/x" becomes
// "https://h/x"). An scp-like address (git@host:path) has no password and
// is kept.
func redactURL(u string) string { return userinfo.ReplaceAllString(u, "$1") }

// redact removes the secrets and every URL's user information from msg.
func redact(msg string, secrets []string) string {
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "[redacted]")
	}
	return redactURL(msg)
}
