//go:build unix

package pgtest_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-gitops/cairn/internal/pgtest"
)

var shared pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	if err := shared.Stop(); err != nil {
		os.Stderr.WriteString("pgtest: " + err.Error() + "\n")
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// query connects to dsn and returns what sql answers as one string.
func query(ctx context.Context, t *testing.T, dsn, sql string) (string, error) {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var s string
	err = conn.QueryRow(ctx, sql).Scan(&s)
	return s, err
}

func TestSharedDatabasesAreFreshAndSeparate(t *testing.T) {
	ctx := context.Background()
	a, b := shared.Database(t), shared.Database(t)
	if a == b {
		t.Fatalf("two databases with one DSN %s", a)
	}
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if _, err := query(ctx, t, b, "SELECT count(*)::text FROM t"); err == nil {
		t.Error("a table made in one database is visible in the other")
	}
	for setting, want := range map[string]string{"fsync": "on", "listen_addresses": "127.0.0.1", "server_version_num": ""} {
		got, err := query(ctx, t, a, "SELECT current_setting('"+setting+"')")
		if err != nil {
			t.Fatal(err)
		}
		if want != "" && got != want {
			t.Errorf("%s = %q, want %q", setting, got, want)
		}
		if setting == "server_version_num" && got < "150000" {
			t.Errorf("server version %s, want 15 or newer", got)
		}
	}
}

func TestRestartKeepsDataAndPortAndStopRemovesAll(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL: not part of -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A server of its own: restarting the shared one would disturb others.
	srv, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		pgtest.SkipOrFail(t, err)
	}
	defer srv.Stop()
	dsn, err := srv.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	port := srv.Port()
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT 1"); err == nil {
		t.Error("a connection made before the restart still works")
	}
	conn.Close(ctx)
	if srv.Port() != port {
		t.Errorf("port %d after restart, want %d", srv.Port(), port)
	}
	if got, err := query(ctx, t, dsn, "SELECT x::text FROM t"); err != nil || got != "42" {
		t.Errorf("after restart: %q, %v; want the row written before", got, err)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := query(ctx, t, dsn, "SELECT 'up'"); err == nil {
		t.Error("server answers after Stop")
	}
	if _, err := os.Stat(srv.Dir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stop left %s: %v", srv.Dir(), err)
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestMissingBinaries(t *testing.T) {
	_, err := pgtest.Start(context.Background(), pgtest.Options{BinDir: t.TempDir()})
	if err == nil || !errors.Is(err, pgtest.ErrNoBinaries) {
		t.Fatalf("Start with an empty BinDir: %v, want ErrNoBinaries", err)
	}
}
