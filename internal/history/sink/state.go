package sink

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync"
)

// StateFile is the name of the file, in Options.StateDir, that keeps each
// destination's cursor.
const StateFile = "audit-destinations.json"

// stateVersion is the shape of the state file.
const stateVersion = 1

// stateDoc is the state file's content.
type stateDoc struct {
	Version int `json:"version"`
	// Cursors maps a destination's name to the last Seq delivered to it.
	Cursors map[string]int64 `json:"cursors"`
}

// cursors keeps every destination's cursor in memory and in the state file.
// It is safe for concurrent use; writes of the file are serialised.
type cursors struct {
	path string
	mu   sync.Mutex
	seqs map[string]int64
}

// loadCursors reads the state file in dir, creating dir (0750) if needed.
// A missing file is an empty state; an unreadable one is an error, since
// guessing would skip or repeat records.
func loadCursors(dir string) (*cursors, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating the state folder: %w", err)
	}
	c := &cursors{path: filepath.Join(dir, StateFile), seqs: map[string]int64{}}
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
	maps.Copy(c.seqs, doc.Cursors)
	return c, nil
}

// get returns the cursor of name and whether it has one.
func (c *cursors) get(name string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	seq, ok := c.seqs[name]
	return seq, ok
}

// advance sets the cursor of name and saves the state. The cursor is kept in
// memory even if saving fails, so that the next save writes it.
func (c *cursors) advance(name string, seq int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seqs[name] = seq
	return c.save(c.seqs)
}

// begin gives every name that has no cursor yet the cursor seq and saves
// the state; if saving fails, nothing is changed.
func (c *cursors) begin(names []string, seq int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := maps.Clone(c.seqs)
	for _, n := range names {
		if _, ok := next[n]; !ok {
			next[n] = seq
		}
	}
	if len(next) == len(c.seqs) {
		return nil
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
