-- Retention checkpoints: body is the signed history.Checkpoint as JSON; seq
-- is the last record it removed. Verify starts the chain after the newest.

-- +goose Up
CREATE TABLE history_checkpoints (
    seq  bigint PRIMARY KEY CHECK (seq > 0),
    body text   NOT NULL
);

-- +goose Down
DROP TABLE history_checkpoints;
