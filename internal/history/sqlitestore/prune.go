package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cairn-gitops/cairn/internal/history"
)

// Prune removes the oldest records whose time is before p.Before, up to
// the first record that is not, in one transaction that also stores the
// signed checkpoint and appends the HistoryPruned record carrying it.
func (s *Store) Prune(ctx context.Context, p history.Pruning) (history.Checkpoint, bool, error) {
	if p.Signer == nil {
		return history.Checkpoint{}, false, errors.New("pruning the audit store: no signing key")
	}
	s.writing.Lock()
	defer s.writing.Unlock()
	tx, err := s.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return history.Checkpoint{}, false, fmt.Errorf("pruning the audit store: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	cp, ok, err := pruneRange(ctx, tx, p)
	if err != nil || !ok {
		return history.Checkpoint{}, false, err
	}
	cp = p.Signer.Sign(cp)
	if err := writePrune(ctx, tx, p.Record, cp); err != nil {
		return history.Checkpoint{}, false, err
	}
	if err := tx.Commit(); err != nil {
		return history.Checkpoint{}, false, fmt.Errorf("pruning the audit store: commit: %w", err)
	}
	return cp, true, nil
}

// pruneRange finds the records to remove: from the oldest to the one before
// the first whose time is not before the cutoff (every record when none is).
func pruneRange(ctx context.Context, tx *sql.Tx, p history.Pruning) (history.Checkpoint, bool, error) {
	var first, young sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT (SELECT min(seq) FROM records),
		(SELECT min(seq) FROM records WHERE time >= ?)`, p.Before.UTC().Format(timeLayout)).Scan(&first, &young)
	if err != nil {
		return history.Checkpoint{}, false, fmt.Errorf("pruning the audit store: %w", err)
	}
	if !first.Valid || young.Valid && young.Int64 <= first.Int64 {
		return history.Checkpoint{}, false, nil
	}
	cp := history.Checkpoint{First: first.Int64, Before: p.Before, Time: p.Record.Time}
	q := `SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1`
	var args []any
	if young.Valid {
		q, args = `SELECT seq, hash FROM records WHERE seq < ? ORDER BY seq DESC LIMIT 1`, []any{young.Int64}
	}
	if err := tx.QueryRowContext(ctx, q, args...).Scan(&cp.Seq, &cp.Hash); err != nil {
		return history.Checkpoint{}, false, fmt.Errorf("pruning the audit store: %w", err)
	}
	return cp, true, nil
}

// writePrune appends the HistoryPruned record, stores the checkpoint and
// removes the range, inside tx.
func writePrune(ctx context.Context, tx *sql.Tx, r history.Record, cp history.Checkpoint) error {
	r.Event, r.Outcome, r.Checkpoint = history.HistoryPruned, history.Succeeded, &cp
	prep, err := history.Prepare(r)
	if err != nil {
		return fmt.Errorf("pruning the audit store: %w", err)
	}
	ins, err := newInserter(ctx, tx)
	if err != nil {
		return err
	}
	defer ins.close()
	if _, err := ins.add(ctx, r, prep); err != nil {
		return err
	}
	body, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("pruning the audit store: %w", err)
	}
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO checkpoints (seq, body) VALUES (?, ?)`, []any{cp.Seq, string(body)}},
		{`DELETE FROM commit_authors WHERE seq <= ?`, []any{cp.Seq}},
		{`DELETE FROM records WHERE seq <= ?`, []any{cp.Seq}},
	} {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return fmt.Errorf("pruning the audit store: %w", err)
		}
	}
	return nil
}

// lastCheckpoint returns the newest checkpoint read through q, nil when
// there is none.
func lastCheckpoint(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (*history.Checkpoint, error) {
	var body string
	err := q.QueryRowContext(ctx, `SELECT body FROM checkpoints ORDER BY seq DESC LIMIT 1`).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the retention checkpoint: %w", err)
	}
	var cp history.Checkpoint
	if err := json.Unmarshal([]byte(body), &cp); err != nil {
		return nil, fmt.Errorf("reading the retention checkpoint: %w", err)
	}
	return &cp, nil
}
