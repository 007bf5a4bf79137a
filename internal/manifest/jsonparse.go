package manifest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cairn-gitops/cairn/internal/jsonptr"
)

// SyntaxError is malformed JSON at a byte offset.
type SyntaxError struct {
	Offset int
	Msg    string
	Deep   bool // the nesting limit was exceeded
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg) }

// DuplicateKey is a key named twice in one object; the parser keeps the last.
type DuplicateKey struct {
	Offset  int    // of the second occurrence
	Pointer string // of the member
}

// parser decodes JSON into map[string]any, []any, string, json.Number, bool
// and nil in one pass, rejecting nesting beyond maxDepth and recording
// duplicate keys. It never recurses deeper than maxDepth.
type parser struct {
	data     []byte
	pos      int
	depth    int
	maxDepth int
	path     []string
	dups     []DuplicateKey
}

// parseJSON decodes one JSON value that must fill data (surrounding space aside).
func parseJSON(data []byte, maxDepth int) (any, []DuplicateKey, error) {
	p := &parser{data: data, maxDepth: maxDepth}
	p.space()
	v, err := p.value()
	if err != nil {
		return nil, nil, err
	}
	p.space()
	if p.pos < len(p.data) {
		return nil, nil, p.fail("unexpected data after the end of the document")
	}
	return v, p.dups, nil
}

func (p *parser) fail(format string, a ...any) *SyntaxError {
	return &SyntaxError{Offset: p.pos, Msg: fmt.Sprintf(format, a...)}
}

func (p *parser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value() (any, error) {
	if p.pos >= len(p.data) {
		return nil, p.fail("unexpected end of file: the document is truncated")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	default:
		return nil, p.fail("unexpected character %s", quoteChar(p.data[p.pos:]))
	}
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > p.maxDepth {
		e := p.fail("nesting deeper than %d levels", p.maxDepth)
		e.Deep = true
		return e
	}
	return nil
}

func (p *parser) object() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // {
	m := make(map[string]any, 8)
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		p.depth--
		return m, nil
	}
	for {
		p.space()
		keyAt := p.pos
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of file inside an object: the document is truncated")
		}
		if p.data[p.pos] != '"' {
			return nil, p.fail("expected a quoted key, found %s", quoteChar(p.data[p.pos:]))
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.fail("expected ':' after key %q", key)
		}
		p.pos++
		p.space()
		p.path = append(p.path, key)
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if _, dup := m[key]; dup {
			p.dups = append(p.dups, DuplicateKey{Offset: keyAt, Pointer: jsonptr.Join(p.path...)})
		}
		p.path = p.path[:len(p.path)-1]
		m[key] = v
		p.space()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of file inside an object: the document is truncated")
		}
		switch p.data[p.pos] {
		case ',':
			if err := p.comma('}', "member"); err != nil {
				return nil, err
			}
		case '}':
			p.pos++
			p.depth--
			return m, nil
		default:
			return nil, p.fail("expected ',' or '}' after a member, found %s", quoteChar(p.data[p.pos:]))
		}
	}
}

func (p *parser) array() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // [
	a := make([]any, 0, 4)
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		p.depth--
		return a, nil
	}
	for {
		p.space()
		p.path = append(p.path, strconv.Itoa(len(a)))
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		p.path = p.path[:len(p.path)-1]
		a = append(a, v)
		p.space()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of file inside an array: the document is truncated")
		}
		switch p.data[p.pos] {
		case ',':
			if err := p.comma(']', "element"); err != nil {
				return nil, err
			}
		case ']':
			p.pos++
			p.depth--
			return a, nil
		default:
			return nil, p.fail("expected ',' or ']' after an element, found %s", quoteChar(p.data[p.pos:]))
		}
	}
}

// comma consumes a ',' and refuses a trailing one before the closing
// bracket, reporting it at the comma itself (JSON has no trailing commas).
func (p *parser) comma(closing byte, what string) error {
	at := p.pos
	p.pos++
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == closing {
		p.pos = at
		return p.fail("trailing comma after the last %s (JSON allows none)", what)
	}
	return nil
}

// str decodes a string starting at the opening quote.
func (p *parser) str() (string, error) {
	start := p.pos + 1
	i := start
	for i < len(p.data) {
		c := p.data[i]
		if c == '"' {
			p.pos = i + 1
			return string(p.data[start:i]), nil
		}
		if c == '\\' {
			return p.strSlow(start)
		}
		if c < 0x20 {
			p.pos = i
			return "", p.fail("control character in a string (escape it)")
		}
		i++
	}
	p.pos = i
	return "", p.fail("unterminated string: the document is truncated")
}

// strSlow decodes a string with escapes.
func (p *parser) strSlow(start int) (string, error) {
	var b strings.Builder
	i := start
	for i < len(p.data) {
		c := p.data[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return b.String(), nil
		case c < 0x20:
			p.pos = i
			return "", p.fail("control character in a string (escape it)")
		case c != '\\':
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(p.data) {
			break
		}
		esc := p.data[i+1]
		i += 2
		switch esc {
		case '"', '\\', '/':
			b.WriteByte(esc)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, n, ok := p.unicodeEscape(i)
			if !ok {
				p.pos = i - 2
				return "", p.fail("invalid \\u escape")
			}
			b.WriteRune(r)
			i += n
		default:
			p.pos = i - 2
			return "", p.fail("invalid escape \\%c", esc)
		}
	}
	p.pos = i
	return "", p.fail("unterminated string: the document is truncated")
}

// unicodeEscape decodes the hex digits after \u at i (and a following low
// surrogate), returning the rune and the bytes consumed.
func (p *parser) unicodeEscape(i int) (rune, int, bool) {
	r1, ok := hex4(p.data, i)
	if !ok {
		return 0, 0, false
	}
	if !utf16.IsSurrogate(r1) {
		return r1, 4, true
	}
	if i+10 <= len(p.data) && p.data[i+4] == '\\' && p.data[i+5] == 'u' {
		if r2, ok := hex4(p.data, i+6); ok {
			if r := utf16.DecodeRune(r1, r2); r != utf8.RuneError {
				return r, 10, true
			}
		}
	}
	return utf8.RuneError, 4, true
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number scans a JSON number per RFC 8259 and returns it as json.Number.
func (p *parser) number() (any, error) {
	start := p.pos
	i := p.pos
	d := p.data
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		p.pos = i
		return nil, p.fail("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			p.pos = i
			return nil, p.fail("invalid number: digits must follow '.'")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			p.pos = i
			return nil, p.fail("invalid number: digits must follow the exponent")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	p.pos = i
	return json.Number(d[start:i]), nil
}

func (p *parser) literal(word string) error {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return p.fail("unexpected character %s", quoteChar(p.data[p.pos:]))
	}
	p.pos += len(word)
	return nil
}

// quoteChar names the character at the start of b for a message.
func quoteChar(b []byte) string {
	if len(b) == 0 {
		return "end of file"
	}
	r, _ := utf8.DecodeRune(b)
	return strconv.QuoteRune(r)
}
