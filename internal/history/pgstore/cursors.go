package pgstore

import (
	"context"
	"fmt"

	"github.com/cairn-gitops/cairn/internal/history"
)

var _ history.CursorStore = (*Store)(nil)

// saveCursorSQL creates the cursor, or moves it forward: never backwards,
// whatever order racing savers commit in.
const saveCursorSQL = `INSERT INTO history_cursors (name, seq) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET seq = GREATEST(history_cursors.seq, EXCLUDED.seq)`

// LoadCursors returns the cursor of every audit destination, by name, as
// the replicas sharing the database saved them.
func (s *Store) LoadCursors(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, "SELECT name, seq FROM history_cursors")
	if err != nil {
		return nil, fmt.Errorf("pgstore: loading the audit cursors: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	var name string
	var seq int64
	for rows.Next() {
		if err := rows.Scan(&name, &seq); err != nil {
			return nil, fmt.Errorf("pgstore: loading the audit cursors: %w", err)
		}
		out[name] = seq
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: loading the audit cursors: %w", err)
	}
	return out, nil
}

// SaveCursor moves the cursor of the audit destination name forward to seq
// (GREATEST of the saved seq and seq), creating it if needed, in one
// committed statement. A negative seq is refused.
func (s *Store) SaveCursor(ctx context.Context, name string, seq int64) error {
	if seq < 0 {
		return fmt.Errorf("pgstore: audit cursor %q: negative seq %d", name, seq)
	}
	if _, err := s.pool.Exec(ctx, saveCursorSQL, name, seq); err != nil {
		return fmt.Errorf("pgstore: saving the audit cursor %q: %w", name, err)
	}
	return nil
}
