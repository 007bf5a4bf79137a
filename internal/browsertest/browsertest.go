// Package browsertest drives Debian's chromium headless for tests (through
// chromedp), with the flags this machine's closed network needs, and saves
// screenshots where a reviewer finds them. Tests only: the cairn binary
// never links it.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cairn-gitops/cairn/internal/testenv"
)

// Chromium is Debian's chromium, which .ci/run installs.
const Chromium = "/usr/bin/chromium"

var errNoChromium = errors.New("no browser: " + Chromium + " is not installed (apt-get install chromium)")

// Start returns a context for chromedp actions in a new headless chromium
// with an empty profile, closed when the test ends. It skips under -short,
// and when chromium is missing it skips outside CI and fails in CI.
func Start(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	testenv.SkipIfShort(t, "a browser (chromium)")
	if _, err := os.Stat(Chromium); err != nil {
		testenv.SkipOrFail(t, fmt.Errorf("%w: %w", errNoChromium, err), errNoChromium)
	}
	// The profile is removed after the browser has gone: chromium may still
	// be writing to it when the test's own temporary folders are removed.
	profile, err := os.MkdirTemp("", "cairn-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(Chromium), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900)}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		for range 50 { // until chromium's last writes are done
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return ctx
}

// Run runs actions and fails the test with what was asked and the page's
// text.
func Run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var page string
		short, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_ = chromedp.Run(short, chromedp.Text(`body`, &page, chromedp.ByQuery))
		t.Fatalf("%s: %v\npage: %.600s", what, err, page)
	}
}

// Shot saves a full-page screenshot as dir/name.png.
func Shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	var png []byte
	Run(t, ctx, "screenshot "+name, chromedp.FullScreenshot(&png, 100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// OutputDir is where a test's screenshots go: $TEST_OUTPUT/sub, else the
// test's temporary folder.
func OutputDir(t *testing.T, sub string) string {
	t.Helper()
	dir := os.Getenv("TEST_OUTPUT")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
