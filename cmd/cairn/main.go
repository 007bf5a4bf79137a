// Command cairn is the GitOps reconciler and its tools. All logic lives in
// internal/cli and the packages it calls; main only maps errors to exit codes.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cairn-gitops/cairn/internal/cli"
	"github.com/cairn-gitops/cairn/internal/manifest"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if code, served := manifest.ServeChild(); served { // the Jsonnet sandbox
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.NewRoot(version, cli.Streams{Out: os.Stdout, Err: os.Stderr}).ExecuteContext(ctx)
	stop()
	if err != nil && !cli.Reported(err) {
		fmt.Fprintln(os.Stderr, "cairn:", err)
	}
	os.Exit(cli.ExitCode(err))
}
