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
		{name: "annotation key injecting YAML", doc: patch(t, "metadata.annotations", map[string]any{"x\nspec": "v"}),
			pointer: "/metadata/annotations/x\nspec", message: "must be a qualified name"},
		{name: "reserved secret key", doc: patch(t, "spec.credentials", map[string]any{"secretRef": map[string]any{"name": "s", "keys": []any{"..data"}}}),
			pointer: "/spec/credentials/secretRef/keys/0", message: "not '.', '..' or starting with '..'"},
		{name: "reserved env name", doc: patch(t, "spec.env", []any{map[string]any{"name": "CAIRN_ADAPTER", "value": "x"}}),
			pointer: "/spec/env/0/name", message: "must not be one of the variables cairn sets itself"},
		{name: "memory in K", doc: patch(t, "spec.resources", map[string]any{"limits": map[string]any{"memory": "512K"}}),
			pointer: "/spec/resources/limits/memory", message: "must be a Kubernetes memory quantity"},
	})
}

func TestValidateListenAndKafka(t *testing.T) {
	acceptor := func(listen map[string]any) any {
		doc := decode(t, goodAdapter)
		spec := doc.(map[string]any)["spec"].(map[string]any)
		spec["role"] = "acceptor"
		delete(spec, "connect")
		spec["listen"] = listen
		return doc
	}
	kafka := func(servers ...any) any {
		return decode(t, `{"apiVersion": "cairn.dev/v1alpha1", "kind": "Adapter", "metadata": {"name": "k", "environment": "prod"},
			"spec": {"protocol": "kafka", "role": "initiator", "kafka": {"bootstrapServers": `+mustJSON(t, servers)+`, "topics": {"outbound": "o"}}}}`)
	}
	runViolationCases(t, "Adapter", []violationCase{
		{name: "node port with NodePort", doc: acceptor(map[string]any{"port": json.Number("9000"), "allowedSources": []any{"10.0.0.0/8"}, "serviceType": "NodePort", "nodePort": json.Number("30001")})},
		{name: "node port without NodePort", doc: acceptor(map[string]any{"port": json.Number("9000"), "allowedSources": []any{"10.0.0.0/8"}, "nodePort": json.Number("30001")}),
			pointer: "/spec/listen/serviceType", message: `missing required field "serviceType"`},
		{name: "node port with ClusterIP", doc: acceptor(map[string]any{"port": json.Number("9000"), "allowedSources": []any{"10.0.0.0/8"}, "serviceType": "ClusterIP", "nodePort": json.Number("30001")}),
			pointer: "/spec/listen/serviceType", message: `value must be "NodePort"`},
		{name: "kafka port 65535", doc: kafka("k.example.net:65535")},
		{name: "kafka port 0", doc: kafka("k.example.net:0"), pointer: "/spec/kafka/bootstrapServers/0", message: "the port from 1 to 65535"},
		{name: "kafka port 99999", doc: kafka("k.example.net:99999"), pointer: "/spec/kafka/bootstrapServers/0", message: "the port from 1 to 65535"},
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
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
