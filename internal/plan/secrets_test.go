package plan

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/validate"
)

// TestPlanHoldsOnlyReferences changes credentials every way an adapter can
// reference them and rotates an API key. The Secrets themselves exist
// nowhere: the plan is built from the manifests and the rendered values and
// objects alone, so every value it shows comes from them, references show
// as names and keys, and an API key's hash is never shown.
func TestPlanHoldsOnlyReferences(t *testing.T) {
	base, head := example(t), example(t)
	find(t, head, "prod/lse-fix-primary").Spec.Credentials.SecretRef = v1.SecretRef{Name: "lse-fix-credentials-v2", Keys: []string{"username", "password", "new-password"}}
	find(t, head, "prod/kafka-orders-bridge").Spec.Env[1].SecretKeyRef = &v1.SecretKeyRef{Name: "kafka-truststore-v2", Key: "password"}
	find(t, head, "uat/lse-fix-primary").Spec.TLS = &v1.TLS{SecretRef: &v1.SecretRef{Name: "lse-client-cert", Keys: []string{"tls.crt", "tls.key"}}}
	head.Security.Spec.Authentication.APIKeys.Keys[1].Hash = "sha256:" + strings.Repeat("5e", 32)
	bRev, hRev := revision(t, "main", base), revision(t, "rotate", head)
	p := Compare(bRev, hRev)

	var outputs bytes.Buffer
	for _, f := range Formats {
		if err := Write(&outputs, f, p); err != nil {
			t.Fatal(err)
		}
	}
	var hashes []string
	for _, r := range []*validate.Result{base, head} {
		for _, k := range r.Security.Spec.Authentication.APIKeys.Keys {
			hashes = append(hashes, strings.TrimPrefix(k.Hash, "sha256:"))
		}
	}
	for _, h := range hashes {
		if strings.Contains(outputs.String(), h) {
			t.Errorf("an API key hash appears in the plan: %s", h)
		}
	}

	// Every string the plan shows as a value is in the inputs it was given.
	var inputs bytes.Buffer
	for _, rev := range []Revision{bRev, hRev} {
		for _, v := range []any{rev.Result.Repository, rev.Result.Security, rev.Result.Policy, rev.Releases} {
			b, _ := json.Marshal(v)
			inputs.Write(b)
		}
		for _, a := range rev.Result.Adapters {
			b, _ := json.Marshal(a.Adapter)
			inputs.Write(b)
		}
	}
	for _, c := range allChanges(p) {
		for _, s := range stringsIn(c.Before, c.After) {
			if !strings.Contains(inputs.String(), s) {
				t.Errorf("%s %s shows %q, which is in none of the inputs", c.Kind, c.Pointer, s)
			}
		}
	}

	// References show as names and keys, nothing else.
	wantRefs := map[string]string{
		"/spec/credentials/secretRef":  "lse-fix-credentials-v2",
		"/spec/env/1/secretKeyRef":     "kafka-truststore-v2",
		"/spec/tls/secretRef":          "lse-client-cert",
		"/spec/authentication/apiKeys": "",
	}
	seen := map[string]bool{}
	for _, c := range allChanges(p) {
		if c.Kind != KindCredentialsChanged {
			continue
		}
		seen[c.Pointer] = true
		m, ok := c.After.(map[string]any)
		if !ok {
			t.Errorf("%s: after is %T, want a reference", c.Pointer, c.After)
			continue
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"keys", "name"}) && !slices.Equal(keys, []string{"key", "name"}) {
			t.Errorf("%s: reference has fields %v", c.Pointer, keys)
		}
		if want := wantRefs[c.Pointer]; m["name"] != want {
			t.Errorf("%s: names %v, want %s", c.Pointer, m["name"], want)
		}
	}
	for ptr, name := range wantRefs {
		if name != "" && !seen[ptr] {
			t.Errorf("no credentials change at %s", ptr)
		}
	}
	if c, _ := findChange(p, "security", KindAPIKeyRotated); c == nil || c.Before != nil || c.After != nil {
		t.Errorf("rotated key: %+v, want a change with no values", c)
	}
}

func allChanges(p *Plan) []Change {
	out := slices.Concat(p.Repository, p.Security, p.Policy)
	for _, a := range p.Adapters {
		out = append(out, a.Changes...)
	}
	return out
}

// stringsIn lists the string leaves of JSON values.
func stringsIn(vs ...any) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			out = append(out, t)
		case []any:
			for _, x := range t {
				walk(x)
			}
		case map[string]any:
			for _, x := range t {
				walk(x)
			}
		}
	}
	for _, v := range vs {
		walk(v)
	}
	return out
}
