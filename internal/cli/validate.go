package cli

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-gitops/cairn/internal/diag"
	"github.com/cairn-gitops/cairn/internal/manifest"
	"github.com/cairn-gitops/cairn/internal/report"
	"github.com/cairn-gitops/cairn/internal/validate"
)

type validateFlags struct {
	output         string
	failOnWarning  bool
	maxFileBytes   int64
	jsonnetTimeout time.Duration
}

func newValidateCmd(version string, s Streams) *cobra.Command {
	var f validateFlags
	cmd := &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Check a config repository against the schemas and rules (for CI)",
		Long: `Validate every document of a config repository (default: the current
directory): JSON Schema, literal credentials, duplicate names, undeclared
environments, port conflicts, open acceptors, paths leading outside the
repository. Every finding names file, line, column, JSON pointer and rule.

Exit codes: 0 valid, 1 findings, 2 usage or I/O error.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runValidate(cmd, dir, version, f, s)
		},
	}
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: "+strings.Join(report.Formats, ", "))
	cmd.Flags().BoolVar(&f.failOnWarning, "fail-on-warning", false, "exit 1 on warnings too")
	cmd.Flags().Int64Var(&f.maxFileBytes, "max-file-size", manifest.DefaultMaxFileBytes, "largest file (and Jsonnet output) in bytes")
	cmd.Flags().DurationVar(&f.jsonnetTimeout, "jsonnet-timeout", manifest.DefaultJsonnetTimeout, "time limit for one Jsonnet evaluation")
	return cmd
}

func runValidate(cmd *cobra.Command, dir, version string, f validateFlags, s Streams) error {
	if !slices.Contains(report.Formats, f.output) {
		return fmt.Errorf("unknown output format %q (want one of %s)", f.output, strings.Join(report.Formats, ", "))
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("repository: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("repository %s is not a directory", dir)
	}
	tuneRuntime()
	v, err := validate.New(validate.Options{Manifest: manifest.Options{MaxFileBytes: f.maxFileBytes, JsonnetTimeout: f.jsonnetTimeout}})
	if err != nil {
		return err
	}
	res, err := v.Validate(cmd.Context(), manifest.DirFS(dir))
	if err != nil {
		return err
	}
	sum := report.Summary{Files: res.Files, Documents: res.Documents, Version: version}
	if err := report.Write(s.Out, f.output, res.Findings, sum); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	bad := diag.Errors(res.Findings)
	if f.failOnWarning {
		bad = len(res.Findings)
	}
	if bad > 0 {
		return &findingsError{n: bad}
	}
	return nil
}

// tuneRuntime fits Go's runtime to a one-shot validation or render, unless
// GOGC or GOMAXPROCS say otherwise. Both allocate much short-lived garbage
// (the schema library's bookkeeping, about 40 KB a document) over a small
// live heap, so collecting less often saves a third of the CPU for a few
// hundred megabytes at 10,000 documents; and it makes many short system
// calls, which block their processor, so twice as many processors as cores
// keep both cores busy. (BENCHMARKS.md has the figures.)
func tuneRuntime() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(800)
	}
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(2 * runtime.NumCPU())
	}
}
