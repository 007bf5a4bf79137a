package history

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Exporter writes records in an export format, one at a time; Close ends
// the document (the closing bracket of json, the header of an empty csv).
type Exporter struct {
	write func(Stored) error
	close func() error
}

// Write writes one record.
func (e *Exporter) Write(r Stored) error { return e.write(r) }

// Close ends the export.
func (e *Exporter) Close() error { return e.close() }

// NewExporter writes to w in format: ndjson (a record per line), json (an
// array) or csv (the fields reviewers filter on; commits and changes as JSON
// cells).
func NewExporter(w io.Writer, format string) (*Exporter, error) {
	switch format {
	case "ndjson":
		enc := json.NewEncoder(w)
		return &Exporter{write: func(r Stored) error { return enc.Encode(r) }, close: func() error { return nil }}, nil
	case "json":
		first := true
		if _, err := io.WriteString(w, "["); err != nil {
			return nil, err
		}
		return &Exporter{
			write: func(r Stored) error {
				b, err := json.Marshal(r)
				if err != nil {
					return err
				}
				sep := ",\n"
				if first {
					sep, first = "\n", false
				}
				_, err = io.WriteString(w, sep+string(b))
				return err
			},
			close: func() error { _, err := io.WriteString(w, "\n]\n"); return err },
		}, nil
	case "csv":
		return csvExporter(w), nil
	}
	return nil, fmt.Errorf("--format %q: want json, csv or ndjson", format)
}

func csvExporter(w io.Writer) *Exporter {
	cw := csv.NewWriter(w)
	header := []string{"seq", "time", "event", "outcome", "environment", "adapter", "revision", "release",
		"helmVersion", "valuesDigest", "actor", "durationMs", "error", "note", "commits", "changes", "prevHash", "hash"}
	wroteHeader := false
	return &Exporter{
		write: func(r Stored) error {
			if !wroteHeader {
				wroteHeader = true
				if err := cw.Write(header); err != nil {
					return err
				}
			}
			commits, _ := json.Marshal(r.Commits)
			changes, _ := json.Marshal(r.Changes)
			return cw.Write([]string{strconv.FormatInt(r.Seq, 10), r.Time.UTC().Format(time.RFC3339Nano), string(r.Event),
				string(r.Outcome), r.Environment, r.Adapter, r.Revision, r.Release, strconv.Itoa(r.HelmVersion),
				r.ValuesDigest, r.Actor, strconv.FormatInt(r.Duration.Milliseconds(), 10), r.Error, r.Note,
				string(commits), string(changes), r.PrevHash, r.Hash})
		},
		close: func() error {
			if !wroteHeader {
				if err := cw.Write(header); err != nil {
					return err
				}
			}
			cw.Flush()
			return cw.Error()
		},
	}
}
