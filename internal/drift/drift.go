package drift

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"

	"github.com/aymanbagabas/go-udiff"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/cairn-gitops/cairn/internal/jsonptr"
)

// Kind says how a field differs.
type Kind string

const (
	// Changed: the live value is not the rendered one.
	Changed Kind = "changed"
	// MissingField: the rendered field is absent from the live object.
	MissingField Kind = "missing-field"
)

// Redacted replaces a Secret's values in changes and diffs.
const Redacted = "<redacted>"

// redactedDiffers marks a live Secret value that differs from the rendered
// one, so that the diff still shows which key changed.
const redactedDiffers = "<redacted, differs>"

// Change is one rendered field whose live value differs.
type Change struct {
	// Pointer is the field's RFC 6901 JSON pointer ("/spec/replicas").
	Pointer string `json:"pointer"`
	// Want is the rendered value, Got the live one (nil for a missing
	// field); for a list of another length, the whole lists.
	Want any  `json:"want"`
	Got  any  `json:"got"`
	Kind Kind `json:"kind"`
}

// Report is the outcome of a comparison.
type Report struct {
	// Changes are ordered by pointer; none means in sync.
	Changes []Change `json:"changes,omitempty"`
	// Diff is a unified diff from the rendered object to the live one
	// projected onto the rendered fields, both as YAML; "" when in sync.
	Diff string `json:"diff,omitempty"`
}

// InSync reports whether no rendered field differs.
func (r Report) InSync() bool { return len(r.Changes) == 0 }

// ParseError is returned when the rendered object cannot be read.
type ParseError struct{ Err error }

func (e *ParseError) Error() string { return "drift: rendered object: " + e.Err.Error() }
func (e *ParseError) Unwrap() error { return e.Err }

// Compare compares a rendered object (YAML or JSON, as render.Object.YAML)
// with the live object (as a dynamic client returns it, Object of an
// *unstructured.Unstructured).
func Compare(rendered []byte, live map[string]any) (Report, error) {
	want, err := Decode(rendered)
	if err != nil {
		return Report{}, err
	}
	return CompareObjects(want, live), nil
}

// Decode reads a rendered object (YAML or JSON) into maps, keeping numbers
// exact (json.Number), for CompareObjects. Its error is a *ParseError.
func Decode(doc []byte) (map[string]any, error) {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, &ParseError{Err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		return nil, &ParseError{Err: err}
	}
	if out == nil {
		return nil, &ParseError{Err: fmt.Errorf("not an object")}
	}
	return out, nil
}

// CompareObjects is Compare for an already decoded rendered object. Neither
// argument is modified.
func CompareObjects(want, live map[string]any) Report {
	secret := isSecret(want)
	if secret {
		want = stringDataAsData(want)
	}
	w := walker{secret: secret}
	projected, _ := w.walk(nil, want, live, true)
	slices.SortStableFunc(w.changes, func(a, b Change) int {
		return cmpPointers(a.Pointer, b.Pointer)
	})
	r := Report{Changes: w.changes}
	if len(r.Changes) > 0 {
		r.Diff = unified(want, projected.(map[string]any), secret)
	}
	return r
}

func cmpPointers(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ignored reports whether the field at path is never compared: the
// top-level status and the metadata the server owns.
func ignored(path []string) bool {
	switch len(path) {
	case 1:
		return path[0] == "status"
	case 2:
		if path[0] != "metadata" {
			return false
		}
		switch path[1] {
		case "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
			"selfLink", "deletionTimestamp", "deletionGracePeriodSeconds":
			return true
		}
	}
	return false
}

// walker collects changes while it builds the projected live object.
type walker struct {
	secret  bool
	changes []Change
}

// walk compares want with live at path and returns the live value projected
// onto want (want itself where they are equal) and whether it exists.
func (w *walker) walk(path []string, want, live any, present bool) (any, bool) {
	if !present {
		if isEmpty(want) {
			return want, true
		}
		w.add(path, want, nil, MissingField)
		return nil, false
	}
	switch wv := want.(type) {
	case map[string]any:
		lv, ok := live.(map[string]any)
		if !ok {
			w.add(path, want, live, Changed)
			return live, true
		}
		return w.walkMap(path, wv, lv), true
	case []any:
		lv, ok := live.([]any)
		if !ok {
			w.add(path, want, live, Changed)
			return live, true
		}
		return w.walkList(path, wv, lv), true
	}
	if equalScalar(want, live) {
		return want, true
	}
	w.add(path, want, live, Changed)
	return live, true
}

func (w *walker) walkMap(path []string, want, live map[string]any) map[string]any {
	out := make(map[string]any, len(want))
	for _, k := range slices.Sorted(maps.Keys(want)) {
		p := append(slices.Clip(path), k)
		if want[k] == nil || ignored(p) {
			continue // null asks for no value; server-owned fields are not ours
		}
		lv, ok := live[k]
		if v, exists := w.walk(p, want[k], lv, ok); exists {
			out[k] = v
		}
	}
	return out
}

func (w *walker) walkList(path []string, want, live []any) []any {
	if len(want) != len(live) {
		sub := walker{secret: w.secret}
		out := make([]any, len(live))
		for i, lv := range live {
			out[i] = lv
			if i < len(want) {
				out[i], _ = sub.walk(nil, want[i], lv, true)
			}
		}
		w.add(path, want, out, Changed)
		return out
	}
	out := make([]any, len(live))
	for i := range want {
		out[i], _ = w.walk(append(slices.Clip(path), fmt.Sprint(i)), want[i], live[i], true)
	}
	return out
}

func (w *walker) add(path []string, want, got any, kind Kind) {
	ptr := jsonptr.Join(path...)
	if w.secret && secretValuePath(path) {
		want = redact(want, Redacted)
		if got != nil {
			got = redact(got, redactedDiffers)
		}
	}
	w.changes = append(w.changes, Change{Pointer: ptr, Want: want, Got: got, Kind: kind})
}

// isEmpty reports whether v is a value the API server omits when empty.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	if r, ok := number(v); ok {
		return r.Sign() == 0
	}
	return false
}

// equalScalar compares two leaf values: numbers numerically, quantities as
// quantities, anything else by equality.
func equalScalar(want, live any) bool {
	if want == live {
		return true
	}
	wn, wok := number(want)
	ln, lok := number(live)
	if wok && lok {
		return wn.Cmp(ln) == 0
	}
	wq, wok := quantity(want)
	lq, lok := quantity(live)
	_, ws := want.(string)
	_, ls := live.(string)
	return wok && lok && (ws || ls) && wq.Cmp(lq) == 0
}

// number reads any Go number (and json.Number) as an exact rational.
func number(v any) (*big.Rat, bool) {
	r := new(big.Rat)
	switch x := v.(type) {
	case json.Number:
		_, ok := r.SetString(string(x))
		return r, ok
	case int:
		return r.SetInt64(int64(x)), true
	case int32:
		return r.SetInt64(int64(x)), true
	case int64:
		return r.SetInt64(x), true
	case float64:
		if r.SetFloat64(x) == nil {
			return nil, false
		}
		return r, true
	case float32:
		if r.SetFloat64(float64(x)) == nil {
			return nil, false
		}
		return r, true
	}
	return nil, false
}

// quantity reads a string or a number as a resource.Quantity.
func quantity(v any) (resource.Quantity, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = string(x)
	default:
		r, ok := number(v)
		if !ok {
			return resource.Quantity{}, false
		}
		s = r.FloatString(9)
	}
	q, err := resource.ParseQuantity(s)
	return q, err == nil
}

func isSecret(obj map[string]any) bool {
	return obj["kind"] == "Secret" && obj["apiVersion"] == "v1"
}

// secretValuePath reports whether path is a Secret's data or stringData or
// inside them.
func secretValuePath(path []string) bool {
	return len(path) > 0 && (path[0] == "data" || path[0] == "stringData")
}

// redact replaces every leaf under v with mark, keeping the keys.
func redact(v any, mark string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = redact(e, mark)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redact(e, mark)
		}
		return out
	}
	return mark
}

// stringDataAsData returns a copy of a rendered Secret whose stringData is
// merged into data (base64), as the API server stores it.
func stringDataAsData(obj map[string]any) map[string]any {
	sd, ok := obj["stringData"].(map[string]any)
	if !ok {
		return obj
	}
	out := maps.Clone(obj)
	delete(out, "stringData")
	data := map[string]any{}
	if d, ok := obj["data"].(map[string]any); ok {
		data = maps.Clone(d)
	}
	for k, v := range sd {
		if s, ok := v.(string); ok {
			data[k] = base64.StdEncoding.EncodeToString([]byte(s))
		}
	}
	out["data"] = data
	return out
}

// unified is the diff from the rendered object to the projected live one,
// with a Secret's values redacted.
func unified(want, projected map[string]any, secret bool) string {
	if secret {
		want, projected = redactSecret(want, projected)
	}
	a, err1 := yaml.Marshal(want)
	b, err2 := yaml.Marshal(projected)
	if err1 != nil || err2 != nil {
		return "" // values decoded from JSON always marshal
	}
	return udiff.Unified("rendered", "live", string(a), string(b))
}

// redactSecret replaces the values of both objects' data, marking the live
// ones that differ.
func redactSecret(want, live map[string]any) (map[string]any, map[string]any) {
	w, l := maps.Clone(want), maps.Clone(live)
	wd, _ := want["data"].(map[string]any)
	ld, _ := live["data"].(map[string]any)
	if wd != nil {
		w["data"] = redact(wd, Redacted)
	}
	if ld != nil {
		out := make(map[string]any, len(ld))
		for k, v := range ld {
			out[k] = Redacted
			if !equalScalar(wd[k], v) {
				out[k] = redactedDiffers
			}
		}
		l["data"] = out
	}
	return w, l
}
