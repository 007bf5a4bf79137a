package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/history/pgstore"
	"github.com/cairn-gitops/cairn/internal/history/sqlitestore"
)

// historyFlags say which audit store to use: PostgreSQL when a DSN file is
// given, else the embedded single-file store.
type historyFlags struct {
	db, dsnFile string
	// stateDir points at the --state-dir value the command registers.
	stateDir *string
}

// register adds --history-db and --history-dsn-file; stateDir is the
// command's --state-dir value.
func (f *historyFlags) register(fs *pflag.FlagSet, stateDir *string) {
	f.stateDir = stateDir
	fs.StringVar(&f.db, "history-db", "", "the embedded audit store (default: STATE_DIR/history.db)")
	fs.StringVar(&f.dsnFile, "history-dsn-file", "", "file holding a PostgreSQL DSN: use PostgreSQL as the audit store")
}

// path is the embedded store's file.
func (f *historyFlags) path() (string, error) {
	if f.db != "" {
		return f.db, nil
	}
	base, err := stateDir(*f.stateDir)
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "history.db"), nil
}

// open opens (creating it if needed) the store.
func (f *historyFlags) open(ctx context.Context) (history.Store, error) {
	if f.dsnFile != "" {
		dsn, err := readSecretFile(f.dsnFile)
		if err != nil {
			return nil, fmt.Errorf("audit store DSN: %w", err)
		}
		st, err := pgstore.Open(ctx, string(dsn))
		if err != nil {
			return nil, fmt.Errorf("audit store (PostgreSQL): %w", err)
		}
		return st, nil
	}
	p, err := f.path()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, fmt.Errorf("audit store: %w", err)
	}
	st, err := sqlitestore.Open(p)
	if err != nil {
		return nil, fmt.Errorf("audit store %s: %w", p, err)
	}
	return st, nil
}

// openExisting opens the store for reading: a missing embedded file is an
// error, not a new empty store.
func (f *historyFlags) openExisting(ctx context.Context) (history.Store, error) {
	if f.dsnFile == "" {
		p, err := f.path()
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("audit store: %w", err)
		}
	}
	return f.open(ctx)
}

// storeCmdFlags are the flags of a history subcommand.
type storeCmdFlags struct {
	history  historyFlags
	stateDir string
}

func (f *storeCmdFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.stateDir, "state-dir", "", "cairn's state directory (default: the user cache directory)")
	f.history.register(fs, &f.stateDir)
}

func newHistoryCmd(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Read, verify and export the audit trail",
	}
	cmd.AddCommand(newHistoryListCmd(s), newHistoryShowCmd(s), newHistoryVerifyCmd(s), newHistoryExportCmd(s))
	return cmd
}

type listFlags struct {
	store  storeCmdFlags
	filter history.Filter
	events []string
	since  string
	until  string
	output string
}

func newHistoryListCmd(s Streams) *cobra.Command {
	var f listFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List audit records, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.parse(); err != nil {
				return err
			}
			return withStore(cmd.Context(), &f.store.history, func(st history.Store) error {
				recs, err := st.List(cmd.Context(), f.filter)
				if err != nil {
					return err
				}
				return writeRecords(s.Out, f.output, recs)
			})
		},
	}
	f.store.register(cmd.Flags())
	fl := cmd.Flags()
	fl.StringVar(&f.filter.Adapter, "adapter", "", "only this adapter")
	fl.StringVar(&f.filter.Environment, "environment", "", "only this environment")
	fl.StringVar(&f.filter.Author, "author", "", "only changes with a commit by this author (name or e-mail)")
	fl.StringSliceVar(&f.events, "event", nil, "only these events (repeatable), such as adapter.upgraded")
	fl.StringVar(&f.since, "since", "", "only records at or after this time (RFC 3339)")
	fl.StringVar(&f.until, "until", "", "only records before this time (RFC 3339)")
	fl.Int64Var(&f.filter.Before, "before", 0, "page: only records with a sequence number below this")
	fl.IntVar(&f.filter.Limit, "limit", 50, "how many records at most (up to 1000)")
	fl.StringVar(&f.output, "output", "text", "text or json")
	return cmd
}

func (f *listFlags) parse() error {
	for _, e := range f.events {
		f.filter.Events = append(f.filter.Events, history.Event(e))
	}
	var err error
	if f.filter.Since, err = parseTime("--since", f.since); err != nil {
		return err
	}
	if f.filter.Until, err = parseTime("--until", f.until); err != nil {
		return err
	}
	if f.filter.Limit < 1 || f.filter.Limit > 1000 {
		return fmt.Errorf("--limit %d: want 1 to 1000", f.filter.Limit)
	}
	if f.output != "text" && f.output != "json" {
		return fmt.Errorf("--output %q: want text or json", f.output)
	}
	return nil
}

func parseTime(flag, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, fmt.Errorf("%s %q: want RFC 3339, such as 2026-11-23T09:00:00Z", flag, v)
	}
	return t, nil
}

func newHistoryShowCmd(s Streams) *cobra.Command {
	var f storeCmdFlags
	cmd := &cobra.Command{
		Use:   "show SEQ",
		Short: "Show one audit record, whole, as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			seq, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || seq < 1 {
				return fmt.Errorf("record %q: want a sequence number (1, 2, ...)", args[0])
			}
			return withStore(cmd.Context(), &f.history, func(st history.Store) error {
				rec, err := st.Get(cmd.Context(), seq)
				if err != nil {
					return err
				}
				enc := json.NewEncoder(s.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(rec)
			})
		},
	}
	f.register(cmd.Flags())
	return cmd
}

func newHistoryVerifyCmd(s Streams) *cobra.Command {
	var f storeCmdFlags
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the hash chain; exit 1 naming the first bad record",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), &f.history, func(st history.Store) error {
				v, err := st.Verify(cmd.Context())
				if err != nil {
					return err
				}
				if v.OK {
					fmt.Fprintf(s.Out, "verified: %d records, the chain is intact\n", v.Records)
					return nil
				}
				fmt.Fprintf(s.Out, "NOT verified: record %d: %s (%d records checked)\n", v.FirstBad, v.Reason, v.Records)
				return &findingsError{n: 1}
			})
		},
	}
	f.register(cmd.Flags())
	return cmd
}

func newHistoryExportCmd(s Streams) *cobra.Command {
	var f storeCmdFlags
	var format string
	cmd := &cobra.Command{
		Use:   "export --format json|csv|ndjson",
		Short: "Write every audit record, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := exporter(s.Out, format)
			if err != nil {
				return err
			}
			return withStore(cmd.Context(), &f.history, func(st history.Store) error {
				if err := st.Scan(cmd.Context(), 0, w.write); err != nil {
					return err
				}
				return w.close()
			})
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVar(&format, "format", "ndjson", "json, csv or ndjson")
	return cmd
}

// withStore opens the store, runs fn, and closes it.
func withStore(ctx context.Context, f *historyFlags, fn func(history.Store) error) error {
	st, err := f.openExisting(ctx)
	if err != nil {
		return err
	}
	return errors.Join(fn(st), st.Close())
}

// writeRecords prints a page of records.
func writeRecords(w io.Writer, output string, recs []history.Stored) error {
	if output == "json" {
		if recs == nil {
			recs = []history.Stored{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(recs)
	}
	for _, r := range recs {
		fmt.Fprintf(w, "%6d  %s  %-20s %-9s %-30s %s\n", r.Seq, r.Time.UTC().Format(time.RFC3339), r.Event, r.Outcome,
			adapterOf(r.Record), summaryOf(r.Record))
	}
	if len(recs) > 0 {
		fmt.Fprintf(w, "(older: --before %d)\n", recs[len(recs)-1].Seq)
	}
	return nil
}

func adapterOf(r history.Record) string {
	if r.Adapter == "" {
		return "-"
	}
	return r.Environment + "/" + r.Adapter
}

// summaryOf says in a few words who changed what.
func summaryOf(r history.Record) string {
	var parts []string
	if r.Revision != "" {
		parts = append(parts, short12(r.Revision))
	}
	for i, c := range r.Commits {
		if i == 2 {
			parts = append(parts, fmt.Sprintf("+%d commits", len(r.Commits)-2))
			break
		}
		parts = append(parts, fmt.Sprintf("%s <%s> (%s)", c.Author.Name, c.Author.Email, c.Signature))
	}
	if len(r.Changes) > 0 {
		parts = append(parts, fmt.Sprintf("%d fields", len(r.Changes)))
	}
	if r.Error != "" {
		parts = append(parts, "error: "+r.Error)
	}
	return strings.Join(parts, "  ")
}

// recordWriter writes an export.
type recordWriter struct {
	write func(history.Stored) error
	close func() error
}

func exporter(w io.Writer, format string) (*recordWriter, error) {
	switch format {
	case "ndjson":
		enc := json.NewEncoder(w)
		return &recordWriter{write: func(r history.Stored) error { return enc.Encode(r) }, close: func() error { return nil }}, nil
	case "json":
		first := true
		if _, err := io.WriteString(w, "["); err != nil {
			return nil, err
		}
		return &recordWriter{
			write: func(r history.Stored) error {
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

// csvExporter writes one row per record: the fields reviewers filter on,
// with the commits and changes as JSON cells.
func csvExporter(w io.Writer) *recordWriter {
	cw := csv.NewWriter(w)
	header := []string{"seq", "time", "event", "outcome", "environment", "adapter", "revision", "release",
		"helmVersion", "valuesDigest", "actor", "durationMs", "error", "commits", "changes", "prevHash", "hash"}
	wroteHeader := false
	return &recordWriter{
		write: func(r history.Stored) error {
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
				r.ValuesDigest, r.Actor, strconv.FormatInt(r.Duration.Milliseconds(), 10), r.Error,
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
