package cli

import (
	"context"
	"crypto/ed25519"
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
	// signingKey is the Ed25519 key that signs retention checkpoints.
	signingKey string
	// stateDir points at the --state-dir value the command registers.
	stateDir *string
}

// register adds --history-db and --history-dsn-file; stateDir is the
// command's --state-dir value.
func (f *historyFlags) register(fs *pflag.FlagSet, stateDir *string) {
	f.stateDir = stateDir
	fs.StringVar(&f.db, "history-db", "", "the embedded audit store (default: STATE_DIR/history.db)")
	fs.StringVar(&f.dsnFile, "history-dsn-file", "", "file holding a PostgreSQL DSN: use PostgreSQL as the audit store")
	fs.StringVar(&f.signingKey, "audit-signing-key-file", "",
		"Ed25519 private key (PEM) that signs retention checkpoints (default: STATE_DIR/audit-signing.key, created if missing)")
}

// signer loads the checkpoint signing key; the default file is created
// when missing, a file named by the flag must exist.
func (f *historyFlags) signer() (*history.Signer, error) {
	if f.signingKey != "" {
		return history.LoadSigner(f.signingKey, false)
	}
	base, err := stateDir(*f.stateDir)
	if err != nil {
		return nil, err
	}
	return history.LoadSigner(filepath.Join(base, "audit-signing.key"), true)
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
	cmd.AddCommand(newHistoryListCmd(s), newHistoryShowCmd(s), newHistoryVerifyCmd(s), newHistoryExportCmd(s),
		newHistoryPruneCmd(s), newHistoryKeyCmd(s))
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
	var pinned string
	cmd := &cobra.Command{
		Use:   "verify [--public-key FILE]",
		Short: "Recompute the hash chain; exit 1 naming the first bad record",
		Long: `verify recomputes every record's hash and link. After retention removed old
records, the chain starts at a signed checkpoint: verify checks its signature
and, with --public-key (the key cairn history key printed), that the
checkpoint was signed by that key and no other.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var key ed25519.PublicKey
			if pinned != "" {
				k, err := history.LoadPublicKey(pinned)
				if err != nil {
					return err
				}
				key = k
			}
			return withStore(cmd.Context(), &f.history, func(st history.Store) error {
				v, err := st.Verify(cmd.Context())
				if err != nil {
					return err
				}
				return reportVerification(s.Out, v, key)
			})
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVar(&pinned, "public-key", "", "PEM public key that must have signed the retention checkpoint")
	return cmd
}

// reportVerification prints what Verify found; a findingsError when the
// chain or the checkpoint's key is not right.
func reportVerification(w io.Writer, v history.Verification, pinned ed25519.PublicKey) error {
	if !v.OK {
		fmt.Fprintf(w, "NOT verified: record %d: %s (%d records checked)\n", v.FirstBad, v.Reason, v.Records)
		return &findingsError{n: 1}
	}
	if cp := v.Checkpoint; cp != nil {
		key, _ := cp.PublicKey() // Verify checked it
		fmt.Fprintf(w, "retention: records %d to %d (older than %s) removed on %s under a checkpoint signed by %s\n",
			cp.First, cp.Seq, cp.Before.UTC().Format(time.RFC3339), cp.Time.UTC().Format(time.RFC3339), history.Fingerprint(key))
		if pinned != nil {
			if err := cp.Check(pinned); err != nil {
				fmt.Fprintf(w, "NOT verified: %v\n", err)
				return &findingsError{n: 1}
			}
		} else {
			fmt.Fprintln(w, "(pass --public-key to require that key)")
		}
	}
	fmt.Fprintf(w, "verified: %d records, the chain is intact\n", v.Records)
	return nil
}

func newHistoryPruneCmd(s Streams) *cobra.Command {
	var f storeCmdFlags
	var olderThan string
	cmd := &cobra.Command{
		Use:   "prune --older-than 7y",
		Short: "Remove old audit records under a signed checkpoint (what serve does from security.json)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			period, err := history.ParseRetention(olderThan)
			if err != nil || period == 0 {
				return fmt.Errorf("--older-than %q: want a duration such as 365d or 7y", olderThan)
			}
			signer, err := f.history.signer()
			if err != nil {
				return err
			}
			return withStore(cmd.Context(), &f.history, func(st history.Store) error {
				r := &history.Retainer{Store: st, Signer: signer, Actor: "cairn history prune (" + userAtHost() + ")"}
				r.SetPeriod(period)
				cp, ok, err := r.Prune(cmd.Context())
				switch {
				case err != nil:
					return err
				case !ok:
					fmt.Fprintf(s.Out, "nothing older than %s\n", olderThan)
				default:
					fmt.Fprintf(s.Out, "removed records %d to %d under a checkpoint signed by %s\n",
						cp.First, cp.Seq, history.Fingerprint(signer.PublicKey()))
				}
				return nil
			})
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVar(&olderThan, "older-than", "", "remove records older than this (at least 1d), such as 7y")
	return cmd
}

func newHistoryKeyCmd(s Streams) *cobra.Command {
	var f storeCmdFlags
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Print the public key that signs retention checkpoints, to pin with verify --public-key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			signer, err := f.history.signer()
			if err != nil {
				return err
			}
			pem, err := history.PublicKeyPEM(signer.PublicKey())
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Err, "%s\n", history.Fingerprint(signer.PublicKey()))
			_, err = s.Out.Write(pem)
			return err
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// userAtHost names the person running a command, for audit records.
func userAtHost() string {
	host, _ := os.Hostname()
	name := os.Getenv("USER")
	if name == "" {
		name = "unknown"
	}
	return name + "@" + host
}

func newHistoryExportCmd(s Streams) *cobra.Command {
	var f storeCmdFlags
	var format string
	cmd := &cobra.Command{
		Use:   "export --format json|csv|ndjson",
		Short: "Write every audit record, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := history.NewExporter(s.Out, format)
			if err != nil {
				return err
			}
			return withStore(cmd.Context(), &f.history, func(st history.Store) error {
				if err := st.Scan(cmd.Context(), 0, w.Write); err != nil {
					return err
				}
				return w.Close()
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
	if cp := r.Checkpoint; cp != nil {
		parts = append(parts, fmt.Sprintf("removed records %d to %d (older than %s)", cp.First, cp.Seq, cp.Before.UTC().Format(time.DateOnly)))
	}
	if r.Note != "" {
		parts = append(parts, "note: "+r.Note)
	}
	return strings.Join(parts, "  ")
}
