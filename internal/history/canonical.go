package history

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Canonical returns the bytes a record's Hash is computed over, so that
// anyone holding an export can recompute the chain in any language:
//
//   - The JSON object of the Stored record as exported (the field names of
//     its json tags: "seq", "prevHash" and every Record field), WITHOUT the
//     "hash" member. Fields tagged omitempty are absent when empty.
//   - Object keys, at every depth, sorted by byte order of their UTF-8
//     names; no whitespace between tokens; no trailing newline.
//   - Strings escaped as Go's encoding/json escapes them with HTML escaping
//     off: `"` and `\` escaped, control characters as \n, \r, \t or \u00XX,
//     U+2028 and U+2029 as \u2028 and \u2029, every other character as
//     literal UTF-8 (invalid UTF-8 becomes U+FFFD).
//   - Times (Record.Time, Person.When) in UTC, in RFC 3339 with the
//     fraction of a second to the nanosecond and trailing zeros dropped (Go's
//     time.RFC3339Nano): "2026-11-23T17:05:00.1234Z", "2026-11-23T17:05:00Z".
//   - Durations as an integer number of nanoseconds; Seq and HelmVersion as
//     integers; numbers inside Change.Before and After exactly as they were
//     first encoded (a number is never rounded through a float).
//
// The hash of the record is then HashOf: lower-case hex of SHA-256 of these
// bytes. PrevHash, inside the hashed bytes, is the hash of the record before
// ("" for Seq 1), which is what chains the records.
func Canonical(s Stored) ([]byte, error) {
	s.Hash = ""
	s.Time = s.Time.UTC()
	if s.Commits != nil {
		commits := make([]Commit, len(s.Commits))
		for i, c := range s.Commits {
			c.Author.When, c.Committer.When = c.Author.When.UTC(), c.Committer.When.UTC()
			commits[i] = c
		}
		s.Commits = commits
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("canonical JSON of record %d: %w", s.Seq, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("canonical JSON of record %d: %w", s.Seq, err)
	}
	delete(m, "hash")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("canonical JSON of record %d: %w", s.Seq, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// HashOf returns the Hash a store assigns to s: the lower-case hex SHA-256
// of Canonical(s). s.Hash itself is ignored.
func HashOf(s Stored) (string, error) {
	b, err := Canonical(s)
	if err != nil {
		return "", err
	}
	return HashBytes(b), nil
}

// HashBytes returns the lower-case hex SHA-256 of canonical bytes, for
// stores that keep the canonical JSON and check it without decoding.
func HashBytes(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// DecodeCanonical decodes the canonical JSON of a record (or an exported
// record, with "hash") back into a Stored. Numbers inside Change.Before and
// After come back as json.Number, so re-encoding gives the same bytes and
// the same hash; stores must decode with it rather than json.Unmarshal.
func DecodeCanonical(b []byte) (Stored, error) {
	var s Stored
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		return Stored{}, fmt.Errorf("decoding a stored record: %w", err)
	}
	return s, nil
}
