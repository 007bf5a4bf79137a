package apikey

import (
	"errors"
	"strings"
	"testing"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

func TestNewKeyRoundTrip(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	key, entry, err := NewKey("ci-validate", []string{"status:read", "adapters:read"}, exp)
	if err != nil {
		t.Fatal(err)
	}
	id, err := Parse(key)
	if err != nil {
		t.Fatalf("Parse(new key): %v", err)
	}
	if id != entry.ID || !ValidID(id) || len(id) != 18 {
		t.Errorf("id %q, entry id %q", id, entry.ID)
	}
	if !strings.HasPrefix(key, Prefix+id+"_") || len(key) != len(Prefix)+len(id)+1+secretLen {
		t.Errorf("key shape: %d chars", len(key))
	}
	if entry.Hash != Digest(key) || strings.Contains(entry.Hash, key[len(key)-10:]) {
		t.Errorf("hash %q", entry.Hash)
	}
	if entry.Expires != "2030-01-02T03:04:05Z" || entry.Name != "ci-validate" || len(entry.Scopes) != 2 {
		t.Errorf("entry %+v", entry)
	}
	set, err := NewSet([]v1.APIKey{entry})
	if err != nil {
		t.Fatal(err)
	}
	got, err := set.Verify(key, exp.Add(-time.Second))
	if err != nil || got.Name != "ci-validate" || got.ID != id || !got.Expires.Equal(exp) {
		t.Fatalf("Verify: %+v, %v", got, err)
	}
}

func TestNewKeyIsRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		key, e, err := NewKey("k", []string{"admin"}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if seen[key] || seen[e.ID] || e.Expires != "" {
			t.Fatalf("repeated key or id, or an expiry: %+v", e)
		}
		seen[key], seen[e.ID] = true, true
	}
}

func TestNewKeyRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scopes []string
	}{
		{"", []string{"status:read"}},
		{"Has Space", []string{"status:read"}},
		{strings.Repeat("a", 54), []string{"status:read"}},
		{"ok", nil},
		{"ok", []string{"status:write"}},
		{"ok", []string{"sync:create", "sync:create"}},
		{"ok", []string{"adapters:*"}},
	} {
		if _, _, err := NewKey(tc.name, tc.scopes, time.Time{}); err == nil {
			t.Errorf("NewKey(%q, %v) accepted", tc.name, tc.scopes)
		}
	}
}

func TestVerifyRefusals(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	good, e1, _ := NewKey("good", []string{"status:read"}, time.Time{})
	expired, e2, _ := NewKey("old", []string{"status:read"}, now.Add(-time.Hour))
	off, e3, _ := NewKey("off", []string{"status:read"}, time.Time{})
	removed, _, _ := NewKey("gone", []string{"status:read"}, time.Time{})
	yes := true
	e3.Disabled = &yes
	set, err := NewSet([]v1.APIKey{e1, e2, e3})
	if err != nil {
		t.Fatal(err)
	}
	id1, _ := Parse(good)
	id2, _ := Parse(expired)
	wrongSecret := good[:len(good)-1] + string(base62[(strings.IndexByte(base62, good[len(good)-1])+1)%62])
	otherID := strings.Replace(expired, id2, id1, 1) // e2's secret presented with e1's id
	for _, tc := range []struct {
		name string
		key  string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"no prefix", strings.TrimPrefix(good, Prefix), ErrMalformed},
		{"upper-case prefix", "CAIRN_" + strings.TrimPrefix(good, Prefix), ErrMalformed},
		{"truncated", good[:len(good)-1], ErrMalformed},
		{"trailing space", good + " ", ErrMalformed},
		{"non-base62 secret", good[:len(good)-1] + "-", ErrMalformed},
		{"bad id", "cairn_k_XYZ_" + good[len(good)-secretLen:], ErrMalformed},
		{"removed", removed, ErrUnknown},
		{"wrong secret", wrongSecret, ErrMismatch},
		{"secret of another key", otherID, ErrMismatch},
		{"expired", expired, ErrExpired},
		{"disabled", off, ErrDisabled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := set.Verify(tc.key, now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if len(tc.key) > 20 && strings.Contains(err.Error(), tc.key[len(tc.key)-20:]) {
				t.Fatalf("error %q repeats the key", err)
			}
		})
	}
}

func TestNewSetRefusesBrokenEntries(t *testing.T) {
	ok := v1.APIKey{ID: "k_0123abcd", Name: "a", Hash: "sha256:" + strings.Repeat("0", 64), Scopes: []string{"admin"}}
	for _, mutate := range []func(*v1.APIKey){
		func(k *v1.APIKey) { k.ID = "0123abcd" },
		func(k *v1.APIKey) { k.Name = "" },
		func(k *v1.APIKey) { k.Hash = "sha256:" + strings.Repeat("0", 63) },
		func(k *v1.APIKey) { k.Hash = strings.Repeat("0", 64) },
		func(k *v1.APIKey) { k.Hash = "sha256:" + strings.Repeat("g", 64) },
		func(k *v1.APIKey) { k.Expires = "tomorrow" },
	} {
		k := ok
		mutate(&k)
		if _, err := NewSet([]v1.APIKey{k}); err == nil {
			t.Errorf("NewSet accepted %+v", k)
		}
	}
	if _, err := NewSet([]v1.APIKey{ok, ok}); err == nil {
		t.Error("NewSet accepted a duplicate id")
	}
}

func TestExampleRepositoryKeysParse(t *testing.T) {
	// The ids and hashes of examples/config-repo/security.json.
	set, err := NewSet([]v1.APIKey{{ID: "k_f2a2daa4", Name: "ci-validate",
		Hash: "sha256:f24cac32f3a62f73ef05084751f9810f42ba4744264a1f5bb6f0ea8285c80672", Scopes: []string{"status:read"}}})
	if err != nil || set.Len() != 1 {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	key, _, _ := NewKey("fuzz", []string{"admin"}, time.Time{})
	for _, s := range []string{key, "", "cairn_", "cairn_k_00000000_", "cairn_k__x", key + "_x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Parse(s)
		if err == nil && (!ValidID(id) || !strings.HasPrefix(s, Prefix+id+"_")) {
			t.Fatalf("Parse(%q) = %q", s, id)
		}
	})
}
