package schema

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

const goodAdapter = `{
  "apiVersion": "cairn.dev/v1alpha1",
  "kind": "Adapter",
  "metadata": {"name": "lse-fix-primary", "environment": "prod", "labels": {"venue": "lse"}},
  "spec": {
    "protocol": "fix", "role": "initiator",
    "fix": {"version": "FIX.4.4", "senderCompID": "ACME", "targetCompID": "LSE", "heartbeatSeconds": 30,
            "schedule": {"timezone": "Europe/London", "start": "06:00", "end": "18:00"}},
    "connect": {"host": "fix.lse.example.net", "port": 9876, "tls": true},
    "credentials": {"secretRef": {"name": "lse-fix-credentials", "keys": ["username", "password"]}},
    "replicas": 1
  }
}`

func decode(t *testing.T, s string) any {
	t.Helper()
	return decodeB(t, s)
}

func decodeB(t testing.TB, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// patch returns goodAdapter with the value at a dotted path replaced (or
// removed when val is nil).
func patch(t *testing.T, path string, val any) any {
	t.Helper()
	doc := decode(t, goodAdapter)
	keys := strings.Split(path, ".")
	m := doc.(map[string]any)
	for _, k := range keys[:len(keys)-1] {
		m = m[k].(map[string]any)
	}
	if val == nil {
		delete(m, keys[len(keys)-1])
	} else {
		m[keys[len(keys)-1]] = val
	}
	return doc
}

func TestValidateAdapter(t *testing.T) {
	runViolationCases(t, "Adapter", []violationCase{
		{name: "valid", doc: decode(t, goodAdapter)},
		{name: "unknown field", doc: patch(t, "spec.password", "x"), pointer: "/spec/password", message: `unknown field "password"`},
		{name: "missing connect", doc: patch(t, "spec.connect", nil), pointer: "/spec/connect",
			message: `missing required field "connect" unless role is "acceptor"`},
		{name: "listen on initiator", doc: patch(t, "spec.listen", map[string]any{"port": json.Number("9000"), "allowedSources": []any{"10.0.0.0/8"}}),
			pointer: "/spec/listen", message: `field "listen" is not allowed unless role is "acceptor"`},
		{name: "bad protocol", doc: patch(t, "spec.protocol", "ftp"), pointer: "/spec/protocol", message: "value must be one of"},
		{name: "bad name", doc: patch(t, "metadata.name", "LSE_Primary"), pointer: "/metadata/name", message: "must be a DNS-1123 label"},
		{name: "port out of range", doc: patch(t, "spec.connect.port", json.Number("70000")), pointer: "/spec/connect/port", message: "must be <= 65535"},
		{name: "bad host", doc: patch(t, "spec.connect.host", "not a host!"), pointer: "/spec/connect/host", message: "must be a DNS name or an IP address"},
	})
}

func TestEverySchemaCompiles(t *testing.T) {
	set, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Compile(); err != nil {
		t.Fatal(err)
	}
	want := []string{"Adapter", "ChangePolicy", "Repository", "SecurityConfig"}
	if got := set.Kinds(); !slices.Equal(got, want) {
		t.Fatalf("kinds %v, want %v", got, want)
	}
}
