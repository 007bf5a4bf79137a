package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cairn-gitops/cairn/internal/history"
)

// Prune removes the oldest records whose time is before p.Before, up to
// the first record that is not, in one transaction that holds the chain
// head's row lock, stores the signed checkpoint and appends the
// HistoryPruned record carrying it.
func (s *Store) Prune(ctx context.Context, p history.Pruning) (history.Checkpoint, bool, error) {
	if p.Signer == nil {
		return history.Checkpoint{}, false, errors.New("pgstore: prune: no signing key")
	}
	var cp history.Checkpoint
	var ok bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		cp, ok, err = pruneTx(ctx, tx, p)
		return err
	})
	if err != nil {
		return history.Checkpoint{}, false, fmt.Errorf("pgstore: prune: %w", err)
	}
	return cp, ok, nil
}

func pruneTx(ctx context.Context, tx pgx.Tx, p history.Pruning) (history.Checkpoint, bool, error) {
	var headSeq int64
	var headHash string
	if err := tx.QueryRow(ctx, "SELECT seq, hash FROM history_head WHERE id = 1 FOR UPDATE").Scan(&headSeq, &headHash); err != nil {
		return history.Checkpoint{}, false, fmt.Errorf("locking the chain head: %w", err)
	}
	var first, young *int64
	err := tx.QueryRow(ctx, `SELECT (SELECT min(seq) FROM history_records),
		(SELECT min(seq) FROM history_records WHERE time_ns >= $1)`, nanos(p.Before)).Scan(&first, &young)
	if err != nil {
		return history.Checkpoint{}, false, err
	}
	if first == nil || young != nil && *young <= *first {
		return history.Checkpoint{}, false, nil
	}
	cp := history.Checkpoint{First: *first, Before: p.Before, Time: p.Record.Time}
	last := headSeq
	if young != nil {
		last = *young - 1
	}
	if err := tx.QueryRow(ctx, "SELECT seq, hash FROM history_records WHERE seq <= $1 ORDER BY seq DESC LIMIT 1",
		last).Scan(&cp.Seq, &cp.Hash); err != nil {
		return history.Checkpoint{}, false, err
	}
	cp = p.Signer.Sign(cp)
	if err := writePrune(ctx, tx, headSeq, headHash, p.Record, cp); err != nil {
		return history.Checkpoint{}, false, err
	}
	return cp, true, nil
}

// writePrune appends the HistoryPruned record after the head, stores the
// checkpoint and removes the range, inside tx.
func writePrune(ctx context.Context, tx pgx.Tx, headSeq int64, headHash string, r history.Record, cp history.Checkpoint) error {
	r.Event, r.Outcome, r.Checkpoint = history.HistoryPruned, history.Succeeded, &cp
	prep, err := history.Prepare(r)
	if err != nil {
		return err
	}
	rows := chain(headSeq, headHash, []*pending{{recs: []history.Record{r}, preps: []history.Prepared{prep}}})
	args := append([]any{headSeq, rows[0].seq, rows[0].hash}, columns(rows)...)
	var moved int
	if err := tx.QueryRow(ctx, appendSQL, args...).Scan(&moved); err != nil || moved != 1 {
		return fmt.Errorf("appending the %s record (moved %d): %w", history.HistoryPruned, moved, err)
	}
	body, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO history_checkpoints (seq, body) VALUES ($1, $2)", cp.Seq, string(body)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "DELETE FROM history_authors WHERE seq <= $1", cp.Seq); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "DELETE FROM history_records WHERE seq <= $1", cp.Seq)
	return err
}

// lastCheckpoint returns the newest checkpoint, nil when there is none.
func lastCheckpoint(ctx context.Context, tx pgx.Tx) (*history.Checkpoint, error) {
	var body string
	err := tx.QueryRow(ctx, "SELECT body FROM history_checkpoints ORDER BY seq DESC LIMIT 1").Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
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
