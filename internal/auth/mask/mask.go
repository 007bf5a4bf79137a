package mask

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// Method is how a value is masked.
type Method string

// Methods of masking.
const (
	Redact  Method = "redact"
	Hash    Method = "hash"
	Partial Method = "partial"
)

// Redacted replaces a redacted value.
const Redacted = "[redacted]"

// pathPattern is the schema's fieldPath.
var pathPattern = regexp.MustCompile(`^((/([-A-Za-z0-9_.@$]+|\*))+|([-A-Za-z0-9_@$]+|\*)(\.([-A-Za-z0-9_@$]+|\*))*)$`)

// Options are what security.json does not say.
type Options struct {
	// HashKey keys the hash method's HMAC; keep it stable (every replica,
	// every restart) for hashes to stay comparable.
	HashKey []byte
}

// Masker masks one configuration's fields. A nil *Masker, or one built from
// an absent or disabled block, returns its input unchanged.
type Masker struct {
	paths  [][]string
	method Method
	key    []byte
}

// New compiles a masking block.
func New(m *v1.Masking, opts Options) (*Masker, error) {
	if !m.On() {
		return nil, nil
	}
	mk := &Masker{method: Method(m.Method), key: opts.HashKey}
	switch mk.method {
	case "":
		mk.method = Redact
	case Redact, Hash, Partial:
	default:
		return nil, fmt.Errorf("masking: unknown method %q (redact, hash or partial)", m.Method)
	}
	for _, f := range m.Fields {
		p, err := ParsePath(f)
		if err != nil {
			return nil, err
		}
		mk.paths = append(mk.paths, p)
	}
	return mk, nil
}

// ParsePath splits a dotted path or a JSON pointer into its keys.
func ParsePath(s string) ([]string, error) {
	if len(s) > 512 || !pathPattern.MatchString(s) {
		return nil, fmt.Errorf("masking: field path %q: want a.b.c or /a/b/c, with * for any key", s)
	}
	if strings.HasPrefix(s, "/") {
		return strings.Split(s[1:], "/"), nil
	}
	return strings.Split(s, "."), nil
}

// Enabled reports whether the masker masks anything.
func (m *Masker) Enabled() bool { return m != nil && len(m.paths) > 0 }

// Apply returns v with the configured fields masked. v is decoded JSON
// (map[string]any, []any, scalars); the result shares unmasked parts
// with v and v itself is not changed.
func (m *Masker) Apply(v any) any {
	if !m.Enabled() {
		return v
	}
	return m.walk(v, m.paths)
}

// JSON masks a JSON document.
func (m *Masker) JSON(doc []byte) ([]byte, error) {
	if !m.Enabled() {
		return doc, nil
	}
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil, fmt.Errorf("masking: %w", err)
	}
	return json.Marshal(m.walk(v, m.paths))
}

// Value masks any value that marshals to JSON (a struct such as an audit
// record) and returns it decoded, ready to be marshalled again.
func (m *Masker) Value(v any) (any, error) {
	doc, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("masking: %w", err)
	}
	var out any
	if err := json.Unmarshal(doc, &out); err != nil {
		return nil, fmt.Errorf("masking: %w", err)
	}
	return m.Apply(out), nil
}

// walk masks v for paths, each relative to v.
func (m *Masker) walk(v any, paths [][]string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, child := range t {
			out[k] = m.child(k, child, paths)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, child := range t {
			out[i] = m.child(strconv.Itoa(i), child, paths)
		}
		return out
	}
	return v
}

// child masks the value under key: whole if a path ends there, deeper if a
// path goes on, untouched otherwise.
func (m *Masker) child(key string, v any, paths [][]string) any {
	var deeper [][]string
	for _, p := range paths {
		if p[0] != "*" && !strings.EqualFold(p[0], key) {
			continue
		}
		if len(p) == 1 {
			return m.Mask(v)
		}
		deeper = append(deeper, p[1:])
	}
	if deeper == nil {
		return v
	}
	return m.walk(v, deeper)
}

// Mask masks one value with the configured method.
func (m *Masker) Mask(v any) any {
	if m == nil {
		return v
	}
	switch m.method {
	case Hash:
		return m.hash(v)
	case Partial:
		return partial(v)
	}
	return Redacted
}

func (m *Masker) hash(v any) string {
	doc, _ := json.Marshal(v) // decoded JSON always marshals
	var sum []byte
	if len(m.key) > 0 {
		h := hmac.New(sha256.New, m.key)
		h.Write(doc)
		sum = h.Sum(nil)
	} else {
		s := sha256.Sum256(doc)
		sum = s[:]
	}
	return "hash:" + hex.EncodeToString(sum[:8])
}

// partial keeps the ends of a string or number; other values are redacted.
func partial(v any) string {
	var s string
	switch t := v.(type) {
	case string:
		s = t
	case float64:
		s = strconv.FormatFloat(t, 'f', -1, 64)
	case json.Number, int, int64:
		s = fmt.Sprint(t)
	default:
		return Redacted
	}
	r := []rune(s)
	if len(r) <= 4 {
		return "****"
	}
	n := min(max(len(r)/8, 1), 4)
	return string(r[:n]) + "****" + string(r[len(r)-n:])
}
