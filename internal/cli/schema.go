package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairn-gitops/cairn/schema"
)

func newSchemaCmd(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Work with cairn's JSON Schemas",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "export DIR",
		Short: "Write the JSON Schemas into DIR for editors and other tools",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			files, err := schema.Export(args[0])
			if err != nil {
				return err
			}
			for _, f := range files {
				if _, err := fmt.Fprintln(s.Out, f); err != nil {
					return err
				}
			}
			return nil
		},
	})
	return cmd
}
