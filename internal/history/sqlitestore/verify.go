package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/cairn-gitops/cairn/internal/history"
)

// Verify recomputes the chain from the first record (after the newest
// retention checkpoint, whose signature it checks): each record's hash must
// be the SHA-256 of its stored canonical JSON, its Seq one more than the
// previous, its PrevHash the previous hash, and its indexed columns equal
// to what the hashed JSON says (so filters cannot be misled); the
// checkpoint must be the one a HistoryPruned record of the chain carries.
// It stops at the first bad record. It reads one snapshot, so it can run
// while records are appended.
func (s *Store) Verify(ctx context.Context) (history.Verification, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return history.Verification{}, fmt.Errorf("verifying the audit store: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN DEFERRED`); err != nil {
		return history.Verification{}, fmt.Errorf("verifying the audit store: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`) //nolint:errcheck // a read-only snapshot
	cp, err := lastCheckpoint(ctx, conn)
	if err != nil {
		return history.Verification{}, err
	}
	v := history.Verification{Checkpoint: cp}
	var prev row
	if cp != nil {
		if err := cp.Check(nil); err != nil {
			v.FirstBad, v.Reason = cp.Seq+1, err.Error()
			return v, nil
		}
		prev = row{seq: cp.Seq, hash: cp.Hash}
	}
	return verifyRows(ctx, conn, v, prev)
}

// verifyRows checks every record after prev, within conn's snapshot.
func verifyRows(ctx context.Context, conn *sql.Conn, v history.Verification, prev row) (history.Verification, error) {
	rows, err := conn.QueryContext(ctx, `SELECT seq, prev_hash, hash, body, time, event, adapter, environment, revision
		FROM records ORDER BY seq`)
	if err != nil {
		return history.Verification{}, fmt.Errorf("verifying the audit store: %w", err)
	}
	defer rows.Close()
	recorded := v.Checkpoint == nil
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.seq, &r.prevHash, &r.hash, &r.body, &r.time, &r.event, &r.adapter,
			&r.environment, &r.revision); err != nil {
			return history.Verification{}, fmt.Errorf("verifying the audit store: %w", err)
		}
		v.Records++
		if reason := r.check(prev); reason != "" {
			v.FirstBad, v.Reason = r.seq, reason
			return v, nil
		}
		recorded = recorded || history.Event(r.event) == history.HistoryPruned && history.Carries(r.body, v.Checkpoint)
		prev = r
	}
	if err := rows.Err(); err != nil {
		return history.Verification{}, fmt.Errorf("verifying the audit store: %w", err)
	}
	if !recorded {
		v.FirstBad, v.Reason = v.Checkpoint.Seq+1, history.CheckpointNotRecorded(v.Checkpoint)
		return v, nil
	}
	v.OK = true
	return v, nil
}

type row struct {
	seq                                         int64
	prevHash, hash                              string
	body                                        []byte
	time, event, adapter, environment, revision string
}

// header is what Verify reads back from the hashed JSON.
type header struct {
	Seq         int64  `json:"seq"`
	PrevHash    string `json:"prevHash"`
	Time        string `json:"time"`
	Event       string `json:"event"`
	Adapter     string `json:"adapter"`
	Environment string `json:"environment"`
	Revision    string `json:"revision"`
}

// check returns why r is bad after prev (the zero row before the first),
// or "".
func (r *row) check(prev row) string {
	switch {
	case r.seq != prev.seq+1:
		return fmt.Sprintf("record %d follows record %d: records missing or reordered", r.seq, prev.seq)
	case history.HashBytes(r.body) != r.hash:
		return fmt.Sprintf("record %d: hash does not match its contents (edited)", r.seq)
	case r.prevHash != prev.hash:
		return fmt.Sprintf("record %d does not link to record %d (a record was dropped, replaced or moved)", r.seq, prev.seq)
	}
	h, err := scanHeader(r.body)
	if err != nil {
		return fmt.Sprintf("record %d: unreadable: %v", r.seq, err)
	}
	t, err := parseTime(h.Time)
	if err != nil {
		return fmt.Sprintf("record %d: unreadable time: %v", r.seq, err)
	}
	if h.Seq != r.seq || h.PrevHash != r.prevHash || t != r.time || h.Event != r.event ||
		h.Adapter != r.adapter || h.Environment != r.environment || h.Revision != r.revision {
		return fmt.Sprintf("record %d: the columns disagree with the hashed record (edited)", r.seq)
	}
	return ""
}

// parseTime turns the canonical time (RFC 3339, UTC) into the time column's
// fixed-width form.
func parseTime(s string) (string, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "", err
	}
	return t.UTC().Format(timeLayout), nil
}
