package v1alpha1

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestExamplesRoundTrip decodes each example strictly into its type,
// encodes it again and checks that no field was lost or added on the way.
func TestExamplesRoundTrip(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "examples", "config-repo")
	tests := []struct {
		file string // example file, relative to the example repository
		into any    // a pointer to the type the file decodes into
	}{
		{file: "security.json", into: &SecurityConfig{}},
		{file: "policy.json", into: &ChangePolicy{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(tt.into); err != nil {
				t.Fatalf("strict decode: %v", err)
			}
			again, err := json.Marshal(tt.into)
			if err != nil {
				t.Fatal(err)
			}
			var before, after map[string]any
			if err := json.Unmarshal(raw, &before); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(again, &after); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(before, after) {
				t.Fatalf("round trip changed the document:\nbefore: %v\nafter:  %v", before, after)
			}
		})
	}
}

// TestSecuritySecretRefs checks that every Secret the example security.json
// references is listed, with the keys it must hold.
func TestSecuritySecretRefs(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "config-repo", "security.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s SecurityConfig
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	want := []SecretRef{
		{Name: "cairn-server-tls", Keys: []string{"tls.crt", "tls.key"}},
		{Name: "cairn-client-ca", Keys: []string{"ca.crt"}},
		{Name: "cairn-oidc", Keys: []string{"client-secret"}},
		{Name: "cairn-github-webhook", Keys: []string{"secret"}},
	}
	if got := s.SecretRefs(); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// TestBlockDefaults checks the nil-safe accessors that hold the defaults the
// schemas document.
func TestBlockDefaults(t *testing.T) {
	f, tr, zero, two := false, true, 0, 2
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"absent mtls is off", (*MTLS)(nil).On(), false},
		{"present mtls without enabled is on", (&MTLS{}).On(), true},
		{"mtls enabled false is off", (&MTLS{Enabled: &f}).On(), false},
		{"rbac enabled true is on", (&RBAC{Enabled: &tr}).On(), true},
		{"absent approvals need the default", (*Approvals)(nil).RequiredApprovals(), DefaultApprovals},
		{"approvals 0 need none", (&Approvals{Required: &zero}).RequiredApprovals(), 0},
		{"approvals 2 need two", (&Approvals{Required: &two}).RequiredApprovals(), 2},
		{"stale approvals are dismissed by default", (*Approvals)(nil).OnlyFinalHead(), true},
		{"stale approvals kept when asked", (&Approvals{DismissStale: &f}).OnlyFinalHead(), false},
		{"write permission required by default", (&Approvals{}).OnlyWriters(), true},
		{"direct push refused by default", (*DirectPush)(nil).IsAllowed(), false},
		{"direct push allowed when set", (&DirectPush{Allowed: &tr}).IsAllowed(), true},
		{"signatures optional by default", (&Signatures{}).IsRequired(), false},
		{"key enabled by default", (&APIKey{}).IsDisabled(), false},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}
