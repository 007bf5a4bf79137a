package oidctest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func payload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoginIssuesTokensWithGroups(t *testing.T) {
	p := Start(t, Options{})
	toks, err := p.Login(context.Background(), "alice", "alice-password-1")
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"access": toks.AccessToken, "id": toks.IDToken} {
		c := payload(t, tok)
		if c["iss"] != p.Issuer || c["sub"] != "u-alice" || c["email"] != "alice@acme.example" {
			t.Errorf("%s token claims %v", name, c)
		}
		if g, _ := c[GroupsClaim].([]any); len(g) != 1 || g[0] != "venue-connectivity" {
			t.Errorf("%s token groups %v", name, c[GroupsClaim])
		}
	}
	if _, err := p.Login(context.Background(), "alice", "wrong"); err == nil {
		t.Error("login with a wrong password succeeded")
	}
}

func TestDiscoveryNamesTheKeys(t *testing.T) {
	p := Start(t, Options{})
	doc, err := p.Discovery(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if doc["issuer"] != p.Issuer || doc["jwks_uri"] != p.JWKSURI() {
		t.Errorf("discovery %v", doc)
	}
	methods, _ := doc["code_challenge_methods_supported"].([]any)
	if !slices.Contains(methods, any("S256")) {
		t.Errorf("no PKCE S256: %v", doc["code_challenge_methods_supported"])
	}
}

func TestRotateAndRetire(t *testing.T) {
	p := Start(t, Options{})
	old := p.SigningKeyID()
	kid, err := p.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if kid == old || p.SigningKeyID() != kid || !slices.Equal(p.PublishedKeyIDs(), []string{old, kid}) {
		t.Fatalf("after rotate: signing %s, published %v", p.SigningKeyID(), p.PublishedKeyIDs())
	}
	toks, err := p.Login(context.Background(), "bob", "bob-password-1")
	if err != nil {
		t.Fatal(err)
	}
	if h := header(t, toks.AccessToken); h["kid"] != kid {
		t.Errorf("token signed by %v, want %s", h["kid"], kid)
	}
	if err := p.Retire(kid); err == nil {
		t.Error("retired the signing key")
	}
	if err := p.Retire(old); err != nil || !slices.Equal(p.PublishedKeyIDs(), []string{kid}) {
		t.Errorf("retire: %v, published %v", err, p.PublishedKeyIDs())
	}
}

func header(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}
