//go:build unix

package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// BinDirEnv names an environment variable that, when set, overrides where
// the server binaries (initdb, postgres, pg_isready, createdb) are looked for.
const BinDirEnv = "CAIRN_PG_BINS"

const (
	startTimeout    = 2 * time.Minute
	stopGrace       = 15 * time.Second
	pollInterval    = 50 * time.Millisecond
	startupAttempts = 3
	superuser       = "postgres"
	systemUser      = "postgres"
	logName         = "postgres.log"
	tailBytes       = 2048
)

// ErrNoBinaries is wrapped by the error Start returns when no PostgreSQL
// server binaries are installed (on Debian: apt-get install postgresql).
var ErrNoBinaries = errors.New("PostgreSQL server binaries not found")

// errPortInUse marks a start that failed because the picked port was taken
// in the meantime; Start then tries another.
var errPortInUse = errors.New("port already in use")

// Options says how Start runs the server.
type Options struct {
	// BinDir holds initdb, postgres, pg_isready and createdb. Empty means
	// $CAIRN_PG_BINS, else the newest /usr/lib/postgresql/*/bin.
	BinDir string
	// Log receives the server's output. Nil keeps it in a file inside the
	// server's folder, whose end start errors quote.
	Log io.Writer
	// Settings are extra server settings (name to value), passed as -c.
	Settings map[string]string
}

// Server is a running PostgreSQL. Its methods are safe for concurrent use.
type Server struct {
	opts    Options
	binDir  string
	dir     string // owned by the system user; holds data/, sock/, postgres.log
	port    int
	cred    *syscall.Credential
	logFile *os.File
	dbs     atomic.Int64

	mu      sync.Mutex // guards proc and stopped; serialises Restart and Stop
	proc    *exec.Cmd
	exited  chan struct{}
	stopped bool
}

// Start initialises a data folder in a new temporary folder and runs the
// server on a free loopback port, returning once it accepts connections.
// ctx bounds the start only (2 minutes when it has no deadline: initdb is
// slow on a busy machine). On error nothing is left running or on disk.
func Start(ctx context.Context, opts Options) (*Server, error) {
	binDir, err := ResolveBinDir(opts.BinDir)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}
	s := &Server{opts: opts, binDir: binDir}
	if err := s.init(ctx); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	for attempt := 1; ; attempt++ {
		s.port, err = freePort()
		if err == nil {
			err = s.run(ctx)
		}
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortInUse) || attempt == startupAttempts || ctx.Err() != nil {
			_ = s.Stop()
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
}

// ResolveBinDir returns the folder of the server binaries: dir when set,
// else $CAIRN_PG_BINS, else the newest /usr/lib/postgresql/*/bin. The error
// wraps ErrNoBinaries when initdb or postgres is missing there.
func ResolveBinDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv(BinDirEnv)
	}
	if dir == "" {
		found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
		sort.Slice(found, func(i, j int) bool { return majorOf(found[i]) > majorOf(found[j]) })
		if len(found) > 0 {
			dir = filepath.Dir(found[0])
		}
	}
	if dir == "" {
		return "", fmt.Errorf("pgtest: %w (looked in /usr/lib/postgresql/*/bin; set %s)", ErrNoBinaries, BinDirEnv)
	}
	for _, name := range []string{"initdb", "postgres", "pg_isready", "createdb"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("pgtest: %w: %w", ErrNoBinaries, err)
		}
	}
	return dir, nil
}

// majorOf is the major version in /usr/lib/postgresql/N/bin/postgres.
func majorOf(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

// init makes the folder, hands it to the system user and runs initdb.
func (s *Server) init(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "cairn-pgtest-")
	if err != nil {
		return err
	}
	s.dir = dir
	if s.cred, err = credential(); err != nil {
		return err
	}
	if err := os.Mkdir(s.sockDir(), 0o700); err != nil {
		return err
	}
	if s.cred != nil {
		for _, p := range []string{dir, s.sockDir()} {
			if err := os.Chown(p, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
				return err
			}
		}
	}
	if s.logFile, err = os.OpenFile(filepath.Join(dir, logName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		return err
	}
	var out bytes.Buffer
	cmd := s.command(ctx, "initdb", "-D", s.dataDir(), "-U", superuser, "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-instructions")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, tail(out.Bytes()))
	}
	return nil
}

// credential is the postgres system user's when running as root (the
// server refuses to run as root), nil otherwise.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(systemUser)
	if err != nil {
		return nil, fmt.Errorf("running as root needs the %s system user: %w", systemUser, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// command runs a server binary as the system user, inside the folder.
func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.binDir, name), args...)
	cmd.Dir = s.dir
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = sysProcAttr()
	cmd.SysProcAttr.Credential = s.cred
	return cmd
}

// run starts postgres on s.port and waits until it accepts connections.
func (s *Server) run(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	args := []string{"-D", s.dataDir(), "-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + s.sockDir(),
		"-c", "fsync=on", "-c", "max_connections=200"}
	for k, v := range s.opts.Settings {
		args = append(args, "-c", k+"="+v)
	}
	start, _ := s.logFile.Seek(0, io.SeekEnd)
	// Not CommandContext: ctx bounds the start, the server outlives it.
	cmd := s.command(context.Background(), "postgres", args...)
	if s.opts.Log != nil {
		cmd.Stdout, cmd.Stderr = s.opts.Log, s.opts.Log
	} else {
		cmd.Stdout, cmd.Stderr = s.logFile, s.logFile
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.proc, s.exited = cmd, exited
	for {
		ready := s.command(ctx, "pg_isready", "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(s.port), "-U", superuser)
		ready.SysProcAttr.Credential = nil
		if ready.Run() == nil {
			return nil
		}
		select {
		case <-exited:
			s.proc = nil
			log := s.logSince(start)
			if strings.Contains(log, "could not bind") || strings.Contains(log, "Address already in use") {
				return fmt.Errorf("postgres on port %d: %w", s.port, errPortInUse)
			}
			return fmt.Errorf("postgres exited during start: %s", log)
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready: %w: %s", ctx.Err(), s.logSince(start))
		case <-time.After(pollInterval):
		}
	}
}

// logSince is the end of the server's log from offset on, when it is kept.
func (s *Server) logSince(offset int64) string {
	if s.opts.Log != nil {
		return "(output went to Options.Log)"
	}
	b, err := os.ReadFile(s.logFile.Name())
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	return tail(b[offset:])
}

func tail(b []byte) string {
	if len(b) > tailBytes {
		b = b[len(b)-tailBytes:]
	}
	return strings.TrimSpace(string(b))
}

// Dir is the server's folder (data, socket and, without Options.Log, the
// server's output); Stop removes it.
func (s *Server) Dir() string { return s.dir }

// Port is the loopback TCP port the server listens on; Restart keeps it.
func (s *Server) Port() int { return s.port }

// DSN is the connection string of database db as the superuser, over
// loopback TCP.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, s.port, db)
}

// NewDatabase creates an empty database with a name not used before on this
// server and returns its DSN.
func (s *Server) NewDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("test%d", s.dbs.Add(1))
	cmd := s.command(ctx, "createdb", "-h", "127.0.0.1", "-p", strconv.Itoa(s.port), "-U", superuser, name)
	cmd.SysProcAttr.Credential = nil
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("pgtest: createdb: %w: %s", err, tail(out))
	}
	return s.DSN(name), nil
}

// Restart stops the server (fast shutdown: open connections are ended) and
// starts it again on the same data and port; connections fail in between.
func (s *Server) Restart(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}
	if err := s.halt(); err != nil {
		return fmt.Errorf("pgtest: restart: %w", err)
	}
	if err := s.run(ctx); err != nil {
		return fmt.Errorf("pgtest: restart: %w", err)
	}
	return nil
}

// halt stops the running server, if any: SIGINT (fast shutdown, as
// pg_ctl stop -m fast), SIGKILL after a grace period.
func (s *Server) halt() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil
	}
	proc, exited := s.proc, s.exited
	s.proc = nil
	if err := proc.Process.Signal(syscall.SIGINT); err != nil {
		<-exited
		return nil // it had exited already
	}
	select {
	case <-exited:
		return nil
	case <-time.After(stopGrace):
		_ = proc.Process.Kill()
		<-exited
		return fmt.Errorf("postgres did not stop within %s; killed", stopGrace)
	}
}

// Stop stops the server and removes its folder. It may be called more than
// once.
func (s *Server) Stop() error {
	errs := []error{s.halt()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	if s.logFile != nil {
		errs = append(errs, s.logFile.Close())
	}
	if s.dir != "" {
		errs = append(errs, os.RemoveAll(s.dir))
	}
	return errors.Join(errs...)
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }
func (s *Server) sockDir() string { return filepath.Join(s.dir, "sock") }

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
