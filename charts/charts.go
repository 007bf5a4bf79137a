// Package charts embeds the Helm charts cairn deploys with: adapter/, the
// chart of every connectivity adapter. The chart sources are the files in
// this directory; this package only makes them part of the binary.
package charts

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed all:adapter
var files embed.FS

// Adapter returns the adapter chart's files, rooted at the chart directory.
func Adapter() (fs.FS, error) {
	sub, err := fs.Sub(files, "adapter")
	if err != nil {
		return nil, fmt.Errorf("embedded adapter chart: %w", err)
	}
	return sub, nil
}
