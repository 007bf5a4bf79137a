package mask

import (
	"encoding/json"
	"strings"
	"testing"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

func masker(t *testing.T, method string, fields ...string) *Masker {
	t.Helper()
	m, err := New(&v1.Masking{Fields: fields, Method: method}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const record = `{
  "actor": {"type": "user", "id": "alice@acme.example", "ip": "10.0.0.1"},
  "request": {"headers": {"Authorization": "Bearer abc", "User-Agent": "curl"}, "path": "/api/v1/status"},
  "spec": {"env": [{"name": "A", "value": "one"}, {"name": "B", "value": "two"}]},
  "output": {"x": {"secret": "s1", "keep": 1}, "y": {"secret": "s2"}}
}`

func TestRedactExampleFields(t *testing.T) {
	// The fields of examples/config-repo/security.json, plus a wildcard.
	m := masker(t, "", "request.headers.authorization", "actor.ip", "/spec/env/*/value", "output.*.secret")
	out, err := m.JSON([]byte(record))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Actor   map[string]string
		Request struct{ Headers map[string]string }
		Spec    struct{ Env []map[string]string }
		Output  map[string]map[string]any
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.Actor["ip"] != Redacted || got.Actor["id"] != "alice@acme.example" {
		t.Errorf("actor %v", got.Actor)
	}
	if got.Request.Headers["Authorization"] != Redacted || got.Request.Headers["User-Agent"] != "curl" {
		t.Errorf("headers %v", got.Request.Headers)
	}
	if got.Spec.Env[0]["value"] != Redacted || got.Spec.Env[1]["value"] != Redacted || got.Spec.Env[1]["name"] != "B" {
		t.Errorf("env %v", got.Spec.Env)
	}
	if got.Output["x"]["secret"] != Redacted || got.Output["y"]["secret"] != Redacted || got.Output["x"]["keep"] != 1.0 {
		t.Errorf("output %v", got.Output)
	}
	for _, s := range []string{"10.0.0.1", "Bearer abc", "one", "two", "s1", "s2"} {
		if strings.Contains(string(out), `"`+s+`"`) {
			t.Errorf("%q survived masking: %s", s, out)
		}
	}
}

func TestApplyDoesNotChangeInput(t *testing.T) {
	var in any
	_ = json.Unmarshal([]byte(record), &in)
	before, _ := json.Marshal(in)
	masker(t, "redact", "actor.ip", "spec.env.*.value").Apply(in)
	after, _ := json.Marshal(in)
	if string(before) != string(after) {
		t.Error("Apply changed its input")
	}
}

func TestHashKeepsEqualValuesComparable(t *testing.T) {
	m := masker(t, "hash", "*.ip")
	out := m.Apply(map[string]any{"a": map[string]any{"ip": "10.0.0.1"}, "b": map[string]any{"ip": "10.0.0.1"},
		"c": map[string]any{"ip": "10.0.0.2"}}).(map[string]any)
	a, b, c := out["a"].(map[string]any)["ip"], out["b"].(map[string]any)["ip"], out["c"].(map[string]any)["ip"]
	if a != b || a == c || !strings.HasPrefix(a.(string), "hash:") || len(a.(string)) != 21 {
		t.Errorf("hashes %v %v %v", a, b, c)
	}
	keyed, _ := New(&v1.Masking{Fields: []string{"ip"}, Method: "hash"}, Options{HashKey: []byte("k")})
	if keyed.Mask("10.0.0.1") == m.Mask("10.0.0.1") {
		t.Error("a hash key does not change the hash")
	}
}

func TestPartial(t *testing.T) {
	m := masker(t, "partial", "x")
	for in, want := range map[any]string{
		"alice@acme.example": "al****le",
		"10.0.0.1":           "1****1",
		"abcd":               "****",
		"":                   "****",
		12345678.0:           "1****8",
		true:                 Redacted,
	} {
		if got := m.Mask(in); got != want {
			t.Errorf("partial(%v) = %v, want %s", in, got, want)
		}
	}
	if got := m.Apply(map[string]any{"x": []any{"a", "b"}}).(map[string]any)["x"]; got != Redacted {
		t.Errorf("partial of a list = %v", got)
	}
}

func TestDisabledMasksNothing(t *testing.T) {
	off := false
	m, err := New(&v1.Masking{Enabled: &off, Fields: []string{"a"}}, Options{})
	if err != nil || m.Enabled() {
		t.Fatal(m, err)
	}
	if out, _ := m.JSON([]byte(`{"a":1}`)); string(out) != `{"a":1}` {
		t.Errorf("disabled masker changed %s", out)
	}
	if v, _ := m.Value(struct{ A int }{1}); v.(map[string]any)["A"] != 1.0 {
		t.Errorf("Value = %v", v)
	}
}

func TestValueMasksStructs(t *testing.T) {
	type actor struct {
		ID string `json:"id"`
		IP string `json:"ip"`
	}
	v, err := masker(t, "redact", "actor.ip").Value(struct {
		Actor actor `json:"actor"`
	}{actor{"a", "10.1.1.1"}})
	if err != nil || v.(map[string]any)["actor"].(map[string]any)["ip"] != Redacted {
		t.Fatal(v, err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, m := range []v1.Masking{{Method: "rot13"}, {Fields: []string{"a..b"}}, {Fields: []string{"/a//b"}}, {Fields: []string{"a b"}}} {
		if _, err := New(&m, Options{}); err == nil {
			t.Errorf("New(%+v) accepted", m)
		}
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"a.b", "/a/*/c", "*", "/", "a.", "/a~1b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		for _, k := range p {
			if k == "" {
				t.Fatalf("ParsePath(%q) has an empty key: %q", s, p)
			}
		}
	})
}
