package manifest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// strictStd decodes with encoding/json, unknown fields disallowed: the
// reference decodeTree must agree with.
func strictStd(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func TestDecodeTreeMatchesEncodingJSON(t *testing.T) {
	files, err := filepath.Glob("../../examples/config-repo/*.json")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../../examples/config-repo/adapters/*/*.json")
	files = append(files, more...)
	if len(files) < 10 {
		t.Fatalf("found only %d example files", len(files))
	}
	types := map[string]func() any{
		"Repository":     func() any { return &v1.Repository{} },
		"Adapter":        func() any { return &v1.Adapter{} },
		"SecurityConfig": func() any { return &v1.SecurityConfig{} },
		"ChangePolicy":   func() any { return &v1.ChangePolicy{} },
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tree, _, err := parseJSON(data, 64)
		if err != nil {
			t.Fatal(err)
		}
		kind := tree.(map[string]any)["kind"].(string)
		got, want := types[kind](), types[kind]()
		if err := decodeTree(tree, got); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := strictStd(data, want); err != nil {
			t.Fatalf("%s: encoding/json: %v", f, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decodeTree and encoding/json disagree:\n%+v\n%+v", f, got, want)
		}
	}
}

func TestDecodeTreeErrors(t *testing.T) {
	tests := []struct {
		doc string
		msg string // a substring of the error
	}{
		{`{"kind":"Adapter","bogus":1}`, `/bogus: unknown field "bogus"`},
		{`{"spec":{"connect":{"port":"9876"}}}`, "/spec/connect/port: cannot decode a string into int"},
		{`{"spec":{"connect":{"port":1.5}}}`, "/spec/connect/port: number 1.5 does not fit int"},
		{`{"spec":{"env":{}}}`, "/spec/env: cannot decode an object into []v1alpha1.EnvVar"},
		{`{"metadata":{"labels":{"a/b":1}}}`, "/metadata/labels/a~1b: cannot decode a number into string"},
		{`{"spec":{"suspended":"yes"}}`, "/spec/suspended: cannot decode a string into bool"},
		{`{"spec":{"replicas":99999999999999999999}}`, "does not fit int"},
	}
	for _, tt := range tests {
		tree, _, err := parseJSON([]byte(tt.doc), 64)
		if err != nil {
			t.Fatal(err)
		}
		var a v1.Adapter
		err = decodeTree(tree, &a)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: got %v, want an error containing %q", tt.doc, err, tt.msg)
		}
		if strictStd([]byte(tt.doc), &v1.Adapter{}) == nil {
			t.Errorf("%s: encoding/json accepts what decodeTree refuses", tt.doc)
		}
	}
}

func TestDecodeTreeIntegers(t *testing.T) {
	tree, _, err := parseJSON([]byte(`{"spec":{"connect":{"port":9876.0},"replicas":2e0}}`), 64)
	if err != nil {
		t.Fatal(err)
	}
	var a v1.Adapter
	if err := decodeTree(tree, &a); err != nil {
		t.Fatal(err)
	}
	if a.Spec.Connect.Port != 9876 || *a.Spec.Replicas != 2 {
		t.Errorf("integral numbers must decode as JSON Schema counts them: %+v", a.Spec)
	}
}

func FuzzDecodeTree(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"cairn.dev/v1alpha1","kind":"Adapter","metadata":{"name":"a","environment":"uat"},"spec":{"protocol":"fix","replicas":2,"env":[{"name":"A","value":"b"}]}}`))
	f.Add([]byte(`{"spec":{"listen":{"port":1,"allowedSources":["10.0.0.0/8"]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return // the loader rejects invalid UTF-8 before parsing
		}
		tree, _, err := parseJSON(data, 64)
		if err != nil {
			return
		}
		var got, want v1.Adapter
		errGot := decodeTree(tree, &got)
		errStd := strictStd(data, &want)
		if errGot == nil && errStd != nil && !strings.Contains(errStd.Error(), "number") {
			// decodeTree also accepts integral numbers such as 1.0 and 1e2
			t.Fatalf("decodeTree accepts what encoding/json refuses: %v", errStd)
		}
		if errGot == nil && errStd == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("disagree:\n%+v\n%+v", got, want)
		}
	})
}
