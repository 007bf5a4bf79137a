package manifest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// stdDecode decodes with encoding/json, the reference for well-formed input.
func stdDecode(data []byte) (any, error) {
	d := json.NewDecoder(strings.NewReader(string(data)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if rest := strings.TrimLeft(string(data[d.InputOffset():]), " \t\r\n"); rest != "" {
		return nil, &SyntaxError{Msg: "trailing data"}
	}
	return v, nil
}

func TestParseJSONMatchesEncodingJSON(t *testing.T) {
	inputs := []string{
		`{}`, `[]`, `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`,
		`{"s":"esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00"}`,
		`[-0, 1.5e10, 2E-3, 0.25, -12]`, ` {"a" : [ 1 , 2 ] } `, `"x"`, `3`,
	}
	for _, in := range inputs {
		got, _, err := parseJSON([]byte(in), 64)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		want, err := stdDecode([]byte(in))
		if err != nil {
			t.Fatalf("%s: std: %v", in, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", in, got, want)
		}
	}
}

func TestParseJSONErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int    // where the error is reported
		msg    string // a substring of the message
		deep   bool
	}{
		{in: `{"a":1`, offset: 6, msg: "truncated"},
		{in: `{"a" 1}`, offset: 5, msg: "expected ':'"},
		{in: `{"a":1,}`, offset: 6, msg: "trailing comma after the last member"},
		{in: `[1, ]`, offset: 2, msg: "trailing comma after the last element"},
		{in: `[1 2]`, offset: 3, msg: "expected ',' or ']'"},
		{in: `{"a":01}`, offset: 6, msg: "expected ',' or '}'"},
		{in: `{"a":"b`, offset: 7, msg: "unterminated string"},
		{in: `{"a":tru}`, offset: 5, msg: "unexpected character"},
		{in: "{\"a\":\"\x01\"}", offset: 6, msg: "control character"},
		{in: `{} {}`, offset: 3, msg: "after the end"},
		{in: ``, offset: 0, msg: "truncated"},
		{in: `{"a":"\x"}`, offset: 6, msg: "invalid escape"},
		{in: `[1.]`, offset: 3, msg: "digits must follow '.'"},
		{in: strings.Repeat("[", 100) + strings.Repeat("]", 100), offset: 64, msg: "nesting deeper than 64", deep: true},
	}
	for _, tt := range tests {
		_, _, err := parseJSON([]byte(tt.in), 64)
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("%q: want a syntax error, got %v", tt.in, err)
			continue
		}
		if se.Offset != tt.offset || !strings.Contains(se.Msg, tt.msg) || se.Deep != tt.deep {
			t.Errorf("%q: got offset %d %q deep=%v, want offset %d containing %q deep=%v", tt.in, se.Offset, se.Msg, se.Deep, tt.offset, tt.msg, tt.deep)
		}
	}
}

func TestParseJSONDuplicateKeys(t *testing.T) {
	in := `{"spec":{"port":1,"port":2},"a":[{"x":1,"x":2}]}`
	v, dups, err := parseJSON([]byte(in), 64)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(map[string]any)["spec"].(map[string]any)["port"]; got != json.Number("2") {
		t.Errorf("the last duplicate must win, got %v", got)
	}
	want := []DuplicateKey{{Offset: 18, Pointer: "/spec/port"}, {Offset: 40, Pointer: "/a/0/x"}}
	if !reflect.DeepEqual(dups, want) {
		t.Errorf("got %+v, want %+v", dups, want)
	}
}

func TestLocateJSON(t *testing.T) {
	src := []byte("{\n  \"metadata\": {\"name\": \"a\"},\n  \"spec\": {\n    \"list\": [10, {\"k\": \"é\", \"v\": 2}],\n    \"dup\": 1, \"dup\": 2\n  }\n}\n")
	tests := []struct {
		ptr  string
		want Position
	}{
		{"", Position{1, 1}},
		{"/metadata", Position{2, 3}},
		{"/metadata/name", Position{2, 16}},
		{"/spec/list/1/v", Position{4, 29}},
		{"/spec/list/0", Position{4, 14}},
		{"/spec/dup", Position{5, 15}},             // the last occurrence
		{"/spec/missing", Position{3, 3}},          // falls back to the ancestor
		{"/spec/list/7", Position{4, 5}},           // index out of range
		{"/metadata/name/deeper", Position{2, 16}}, // through a scalar
	}
	for _, tt := range tests {
		if got := lineCol(src, locateJSON(src, tt.ptr)); got != tt.want {
			t.Errorf("%q: got %+v, want %+v", tt.ptr, got, tt.want)
		}
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `{"a":"\u00e9\ud83d\ude00"}`, `[[[[]]]]`, `{"a":1,"a":2}`, `-1.5e3`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return // the loader rejects invalid UTF-8 before parsing
		}
		got, _, err := parseJSON(data, 64)
		want, stdErr := stdDecode(data)
		if err != nil {
			se := err.(*SyntaxError)
			if se.Offset < 0 || se.Offset > len(data) {
				t.Fatalf("offset %d outside input of %d bytes", se.Offset, len(data))
			}
			if stdErr == nil && !se.Deep {
				t.Fatalf("rejected input encoding/json accepts: %v", err)
			}
			return
		}
		if stdErr != nil {
			t.Fatalf("accepted input encoding/json rejects (%v)", stdErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v, want %#v", got, want)
		}
	})
}

func FuzzLocateJSON(f *testing.F) {
	f.Add([]byte(`{"a":{"b":[1,{"c":2}]}}`), "/a/b/1/c")
	f.Add([]byte(`[1,2,3]`), "/2")
	f.Fuzz(func(t *testing.T, data []byte, ptr string) {
		if _, _, err := parseJSON(data, 64); err != nil {
			return
		}
		off := locateJSON(data, ptr)
		if off < 0 || off > len(data) {
			t.Fatalf("offset %d outside input of %d bytes", off, len(data))
		}
		if p := lineCol(data, off); p.Line < 1 || p.Column < 1 {
			t.Fatalf("position %+v", p)
		}
	})
}
