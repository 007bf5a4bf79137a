package pgstore

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/cairn-gitops/cairn/internal/history"
)

const (
	// writeTimeout bounds one append transaction, so an Append returns even
	// when the server hangs rather than refusing connections.
	writeTimeout = 10 * time.Second
	// maxBatch caps the records committed in one transaction.
	maxBatch = 500
	// queueLen is how many Appends may wait for the committer.
	queueLen = 2 * maxBatch
	// versionTable is goose's record of the migrations applied.
	versionTable = "history_schema_version"
	defaultLimit = 100
	maxLimit     = 1000
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("pgstore: store closed")

// Store is a history.Store in PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool  *pgxpool.Pool
	queue chan *pending

	// head is the chain head as this store last wrote or read it; only the
	// committer goroutine uses it.
	head struct {
		seq  int64
		hash string
	}
	headKnown bool

	closeOnce sync.Once
	closing   chan struct{} // closed by Close: no new Appends
	stopped   chan struct{} // closed when the committer has returned
}

var _ history.Store = (*Store)(nil)

// pending is one Append waiting for the committer.
type pending struct {
	ctx    context.Context
	recs   []history.Record
	preps  []history.Prepared // recs' canonical JSON, their place left open
	result chan error         // buffered: the committer never blocks on it
}

// Open connects to dsn (a libpq URL or key=value string; pgxpool's
// pool_max_conns and the like apply), applies the schema migrations not yet
// applied, and returns the store. The caller must Close it.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: migrating the schema: %w", err)
	}
	s := &Store{pool: pool, queue: make(chan *pending, queueLen),
		closing: make(chan struct{}), stopped: make(chan struct{})}
	go s.commitLoop()
	return s, nil
}

// migrate applies the embedded migrations under goose's session advisory
// lock.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	files, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	// Replicas starting together wait for the first one's migrations,
	// checking every second (goose's default is every 5 s) for 5 minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, files,
		goose.WithTableName(versionTable), goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// Close stops accepting Appends, waits for the transaction in flight, and
// closes the connections.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		<-s.stopped
		s.pool.Close()
	})
	return nil
}

// Append adds r to the chain, assigning its Seq, PrevHash and Hash, and
// returns once it is committed. ctx bounds the wait; an Append that ends
// with ctx's error may still have been committed.
func (s *Store) Append(ctx context.Context, r history.Record) error {
	return s.AppendAll(ctx, []history.Record{r})
}

// AppendAll appends records as consecutive records in one transaction, all
// or none, like Append.
func (s *Store) AppendAll(ctx context.Context, records []history.Record) error {
	if len(records) == 0 {
		return nil
	}
	p := &pending{ctx: ctx, recs: records, preps: make([]history.Prepared, len(records)), result: make(chan error, 1)}
	for i, r := range records { // here, in parallel, not in the committer
		prep, err := history.Prepare(r)
		if err != nil {
			return fmt.Errorf("pgstore: append: %w", err)
		}
		p.preps[i] = prep
	}
	select {
	case s.queue <- p:
	case <-s.closing:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("pgstore: append: %w", ctx.Err())
	}
	select {
	case err := <-p.result:
		return err
	case <-s.stopped:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("pgstore: append (may have been committed): %w", ctx.Err())
	}
}

// commitLoop takes the waiting Appends in batches and commits each batch in
// one transaction, until Close.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	for {
		var first *pending
		select {
		case first = <-s.queue:
		case <-s.closing:
			return
		}
		batch := []*pending{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case p := <-s.queue:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		s.commitBatch(batch)
	}
}

// commitBatch commits the batch's records whose callers still wait, and
// tells each caller its outcome.
func (s *Store) commitBatch(batch []*pending) {
	live := batch[:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.result <- fmt.Errorf("pgstore: append: %w", err)
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	err := s.insert(ctx, live)
	var pgErr *pgconn.PgError
	if err != nil && pgconn.SafeToRetry(err) && !errors.As(err, &pgErr) {
		// A connection the server had closed (after a restart, say) failed
		// before anything was sent: once more, on a fresh one.
		err = s.insert(ctx, live)
	}
	if err != nil {
		err = fmt.Errorf("pgstore: append: %w", err)
	}
	for _, p := range live {
		p.result <- err
	}
}

// row is one record as inserted.
type row struct {
	seq     int64
	hash    string
	body    string
	authors []string
	rec     *history.Record
}

// appendSQL appends a batch in one statement, so in one round trip and one
// transaction: it moves the chain head from $1 to ($2, $3) and inserts the
// records and their authors only if the head was still at $1. The UPDATE
// locks the head row until the commit; a writer that raced it sees the new
// head and inserts nothing, reloads the head and tries again. So Seq stays
// gapless and each PrevHash is the hash committed before it.
const appendSQL = `WITH head AS (
	UPDATE history_head SET seq = $2, hash = $3 WHERE id = 1 AND seq = $1 RETURNING seq
), recs AS (
	INSERT INTO history_records (seq, hash, event, adapter, environment, time_ns, body)
	SELECT * FROM unnest($4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[])
	WHERE EXISTS (SELECT 1 FROM head)
), authors AS (
	INSERT INTO history_authors (who, seq)
	SELECT * FROM unnest($11::text[], $12::bigint[]) WHERE EXISTS (SELECT 1 FROM head)
)
SELECT count(*) FROM head`

// maxRaces is how often insert reloads a head another writer moved before
// it gives up.
const maxRaces = 100

// insert appends the records of batch in one transaction.
func (s *Store) insert(ctx context.Context, batch []*pending) error {
	for race := 0; race < maxRaces; race++ {
		if !s.headKnown {
			err := s.pool.QueryRow(ctx, "SELECT seq, hash FROM history_head WHERE id = 1").Scan(&s.head.seq, &s.head.hash)
			if err != nil {
				return fmt.Errorf("reading the chain head: %w", err)
			}
			s.headKnown = true
		}
		rows := chain(s.head.seq, s.head.hash, batch)
		last := rows[len(rows)-1]
		var moved int
		args := append([]any{s.head.seq, last.seq, last.hash}, columns(rows)...)
		if err := s.pool.QueryRow(ctx, appendSQL, args...).Scan(&moved); err != nil {
			s.headKnown = false // the commit may or may not have happened
			return fmt.Errorf("inserting %d records: %w", len(rows), err)
		}
		if moved == 1 {
			s.head.seq, s.head.hash = last.seq, last.hash
			return nil
		}
		s.headKnown = false // another writer appended since
	}
	return fmt.Errorf("the chain head moved %d times in a row: too many writers", maxRaces)
}

// chain assigns Seq, PrevHash and Hash to the records of batch, after the
// head (seq, hash).
func chain(seq int64, hash string, batch []*pending) []row {
	var rows []row
	for _, p := range batch {
		for i := range p.recs {
			body := p.preps[i].Canonical(seq+1, hash)
			seq, hash = seq+1, history.HashBytes(body)
			rows = append(rows, row{seq: seq, hash: hash, body: string(body), authors: authors(p.recs[i]), rec: &p.recs[i]})
		}
	}
	return rows
}

// columns turns rows into the arrays appendSQL unnests.
func columns(rows []row) []any {
	var (
		seqs           = make([]int64, len(rows))
		times          = make([]int64, len(rows))
		hashes, events = make([]string, len(rows)), make([]string, len(rows))
		adapters, envs = make([]string, len(rows)), make([]string, len(rows))
		bodies         = make([]string, len(rows))
	)
	for i, r := range rows {
		seqs[i], hashes[i], bodies[i] = r.seq, r.hash, r.body
		events[i], adapters[i], envs[i] = string(r.rec.Event), r.rec.Adapter, r.rec.Environment
		times[i] = nanos(r.rec.Time)
	}
	who, whoSeq := []string{}, []int64{}
	for _, r := range rows {
		for _, a := range r.authors {
			who, whoSeq = append(who, a), append(whoSeq, r.seq)
		}
	}
	return []any{seqs, hashes, events, adapters, envs, times, bodies, who, whoSeq}
}

// authors are the distinct names and e-mails of the authors of r's commits.
func authors(r history.Record) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range r.Commits {
		for _, w := range []string{c.Author.Name, c.Author.Email} {
			if w != "" && !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}

// nanos is t in Unix nanoseconds, clamped to the int64 range (years 1678 to
// 2262), so that filters compare times as Go does within that range.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// Get returns record seq, or an error wrapping history.ErrNotFound.
func (s *Store) Get(ctx context.Context, seq int64) (history.Stored, error) {
	var hash, body string
	err := s.pool.QueryRow(ctx, "SELECT hash, body FROM history_records WHERE seq = $1", seq).Scan(&hash, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return history.Stored{}, fmt.Errorf("pgstore: record %d: %w", seq, history.ErrNotFound)
	}
	if err != nil {
		return history.Stored{}, fmt.Errorf("pgstore: record %d: %w", seq, err)
	}
	return decode(seq, hash, body)
}

// decode turns a stored row back into the record.
func decode(seq int64, hash, body string) (history.Stored, error) {
	st, err := history.DecodeCanonical([]byte(body))
	if err != nil {
		return history.Stored{}, fmt.Errorf("pgstore: record %d: %w", seq, err)
	}
	st.Hash = hash
	return st, nil
}

// List returns the records f selects, newest first.
func (s *Store) List(ctx context.Context, f history.Filter) ([]history.Stored, error) {
	var where []string
	var args []any
	cond := func(sql string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(sql, "$?", "$"+strconv.Itoa(len(args))))
	}
	if f.Adapter != "" {
		cond("adapter = $?", f.Adapter)
	}
	if f.Environment != "" {
		cond("environment = $?", f.Environment)
	}
	if f.Author != "" {
		cond("seq IN (SELECT seq FROM history_authors WHERE who = $?)", f.Author)
	}
	if len(f.Events) > 0 {
		events := make([]string, len(f.Events))
		for i, e := range f.Events {
			events[i] = string(e)
		}
		cond("event = ANY($?)", events)
	}
	if !f.Since.IsZero() {
		cond("time_ns >= $?", nanos(f.Since))
	}
	if !f.Until.IsZero() {
		cond("time_ns < $?", nanos(f.Until))
	}
	if f.Before > 0 {
		cond("seq < $?", f.Before)
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = defaultLimit
	case limit > maxLimit:
		limit = maxLimit
	}
	q := "SELECT seq, hash, body FROM history_records"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	q += " ORDER BY seq DESC LIMIT $" + strconv.Itoa(len(args))
	var out []history.Stored
	err := s.query(ctx, q, args, func(seq int64, hash, body string) error {
		st, err := decode(seq, hash, body)
		out = append(out, st)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: list: %w", err)
	}
	return out, nil
}

// query runs q and calls fn with each row's seq, hash and body.
func (s *Store) query(ctx context.Context, q string, args []any, fn func(seq int64, hash, body string) error) error {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var seq int64
	var hash, body string
	for rows.Next() {
		if err := rows.Scan(&seq, &hash, &body); err != nil {
			return err
		}
		if err := fn(seq, hash, body); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Scan calls fn for every record after seq after, oldest first, until fn
// returns an error, which Scan returns.
func (s *Store) Scan(ctx context.Context, after int64, fn func(history.Stored) error) error {
	var fnErr error
	q := "SELECT seq, hash, body FROM history_records WHERE seq > $1 ORDER BY seq"
	err := s.query(ctx, q, []any{after}, func(seq int64, hash, body string) error {
		st, err := decode(seq, hash, body)
		if err != nil {
			return err
		}
		if err := fn(st); err != nil {
			fnErr = err
			return err
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("pgstore: scan: %w", err)
	}
	return nil
}

// Verify recomputes every record's hash from the stored canonical JSON and
// checks that Seq has no gap, that each record names its own Seq and the
// hash of the one before, and that the filtered columns agree with it; the
// chain starts after the newest retention checkpoint, whose signature it
// checks and which a HistoryPruned record of the chain must carry. It stops
// at the first bad record, and reads one snapshot.
func (s *Store) Verify(ctx context.Context) (history.Verification, error) {
	var v history.Verification
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			cp, err := lastCheckpoint(ctx, tx)
			if err != nil {
				return err
			}
			v, err = verifyRows(ctx, tx, cp)
			return err
		})
	if err != nil {
		return history.Verification{}, fmt.Errorf("pgstore: verify: %w", err)
	}
	return v, nil
}

// verifyRows checks the records after cp (from the first when nil).
func verifyRows(ctx context.Context, tx pgx.Tx, cp *history.Checkpoint) (history.Verification, error) {
	v := history.Verification{Checkpoint: cp}
	prev, want := "", int64(1)
	if cp != nil {
		if err := cp.Check(nil); err != nil {
			v.FirstBad, v.Reason = cp.Seq+1, err.Error()
			return v, nil
		}
		prev, want = cp.Hash, cp.Seq+1
	}
	rows, err := tx.Query(ctx,
		"SELECT seq, hash, event, adapter, environment, time_ns, body FROM history_records ORDER BY seq")
	if err != nil {
		return v, err
	}
	defer rows.Close()
	recorded := cp == nil
	var r stored
	for rows.Next() {
		if err := rows.Scan(&r.seq, &r.hash, &r.event, &r.adapter, &r.environment, &r.ns, &r.body); err != nil {
			return history.Verification{}, err
		}
		v.Records++
		if reason := r.check(want, prev); reason != "" {
			v.FirstBad, v.Reason = r.seq, reason
			return v, nil
		}
		recorded = recorded || history.Event(r.event) == history.HistoryPruned && history.Carries(r.body, cp)
		prev, want = r.hash, r.seq+1
	}
	if err := rows.Err(); err != nil {
		return history.Verification{}, err
	}
	if !recorded {
		v.FirstBad, v.Reason = cp.Seq+1, history.CheckpointNotRecorded(cp)
		return v, nil
	}
	v.OK = true
	return v, nil
}

// stored is one row as Verify reads it.
type stored struct {
	seq, ns                           int64
	hash, event, adapter, environment string
	body                              []byte
}

// linked is what Verify decodes of a body: the chain fields, and the fields
// copied into filtered columns.
type linked struct {
	Seq         int64     `json:"seq"`
	PrevHash    string    `json:"prevHash"`
	Event       string    `json:"event"`
	Adapter     string    `json:"adapter"`
	Environment string    `json:"environment"`
	Time        time.Time `json:"time"`
}

// check says what is wrong with the row, "" when nothing is, given the Seq
// it must have and the hash of the record before.
func (r *stored) check(want int64, prev string) string {
	if r.seq != want {
		return fmt.Sprintf("record %d follows record %d: a record is missing", r.seq, want-1)
	}
	if history.HashBytes(r.body) != r.hash {
		return "its hash does not match its contents: edited"
	}
	var l linked
	if err := json.Unmarshal(r.body, &l); err != nil {
		return "its contents are not a record: " + err.Error()
	}
	switch {
	case l.Seq != r.seq:
		return fmt.Sprintf("its contents are record %d's: moved", l.Seq)
	case l.PrevHash != prev:
		return "it does not link to the record before"
	case l.Event != r.event || l.Adapter != r.adapter || l.Environment != r.environment || nanos(l.Time) != r.ns:
		return "its indexed columns (event, adapter, environment, time) differ from its contents: edited"
	}
	return ""
}
