-- The audit trail: one row per record, holding the exact canonical JSON that
-- was hashed (body), so Verify recomputes each hash from the bytes hashed.
-- The other columns are copies of fields of body, for List's filters.

-- +goose Up
CREATE TABLE history_records (
    seq         bigint PRIMARY KEY CHECK (seq > 0),
    hash        text   NOT NULL,
    event       text   NOT NULL,
    adapter     text   NOT NULL,
    environment text   NOT NULL,
    time_ns     bigint NOT NULL, -- Record.Time in Unix nanoseconds
    body        text   NOT NULL
);
CREATE INDEX history_records_adapter ON history_records (adapter, seq DESC);
CREATE INDEX history_records_environment ON history_records (environment, seq DESC);
CREATE INDEX history_records_event ON history_records (event, seq DESC);
CREATE INDEX history_records_time ON history_records (time_ns);

-- The names and e-mails of the authors of each record's commits.
CREATE TABLE history_authors (
    who text   NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (who, seq)
);

-- The head of the chain. Every append updates this one row, only if it
-- still holds the head the writer chained from, in the transaction that
-- inserts the records: writers in any number of processes take turns on its
-- row lock, Seq stays gapless and each PrevHash is the hash committed before.
CREATE TABLE history_head (
    id   int    PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash text   NOT NULL
);
INSERT INTO history_head VALUES (1, 0, '');

-- +goose Down
DROP TABLE history_head;
DROP TABLE history_authors;
DROP TABLE history_records;
