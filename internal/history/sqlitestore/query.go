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
	where, args := listWhere(f)
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	q := `SELECT seq, hash, body FROM records` + where + ` ORDER BY seq DESC LIMIT ?`
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

// listWhere translates f into a WHERE clause over the indexed columns.
func listWhere(f history.Filter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.Adapter != "" {
		add(`adapter = ?`, f.Adapter)
	}
	if f.Environment != "" {
		add(`environment = ?`, f.Environment)
	}
	if len(f.Events) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?,", len(f.Events)), ",")
		events := make([]any, len(f.Events))
		for i, e := range f.Events {
			events[i] = string(e)
		}
		add(`event IN (`+marks+`)`, events...)
	}
	if !f.Since.IsZero() {
		add(`time >= ?`, f.Since.UTC().Format(timeLayout))
	}
	if !f.Until.IsZero() {
		add(`time < ?`, f.Until.UTC().Format(timeLayout))
	}
	if f.Before > 0 {
		add(`seq < ?`, f.Before)
	}
	if f.Author != "" {
		add(`seq IN (SELECT seq FROM commit_authors WHERE who = ?)`, f.Author)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return ` WHERE ` + strings.Join(conds, ` AND `), args
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

// Scan calls fn for every record, oldest first, from one consistent
// snapshot, until fn returns an error (returned as is).
func (s *Store) Scan(ctx context.Context, fn func(history.Stored) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, hash, body FROM records ORDER BY seq`)
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
