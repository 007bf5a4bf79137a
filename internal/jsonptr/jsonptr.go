// Package jsonptr handles RFC 6901 JSON pointers over decoded JSON values
// (map[string]any and []any): splitting, escaping, joining and resolving.
// Findings, schema messages and source positions all speak in pointers;
// this package is their one implementation.
package jsonptr

import (
	"strconv"
	"strings"
)

// Tokens splits a pointer into unescaped tokens; "" has none.
func Tokens(ptr string) []string {
	if ptr == "" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, t := range parts {
		parts[i] = Unescape(t)
	}
	return parts
}

// Escape escapes one token: "~" becomes "~0" and "/" becomes "~1".
func Escape(tok string) string {
	if !strings.ContainsAny(tok, "~/") {
		return tok
	}
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// Unescape reverses Escape.
func Unescape(tok string) string {
	if !strings.Contains(tok, "~") {
		return tok
	}
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
}

// Join builds a pointer from unescaped tokens.
func Join(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(Escape(t))
	}
	return b.String()
}

// Resolve returns the value at ptr inside doc, or nil when there is none.
func Resolve(doc any, ptr string) any {
	cur := doc
	for _, tok := range Tokens(ptr) {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	return cur
}
