package api

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/cairn-gitops/cairn/internal/history"
)

// accessLog writes access records to the audit store without ever making a
// request wait for the disk: records queue in memory and a writer appends
// them in batches (one transaction each). When the queue is full a record
// is dropped and counted (Dropped); a refusal is never worth blocking the
// API for, and a flood of them is what fills the queue.
type accessLog struct {
	rec     history.Recorder
	queue   chan history.Record
	dropped atomic.Int64
	// pending counts records queued and not yet written (or dropped).
	pending atomic.Int64
	log     *slog.Logger
}

// accessQueue bounds the records waiting; accessBatch the records per
// transaction.
const (
	accessQueue = 8192
	accessBatch = 512
)

func newAccessLog(rec history.Recorder, log *slog.Logger) *accessLog {
	return &accessLog{rec: rec, queue: make(chan history.Record, accessQueue), log: log}
}

// add queues r; it never blocks.
func (a *accessLog) add(r history.Record) {
	if a == nil || a.rec == nil {
		return
	}
	a.pending.Add(1)
	select {
	case a.queue <- r:
	default:
		a.dropped.Add(1)
		a.pending.Add(-1)
	}
}

// Dropped is how many access records were dropped because the queue was
// full.
func (a *accessLog) Dropped() int64 { return a.dropped.Load() }

// run appends queued records until ctx ends, then writes what is left.
func (a *accessLog) run(ctx context.Context) {
	for {
		select {
		case r := <-a.queue:
			a.flush(context.WithoutCancel(ctx), r)
		case <-ctx.Done():
			for {
				select {
				case r := <-a.queue:
					a.flush(context.WithoutCancel(ctx), r)
				default:
					return
				}
			}
		}
	}
}

// flush appends first and whatever else is queued, up to a batch.
func (a *accessLog) flush(ctx context.Context, first history.Record) {
	batch := []history.Record{first}
	for len(batch) < accessBatch {
		select {
		case r := <-a.queue:
			batch = append(batch, r)
			continue
		default:
		}
		break
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	defer a.pending.Add(-int64(len(batch)))
	if err := history.AppendAll(ctx, a.rec, batch); err != nil {
		a.dropped.Add(int64(len(batch)))
		a.log.ErrorContext(ctx, "access records not written", "records", len(batch), "error", err)
	}
}
