package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/cairn-gitops/cairn/internal/history"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

var _ history.Store = (*Store)(nil)

// busyTimeout is how long a writer waits for another process's lock on the
// file before Append fails.
const busyTimeout = 10 * time.Second

// timeLayout stores Record.Time in UTC with a fixed width, so that text
// order is time order (years 0000 to 9999).
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// Store is the embedded audit store. It is safe for concurrent use.
type Store struct {
	db *sql.DB

	writing sync.Mutex // held by the goroutine committing a batch
	queueMu sync.Mutex
	queue   []*pending // Appends waiting for the next batch
}

type pending struct {
	recs  []history.Record
	preps []history.Prepared
	err   error
	done  bool
}

// Open opens (creating it if needed) the store in the file at path and
// brings its schema up to date. The caller must Close it.
func Open(path string) (*Store, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening audit store %s: %w", path, err)
	}
	s := &Store{db: db}
	if err := s.check(); err != nil {
		return nil, errors.Join(fmt.Errorf("opening audit store %s: %w", path, err), db.Close())
	}
	if err := migrate(db); err != nil {
		return nil, errors.Join(fmt.Errorf("opening audit store %s: %w", path, err), db.Close())
	}
	return s, nil
}

// check makes sure the pragmas that durability rests on took effect.
func (s *Store) check() error {
	var journal string
	var synchronous int
	if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&journal); err != nil {
		return err
	}
	if err := s.db.QueryRow(`PRAGMA synchronous`).Scan(&synchronous); err != nil {
		return err
	}
	if journal != "wal" || synchronous != 2 {
		return fmt.Errorf("journal_mode %s, synchronous %d: want wal and 2 (FULL)", journal, synchronous)
	}
	return nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Append adds r at the end of the chain, assigning Seq, PrevHash and Hash.
// It returns once r is durable. Appends that arrive together share one
// transaction; an error in the transaction fails all of them.
func (s *Store) Append(ctx context.Context, r history.Record) error {
	return s.AppendAll(ctx, []history.Record{r})
}

// AppendAll appends records as consecutive records, all or none, and
// returns once they are durable.
func (s *Store) AppendAll(ctx context.Context, records []history.Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("appending to the audit store: %w", err)
	}
	if len(records) == 0 {
		return nil
	}
	p := &pending{recs: records, preps: make([]history.Prepared, len(records))}
	for i, r := range records { // before the lock: encoding is the costly part
		prep, err := history.Prepare(r)
		if err != nil {
			return fmt.Errorf("appending to the audit store: %w", err)
		}
		p.preps[i] = prep
	}
	s.queueMu.Lock()
	s.queue = append(s.queue, p)
	s.queueMu.Unlock()

	s.writing.Lock()
	defer s.writing.Unlock()
	if !p.done { // no earlier batch took it: commit everything waiting
		s.queueMu.Lock()
		batch := s.queue
		s.queue = nil
		s.queueMu.Unlock()
		s.commit(ctx, batch)
	}
	return p.err
}

// commit writes batch in one transaction. Called with s.writing held.
func (s *Store) commit(ctx context.Context, batch []*pending) {
	err := s.insert(ctx, batch)
	for _, p := range batch {
		if err != nil && p.err == nil {
			p.err = err
		}
		p.done = true
	}
}

func (s *Store) insert(ctx context.Context, batch []*pending) error {
	// A record whose caller gave up still goes in if it is in the batch:
	// only the transaction decides, never a caller's context.
	ctx = context.WithoutCancel(ctx)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("appending to the audit store: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	ins, err := newInserter(ctx, tx)
	if err != nil {
		return err
	}
	defer ins.close()
	for _, p := range batch {
		for i := range p.recs {
			if _, err := ins.add(ctx, p.recs[i], p.preps[i]); err != nil {
				return err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("appending to the audit store: commit: %w", err)
	}
	return nil
}

// inserter writes records with prepared statements inside one transaction,
// after the chain's head.
type inserter struct {
	record, author *sql.Stmt
	head           history.Stored
}

// newInserter reads the head inside tx (BEGIN IMMEDIATE holds the file's
// write lock, so no other process can move it) and prepares the inserts.
func newInserter(ctx context.Context, tx *sql.Tx) (*inserter, error) {
	var head history.Stored
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1`).Scan(&head.Seq, &head.Hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("appending to the audit store: reading the last record: %w", err)
	}
	rec, err := tx.PrepareContext(ctx, `INSERT INTO records
		(seq, time, event, adapter, environment, revision, body, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("appending to the audit store: %w", err)
	}
	author, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO commit_authors (who, seq) VALUES (?, ?)`)
	if err != nil {
		rec.Close()
		return nil, fmt.Errorf("appending to the audit store: %w", err)
	}
	return &inserter{record: rec, author: author, head: head}, nil
}

// add appends r after the head and makes it the head.
func (i *inserter) add(ctx context.Context, r history.Record, prep history.Prepared) (history.Stored, error) {
	st := history.Stored{Seq: i.head.Seq + 1, PrevHash: i.head.Hash, Record: r}
	body := prep.Canonical(st.Seq, st.PrevHash)
	st.Hash = history.HashBytes(body)
	if err := i.insert(ctx, st, body); err != nil {
		return history.Stored{}, err
	}
	i.head = st
	return st, nil
}

func (i *inserter) close() {
	i.record.Close()
	i.author.Close()
}

func (i *inserter) insert(ctx context.Context, st history.Stored, body []byte) error {
	_, err := i.record.ExecContext(ctx, st.Seq, st.Time.UTC().Format(timeLayout), string(st.Event),
		st.Adapter, st.Environment, st.Revision, string(body), st.PrevHash, st.Hash)
	if err != nil {
		return fmt.Errorf("appending record %d: %w", st.Seq, err)
	}
	for _, c := range st.Commits {
		for _, who := range []string{c.Author.Name, c.Author.Email} {
			if who == "" {
				continue
			}
			if _, err := i.author.ExecContext(ctx, who, st.Seq); err != nil {
				return fmt.Errorf("appending record %d: author index: %w", st.Seq, err)
			}
		}
	}
	return nil
}
