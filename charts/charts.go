// Package charts embeds the Helm charts cairn deploys with: adapter/, the
// chart of every connectivity adapter, and cairn/, the chart that deploys
// cairn itself. The chart sources are the files in this directory; this
// package only makes them part of the binary.
package charts

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed all:adapter all:cairn
var files embed.FS

// Adapter returns the adapter chart's files, rooted at the chart directory.
func Adapter() (fs.FS, error) {
	return chart("adapter")
}

// Cairn returns the files of the chart that deploys cairn itself, rooted at
// the chart directory.
func Cairn() (fs.FS, error) {
	return chart("cairn")
}

func chart(dir string) (fs.FS, error) {
	sub, err := fs.Sub(files, dir)
	if err != nil {
		return nil, fmt.Errorf("embedded %s chart: %w", dir, err)
	}
	return sub, nil
}
