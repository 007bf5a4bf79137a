package manifest

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/cairn-gitops/cairn/internal/jsonptr"
)

// Position is a 1-based line and column; the column counts characters.
type Position struct {
	Line, Column int
}

// locateJSON returns the byte offset in data that best shows the value at a
// JSON pointer: an object member's key, an array element's first byte, and,
// for a pointer that does not exist, the deepest ancestor that does. When a
// key is duplicated, the last occurrence (the one decoders keep) is shown.
// data must be well-formed JSON.
func locateJSON(data []byte, ptr string) int {
	p := &parser{data: data, maxDepth: 1 << 20}
	p.space()
	off := p.pos
	for _, tok := range jsonptr.Tokens(ptr) {
		if p.pos >= len(data) {
			return off
		}
		var at int
		var ok bool
		switch data[p.pos] {
		case '{':
			at, ok = p.findMember(tok)
		case '[':
			at, ok = p.findElement(tok)
		}
		if !ok {
			return off
		}
		off = at
	}
	return off
}

// findMember scans the object at p.pos for key; on success p.pos is at the
// member's value and the key's offset is returned.
func (p *parser) findMember(key string) (int, bool) {
	p.pos++
	keyAt, valAt, found := 0, 0, false
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] == '}' {
			break
		}
		if p.data[p.pos] == ',' {
			p.pos++
			continue
		}
		at := p.pos
		k, err := p.str()
		if err != nil {
			return 0, false
		}
		p.space()
		p.pos++ // :
		p.space()
		if k == key {
			keyAt, valAt, found = at, p.pos, true
		}
		if _, err := p.value(); err != nil {
			return 0, false
		}
	}
	p.pos = valAt
	return keyAt, found
}

// findElement scans the array at p.pos for the element at index tok.
func (p *parser) findElement(tok string) (int, bool) {
	idx, err := strconv.Atoi(tok)
	if err != nil || idx < 0 {
		return 0, false
	}
	p.pos++
	for i := 0; ; i++ {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] == ']' {
			return 0, false
		}
		if p.data[p.pos] == ',' {
			p.pos++
			p.space()
		}
		if i == idx {
			return p.pos, true
		}
		if _, err := p.value(); err != nil {
			return 0, false
		}
	}
}

// lineCol converts a byte offset into a 1-based line and character column.
func lineCol(data []byte, off int) Position {
	if off > len(data) {
		off = len(data)
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return Position{Line: line, Column: utf8.RuneCount(before[lineStart:]) + 1}
}
