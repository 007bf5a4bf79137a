package sqlitestore

import (
	"database/sql"
	"errors"
	"fmt"
)

// migrations[i] brings the schema from version i to i+1. Append only; never
// edit a migration that has shipped.
var migrations = []string{
	`CREATE TABLE records (
		seq         INTEGER PRIMARY KEY,
		time        TEXT NOT NULL,
		event       TEXT NOT NULL,
		adapter     TEXT NOT NULL,
		environment TEXT NOT NULL,
		revision    TEXT NOT NULL,
		body        TEXT NOT NULL,
		prev_hash   TEXT NOT NULL,
		hash        TEXT NOT NULL
	);
	CREATE INDEX records_adapter ON records (adapter, seq);
	CREATE INDEX records_event ON records (event, seq);
	CREATE INDEX records_environment ON records (environment, seq);
	CREATE INDEX records_time ON records (time);
	CREATE TABLE commit_authors (
		who TEXT NOT NULL,
		seq INTEGER NOT NULL REFERENCES records (seq),
		PRIMARY KEY (who, seq)
	) WITHOUT ROWID;`,
	// Retention checkpoints: body is the signed history.Checkpoint as JSON;
	// seq is the last record it removed.
	`CREATE TABLE checkpoints (
		seq  INTEGER PRIMARY KEY,
		body TEXT NOT NULL
	);`,
}

// migrate applies the migrations the file lacks, in one transaction.
func migrate(db *sql.DB) error {
	tx, err := db.Begin()
	if err != nil {
		return fmt.Errorf("migrating the schema: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrating the schema: %w", err)
	}
	var version int
	err = tx.QueryRow(`SELECT version FROM schema_version`).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.Exec(`INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("migrating the schema: %w", err)
		}
	case err != nil:
		return fmt.Errorf("migrating the schema: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this cairn knows (%d)", version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		if _, err := tx.Exec(migrations[v]); err != nil {
			return fmt.Errorf("migrating the schema to version %d: %w", v+1, err)
		}
	}
	if _, err := tx.Exec(`UPDATE schema_version SET version = ?`, len(migrations)); err != nil {
		return fmt.Errorf("migrating the schema: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrating the schema: %w", err)
	}
	return nil
}
