package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/cairn-gitops/cairn/internal/history"
)

// Page sizes of List.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// List returns the records f selects, newest first, at most f.Limit.
func (s *Store) List(ctx context.Context, f history.Filter) ([]history.Stored, error) {
	from, where, order, args := listQuery(f)
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	q := `SELECT r.seq, r.hash, r.body FROM ` + from + where + ` ORDER BY ` + order + ` DESC LIMIT ?`
	rows, err := s.db.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing audit records: %w", err)
	}
	defer rows.Close()
	var out []history.Stored
	for rows.Next() {
		st, err := scanStored(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing audit records: %w", err)
	}
	return out, nil
}

// listQuery translates f into the tables to read, newest first by the
// column seq, and a WHERE clause over the indexed columns. An author filter
// walks that author's index entries, newest first, and joins the records.
func listQuery(f history.Filter) (from, where, order string, args []any) {
	from, order = `records r`, `r.seq`
	var conds []string
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.Author != "" {
		from, order = `commit_authors a JOIN records r ON r.seq = a.seq`, `a.seq`
		add(`a.who = ?`, f.Author)
	}
	if f.Adapter != "" {
		add(`r.adapter = ?`, f.Adapter)
	}
	if f.Environment != "" {
		add(`r.environment = ?`, f.Environment)
	}
	if len(f.Events) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?,", len(f.Events)), ",")
		events := make([]any, len(f.Events))
		for i, e := range f.Events {
			events[i] = string(e)
		}
		add(`r.event IN (`+marks+`)`, events...)
	}
	if !f.Since.IsZero() {
		add(`r.time >= ?`, f.Since.UTC().Format(timeLayout))
	}
	if !f.Until.IsZero() {
		add(`r.time < ?`, f.Until.UTC().Format(timeLayout))
	}
	if f.Before > 0 {
		add(order+` < ?`, f.Before)
	}
	if len(conds) == 0 {
		return from, "", order, nil
	}
	return from, ` WHERE ` + strings.Join(conds, ` AND `), order, args
}

// Get returns record seq, or an error wrapping history.ErrNotFound.
func (s *Store) Get(ctx context.Context, seq int64) (history.Stored, error) {
	row := s.db.QueryRowContext(ctx, `SELECT seq, hash, body FROM records WHERE seq = ?`, seq)
	st, err := scanStored(row)
	if errors.Is(err, sql.ErrNoRows) {
		return history.Stored{}, fmt.Errorf("audit record %d: %w", seq, history.ErrNotFound)
	}
	return st, err
}

// Scan calls fn for every record after seq after, oldest first, from one
// consistent snapshot, until fn returns an error (returned as is).
func (s *Store) Scan(ctx context.Context, after int64, fn func(history.Stored) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, hash, body FROM records WHERE seq > ? ORDER BY seq`, after)
	if err != nil {
		return fmt.Errorf("scanning audit records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		st, err := scanStored(rows)
		if err != nil {
			return err
		}
		if err := fn(st); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scanning audit records: %w", err)
	}
	return nil
}

// scanStored decodes one (seq, hash, body) row. The record is the body;
// the hash column is its stored hash, which Verify checks.
func scanStored(row interface{ Scan(...any) error }) (history.Stored, error) {
	var seq int64
	var hash string
	var body []byte
	if err := row.Scan(&seq, &hash, &body); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return history.Stored{}, err
		}
		return history.Stored{}, fmt.Errorf("reading an audit record: %w", err)
	}
	st, err := history.DecodeCanonical(body)
	if err != nil {
		return history.Stored{}, fmt.Errorf("audit record %d: %w", seq, err)
	}
	st.Hash = hash
	return st, nil
}
