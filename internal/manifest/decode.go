package manifest

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/cairn-gitops/cairn/internal/jsonptr"
)

// decodeTree stores a decoded JSON value (as parseJSON returns it) into the
// Go value dst points to, the way encoding/json would with unknown fields
// disallowed, but without encoding and scanning the text again: this is
// several times faster, and the validator decodes every document.
//
// Object keys must match json tags exactly (encoding/json also accepts a
// case-insensitive match; the schemas never do). null leaves the target at
// its zero value, as encoding/json does.
func decodeTree(v any, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("decode into %T: need a non-nil pointer", dst)
	}
	return decodeValue(v, rv.Elem(), "")
}

func decodeValue(v any, dst reflect.Value, ptr string) error {
	if v == nil {
		return nil
	}
	switch dst.Kind() {
	case reflect.Pointer:
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		return decodeValue(v, dst.Elem(), ptr)
	case reflect.Interface:
		dst.Set(reflect.ValueOf(v))
		return nil
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return mismatch(v, dst, ptr)
		}
		return decodeStruct(m, dst, ptr)
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok || dst.Type().Key().Kind() != reflect.String {
			return mismatch(v, dst, ptr)
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(m))
		for k, item := range m {
			ev := reflect.New(dst.Type().Elem()).Elem()
			if err := decodeValue(item, ev, ptr+"/"+jsonptr.Escape(k)); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(dst.Type().Key()), ev)
		}
		dst.Set(out)
		return nil
	case reflect.Slice:
		a, ok := v.([]any)
		if !ok {
			return mismatch(v, dst, ptr)
		}
		out := reflect.MakeSlice(dst.Type(), len(a), len(a))
		for i, item := range a {
			if err := decodeValue(item, out.Index(i), ptr+"/"+strconv.Itoa(i)); err != nil {
				return err
			}
		}
		dst.Set(out)
		return nil
	}
	return decodeScalar(v, dst, ptr)
}

func decodeScalar(v any, dst reflect.Value, ptr string) error {
	switch dst.Kind() {
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return mismatch(v, dst, ptr)
		}
		dst.SetString(s)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return mismatch(v, dst, ptr)
		}
		dst.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return mismatch(v, dst, ptr)
		}
		i, ok := integer(n)
		if !ok || dst.OverflowInt(i) {
			return &DecodeError{Pointer: ptr, Msg: fmt.Sprintf("number %s does not fit %s", n, dst.Type())}
		}
		dst.SetInt(i)
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			return mismatch(v, dst, ptr)
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || math.IsInf(f, 0) || dst.OverflowFloat(f) {
			return &DecodeError{Pointer: ptr, Msg: fmt.Sprintf("number %s does not fit %s", n, dst.Type())}
		}
		dst.SetFloat(f)
	default:
		return &DecodeError{Pointer: ptr, Msg: fmt.Sprintf("cannot decode into %s", dst.Type())}
	}
	return nil
}

// integer reads a JSON number that is an integer, as JSON Schema counts
// them: 9876 and 9876.0 are, 9876.5 is not.
func integer(n json.Number) (int64, bool) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// DecodeError is a value that does not fit the Go type it decodes into.
type DecodeError struct {
	// Pointer is the JSON pointer of the value, "" for the document.
	Pointer string
	Msg     string
}

func (e *DecodeError) Error() string { return orRoot(e.Pointer) + ": " + e.Msg }

func decodeStruct(m map[string]any, dst reflect.Value, ptr string) error {
	fields := structFields(dst.Type())
	for k, item := range m {
		idx, ok := fields[k]
		if !ok {
			return &DecodeError{Pointer: ptr + "/" + jsonptr.Escape(k), Msg: fmt.Sprintf("unknown field %q", k)}
		}
		if err := decodeValue(item, fieldByIndex(dst, idx), ptr+"/"+jsonptr.Escape(k)); err != nil {
			return err
		}
	}
	return nil
}

// fieldByIndex is reflect.Value.FieldByIndex, allocating embedded pointers.
func fieldByIndex(v reflect.Value, idx []int) reflect.Value {
	for i, x := range idx {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

// fieldCache maps a struct type to its JSON field names and field indexes.
// Like encoding/json's own cache it memoizes facts about types, which never
// change while the program runs.
var fieldCache sync.Map // reflect.Type -> map[string][]int

// structFields lists the JSON names of a struct's fields as encoding/json
// sees them: the tag name or the field name, embedded untagged structs
// inlined, "-" and unexported fields skipped.
func structFields(t reflect.Type) map[string][]int {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string][]int)
	}
	out := map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" && tag == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			for k, idx := range structFields(ft) {
				out[k] = append([]int{i}, idx...)
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = []int{i}
	}
	fieldCache.Store(t, out)
	return out
}

func mismatch(v any, dst reflect.Value, ptr string) error {
	return &DecodeError{Pointer: ptr, Msg: fmt.Sprintf("cannot decode %s into %s", typeName(v), dst.Type())}
}

func orRoot(ptr string) string {
	if ptr == "" {
		return "document"
	}
	return ptr
}
