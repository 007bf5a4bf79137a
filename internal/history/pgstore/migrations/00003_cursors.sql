-- The cursors of the audit destinations (package sink): for each
-- destination, by name, the seq of the last record delivered to it. Every
-- replica reads and writes this table, so a replica that becomes the leader
-- resumes each destination where the old leader stopped. A cursor only ever
-- moves forward (SaveCursor's upsert keeps the greater seq).

-- +goose Up
CREATE TABLE history_cursors (
    name text   PRIMARY KEY,
    seq  bigint NOT NULL CHECK (seq >= 0)
);

-- +goose Down
DROP TABLE history_cursors;
