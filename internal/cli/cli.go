// Package cli builds cairn's commands. Each command is made by a
// constructor that takes its dependencies and writers; the commands parse
// flags and call into the packages that do the work, nothing more.
//
// Exit codes: 0 success; 1 the command ran and found problems (findings,
// changes in a plan); 2 usage or I/O errors. ExitCode maps an error to them.
package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitFindings = 1
	ExitError    = 2
)

// findingsError means the command ran and reported problems; it has already
// written its report, so main prints nothing more.
type findingsError struct{ n int }

func (e *findingsError) Error() string { return fmt.Sprintf("%d problems found", e.n) }

// ExitCode maps the error a command returned to the process exit code.
func ExitCode(err error) int {
	var fe *findingsError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &fe):
		return ExitFindings
	default:
		return ExitError
	}
}

// Reported says whether the error has already been written for the user.
func Reported(err error) bool {
	var fe *findingsError
	return errors.As(err, &fe)
}

// Streams are where commands write.
type Streams struct {
	Out, Err io.Writer
}

// NewRoot builds the cairn command tree.
func NewRoot(version string, s Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "cairn",
		Short: "cairn: a GitOps reconciler with an audit trail for connectivity adapters",
		Long: `cairn validates a Git repository of adapter manifests against JSON Schema and
domain rules, renders one Helm release per adapter, applies them to Kubernetes,
and records who changed what, when, and who approved it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.AddCommand(
		newValidateCmd(version, s),
		newSchemaCmd(s),
		newRenderCmd(s),
		newPlanCmd(s),
		newReconcileCmd(s),
		newServeCmd(s),
		newDiffCmd(s),
		newHistoryCmd(s),
		newAuthCmd(s),
		newPRCmd(s),
		newVersionCmd(version, s),
	)
	return root
}

func newVersionCmd(version string, s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print cairn's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(s.Out, "cairn %s\n", version)
			return err
		},
	}
}
