// Command cairn-demo runs cairn's demonstration (`make demo`): a local
// control plane, a Git repository made from examples/config-repo, and
// `cairn serve` following it, until interrupted. The work is in
// internal/demo.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cairn-gitops/cairn/internal/demo"
	"github.com/cairn-gitops/cairn/internal/manifest"
)

func main() {
	if code, served := manifest.ServeChild(); served { // the Jsonnet sandbox of validate
		os.Exit(code)
	}
	opts := demo.Options{Out: os.Stdout}
	flag.StringVar(&opts.Root, "root", ".", "the cairn source tree")
	flag.StringVar(&opts.Cairn, "cairn", "bin/cairn", "the cairn binary")
	flag.StringVar(&opts.Listen, "listen", "127.0.0.1:8080", "address of cairn serve")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := demo.Run(ctx, opts)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cairn-demo:", err)
		os.Exit(1)
	}
}
