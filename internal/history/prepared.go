package history

import (
	"bytes"
	"fmt"
	"strconv"
)

// Prepared is a record's canonical JSON with its place in the chain (Seq
// and PrevHash) still open. Encoding is most of the cost of an append; a
// store prepares records before it takes its write lock and, holding it,
// only fills in the place.
type Prepared struct {
	// head, mid and tail surround the values of "prevHash" and "seq".
	head, mid, tail []byte
}

var (
	prevHashHole = []byte(`"prevHash":""`)
	seqHole      = []byte(`"seq":0`)
)

// Prepare encodes r for Canonical.
func Prepare(r Record) (Prepared, error) {
	b, err := Canonical(Stored{Record: r})
	if err != nil {
		return Prepared{}, err
	}
	// Keys are sorted, and every top-level key after "prevHash" and "seq"
	// (previous, release, revision, time, valuesDigest) holds a string, so
	// the last occurrences are the top-level members; a string cannot hold
	// them, as its quotes are escaped.
	p := bytes.LastIndex(b, prevHashHole)
	s := bytes.LastIndex(b, seqHole)
	if p < 0 || s < p {
		return Prepared{}, fmt.Errorf("canonical JSON without its prevHash and seq: %s", b)
	}
	p += len(prevHashHole) - 1 // at the closing quote
	s += len(seqHole) - 1      // at the 0
	return Prepared{head: b[:p], mid: b[p:s], tail: b[s+1:]}, nil
}

// Canonical returns Canonical of the record placed at seq after prevHash,
// which must be a hash (lower-case hex).
func (p Prepared) Canonical(seq int64, prevHash string) []byte {
	out := make([]byte, 0, len(p.head)+len(p.mid)+len(p.tail)+len(prevHash)+20)
	out = append(out, p.head...)
	out = append(out, prevHash...)
	out = append(out, p.mid...)
	out = strconv.AppendInt(out, seq, 10)
	return append(out, p.tail...)
}
