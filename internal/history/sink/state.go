package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/cairn-gitops/cairn/internal/history"
)

// StateFile is the name of the file, in Options.StateDir, that keeps each
// destination's cursor when the store does not (see history.CursorStore).
const StateFile = "audit-destinations.json"

// stateVersion is the shape of the state file.
const stateVersion = 1

// stateDoc is the state file's content.
type stateDoc struct {
	Version int `json:"version"`
	// Cursors maps a destination's name to the last Seq delivered to it.
	Cursors map[string]int64 `json:"cursors"`
}

// sharedSaveTimeout bounds saving one cursor in a history.CursorStore. The
// save is not cut short by the end of the Forwarder's Run: records that
// were delivered should have their cursor saved even as the leader steps
// down.
const sharedSaveTimeout = 10 * time.Second

// cursors keeps every destination's cursor in memory and where cursors
// live: in the store when it is a history.CursorStore (shared), else in the
// state file. It is safe for concurrent use; writes of the file are
// serialised.
type cursors struct {
	path string
	// shared is the store's cursor table; nil when cursors live in the
	// state file.
	shared history.CursorStore
	// local are the state file's cursors, read once; with shared, they are
	// used only for the names the store has no cursor for (a state from
	// before cursors were shared). Never written after loadCursors.
	local map[string]int64

	mu   sync.Mutex
	seqs map[string]int64
}

// loadCursors reads the state file in dir, creating dir (0750) if needed.
// A missing file is an empty state; an unreadable one is an error, since
// guessing would skip or repeat records. With shared, the cursors in memory
// start empty: refresh reads the store's, and the file's fill in the names
// the store lacks.
func loadCursors(dir string, shared history.CursorStore) (*cursors, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating the state folder: %w", err)
	}
	c := &cursors{path: filepath.Join(dir, StateFile), shared: shared, local: map[string]int64{}, seqs: map[string]int64{}}
	data, err := os.ReadFile(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the audit destinations' state: %w", err)
	}
	var doc stateDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("reading the audit destinations' state %s: %w", c.path, err)
	}
	if doc.Version != stateVersion {
		return nil, fmt.Errorf("audit destinations' state %s: version %d, want %d", c.path, doc.Version, stateVersion)
	}
	maps.Copy(c.local, doc.Cursors)
	if shared == nil {
		maps.Copy(c.seqs, doc.Cursors)
	}
	return c, nil
}

// refresh reads the shared cursors (nothing to do without), first giving
// the store, for each name it has no cursor for, the state file's cursor,
// and moves each cursor in memory up to the store's: another process may
// have delivered further while it led.
func (c *cursors) refresh(ctx context.Context) error {
	if c.shared == nil {
		return nil
	}
	saved, err := c.shared.LoadCursors(ctx)
	if err != nil {
		return fmt.Errorf("reading the shared audit cursors: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(c.local)) {
		if _, ok := saved[name]; ok {
			continue
		}
		if err := c.shared.SaveCursor(ctx, name, c.local[name]); err != nil {
			return fmt.Errorf("copying the audit cursor of %s from %s to the store: %w", name, c.path, err)
		}
		saved[name] = c.local[name]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, seq := range saved {
		if cur, ok := c.seqs[name]; !ok || seq > cur {
			c.seqs[name] = seq
		}
	}
	return nil
}

// get returns the cursor of name and whether it has one.
func (c *cursors) get(name string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	seq, ok := c.seqs[name]
	return seq, ok
}

// advance sets the cursor of name and saves it. The cursor is kept in
// memory even if saving fails, so that the next save writes it.
func (c *cursors) advance(ctx context.Context, name string, seq int64) error {
	c.mu.Lock()
	c.seqs[name] = seq
	if c.shared == nil {
		defer c.mu.Unlock()
		return c.save(c.seqs)
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedSaveTimeout)
	defer cancel()
	if err := c.shared.SaveCursor(ctx, name, seq); err != nil {
		return fmt.Errorf("saving the shared audit cursor: %w", err)
	}
	return nil
}

// begin gives every name that has no cursor yet the cursor seq and saves
// it; if saving fails, nothing is changed in memory. A shared cursor is
// saved without holding c.mu, so that a slow store never holds up the
// workers advancing theirs.
func (c *cursors) begin(ctx context.Context, names []string, seq int64) error {
	c.mu.Lock()
	var fresh []string
	for _, n := range names {
		if _, ok := c.seqs[n]; !ok && !slices.Contains(fresh, n) {
			fresh = append(fresh, n)
		}
	}
	if len(fresh) == 0 || c.shared == nil {
		defer c.mu.Unlock()
		return c.beginLocal(fresh, seq)
	}
	c.mu.Unlock()
	for _, n := range fresh {
		if err := c.shared.SaveCursor(ctx, n, seq); err != nil {
			return fmt.Errorf("saving the shared audit cursor: %w", err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range fresh {
		if _, ok := c.seqs[n]; !ok {
			c.seqs[n] = seq
		}
	}
	return nil
}

// beginLocal gives the names fresh the cursor seq in the state file, then
// in memory. Called with c.mu held.
func (c *cursors) beginLocal(fresh []string, seq int64) error {
	if len(fresh) == 0 {
		return nil
	}
	next := maps.Clone(c.seqs)
	for _, n := range fresh {
		next[n] = seq
	}
	if err := c.save(next); err != nil {
		return err
	}
	c.seqs = next
	return nil
}

// save writes seqs to the state file. Called with c.mu held.
func (c *cursors) save(seqs map[string]int64) error {
	data, err := json.MarshalIndent(stateDoc{Version: stateVersion, Cursors: seqs}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the audit destinations' state: %w", err)
	}
	if err := writeAtomic(c.path, append(data, '\n')); err != nil {
		return fmt.Errorf("saving the audit destinations' state: %w", err)
	}
	return nil
}

// writeAtomic replaces the file at path with data: it writes a temporary
// file (mode 0600) in the same folder, fsyncs it, renames it over path and
// fsyncs the folder, so that a crash leaves the old file or the new one.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("creating a temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("renaming %s: %w", tmp.Name(), err)
	}
	return syncDir(dir)
}

// syncDir fsyncs a folder, making a rename in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
