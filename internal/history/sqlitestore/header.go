package sqlitestore

import (
	"encoding/json"
	"errors"
	"strconv"
)

var errUnreadable = errors.New("not a JSON object")

// scanHeader reads the top-level members of a record's JSON that Verify
// compares with the indexed columns, skipping the rest without decoding it:
// encoding/json would spend most of Verify's time building values it then
// throws away. On a duplicate key the last one wins, as with encoding/json.
func scanHeader(b []byte) (header, error) {
	var h header
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return h, errUnreadable
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return h, nil
	}
	for {
		kEnd, err := skipValue(b, i)
		if err != nil || b[i] != '"' {
			return h, errUnreadable
		}
		key, err := unquote(b[i:kEnd])
		if err != nil {
			return h, err
		}
		i = skipSpace(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return h, errUnreadable
		}
		v := skipSpace(b, i+1)
		vEnd, err := skipValue(b, v)
		if err != nil {
			return h, err
		}
		if err := h.set(key, b[v:vEnd]); err != nil {
			return h, err
		}
		i = skipSpace(b, vEnd)
		if i >= len(b) {
			return h, errUnreadable
		}
		switch b[i] {
		case '}':
			if skipSpace(b, i+1) != len(b) {
				return h, errUnreadable
			}
			return h, nil
		case ',':
			i = skipSpace(b, i+1)
		default:
			return h, errUnreadable
		}
	}
}

func (h *header) set(key string, v []byte) error {
	var err error
	switch key {
	case "seq":
		h.Seq, err = strconv.ParseInt(string(v), 10, 64)
	case "prevHash":
		h.PrevHash, err = unquote(v)
	case "time":
		h.Time, err = unquote(v)
	case "event":
		h.Event, err = unquote(v)
	case "adapter":
		h.Adapter, err = unquote(v)
	case "environment":
		h.Environment, err = unquote(v)
	case "revision":
		h.Revision, err = unquote(v)
	}
	return err
}

// unquote decodes a JSON string token.
func unquote(tok []byte) (string, error) {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return "", errUnreadable
	}
	plain := true
	for _, c := range tok[1 : len(tok)-1] {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return string(tok[1 : len(tok)-1]), nil
	}
	var s string
	err := json.Unmarshal(tok, &s)
	return s, err
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at b[i]. It tracks
// strings and nesting only; it does not validate scalars.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errUnreadable
	}
	depth := 0
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			end, err := skipString(b, i)
			if err != nil {
				return 0, err
			}
			if depth == 0 {
				return end, nil
			}
			i = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return 0, errUnreadable
			}
			if depth == 0 {
				return i + 1, nil
			}
		case ',', ' ', '\t', '\n', '\r', ':':
			if depth == 0 {
				return i, nil
			}
		}
	}
	if depth != 0 {
		return 0, errUnreadable
	}
	return i, nil
}

// skipString returns the index after the string starting at b[i].
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errUnreadable
}
