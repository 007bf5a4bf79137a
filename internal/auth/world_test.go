package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth/apikey"
	"github.com/cairn-gitops/cairn/internal/oidctest"
	"github.com/cairn-gitops/cairn/internal/testenv"
)

// users of the provider: alice operates uat and views prod (group
// venue-connectivity), bob audits (group compliance), carol has no binding
// (default viewer), dana is an admin by name.
func users() []oidctest.User {
	return []oidctest.User{
		{ID: "u-alice", Username: "alice", Password: "pw-alice-4f1c", Email: "alice@acme.example", Groups: []string{"venue-connectivity"}},
		{ID: "u-bob", Username: "bob", Password: "pw-bob-9a2e", Email: "bob@acme.example", Groups: []string{"compliance"}},
		{ID: "u-carol", Username: "carol", Password: "pw-carol-77d0", Email: "carol@acme.example"},
		{ID: "u-dana", Username: "dana", Password: "pw-dana-c3b1", Email: "dana@acme.example", Groups: []string{"platform"}},
	}
}

// world is the provider, the keys and the tokens the attack table uses.
type world struct {
	p        *oidctest.Provider
	keys     map[string]string // API key name -> key
	entries  map[string]v1.APIKey
	tokens   map[string]string // username -> access token from the provider
	idTokens map[string]string
	rsaKey   *rsa.PrivateKey   // the attacker's
	ecKey    *ecdsa.PrivateKey // the attacker's
	// secrets must never appear in an error or a log line.
	secrets []string
	log     *syncBuffer
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{p: oidctest.Start(t, oidctest.Options{Users: users()}), keys: map[string]string{},
		entries: map[string]v1.APIKey{}, tokens: map[string]string{}, idTokens: map[string]string{}, log: &syncBuffer{}}
	w.newKeys(t)
	for _, u := range users() {
		toks, err := w.p.Login(context.Background(), u.Username, u.Password)
		if err != nil {
			t.Fatal(err)
		}
		w.tokens[u.Username], w.idTokens[u.Username] = toks.AccessToken, toks.IDToken
		w.secrets = append(w.secrets, u.Password, toks.AccessToken, toks.IDToken)
	}
	var err error
	if w.rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if w.ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	w.secrets = append(w.secrets, w.p.ClientSecret)
	return w
}

// newKeys makes the API keys: name, scopes, expiry, disabled.
func (w *world) newKeys(t testing.TB) {
	t.Helper()
	yes := true
	for _, k := range []struct {
		name     string
		scopes   []string
		expires  time.Time
		disabled bool
	}{
		{"ci-validate", []string{"adapters:read", "changerequests:read", "status:read"}, time.Now().Add(time.Hour), false},
		{"uat-sync-bot", []string{"sync:create", "sync:read", "status:read"}, time.Time{}, false},
		{"deploy-bot", []string{"status:read"}, time.Time{}, false},
		{"root-scoped", []string{"admin"}, time.Time{}, false},
		{"old-exporter", []string{"history:export"}, time.Now().Add(-time.Hour), false},
		{"paused-bot", []string{"sync:create"}, time.Time{}, true},
		{"leaver-bot", []string{"status:read"}, time.Time{}, false},
	} {
		key, entry, err := apikey.NewKey(k.name, k.scopes, k.expires)
		if err != nil {
			t.Fatal(err)
		}
		if k.disabled {
			entry.Disabled = &yes
		}
		w.keys[k.name], w.entries[k.name] = key, entry
		w.secrets = append(w.secrets, key, key[len(key)-43:])
	}
}

// config is security.json for the world, like examples/config-repo's.
func (w *world) config() *v1.SecurityConfig {
	var keys []v1.APIKey
	for _, name := range []string{"ci-validate", "uat-sync-bot", "deploy-bot", "root-scoped", "old-exporter", "paused-bot", "leaver-bot"} {
		keys = append(keys, w.entries[name])
	}
	group := func(name, role string, envs ...string) v1.Binding {
		b := v1.Binding{Subject: v1.Subject{Type: v1.SubjectGroup, Name: name}, Role: role}
		if len(envs) > 0 {
			b.Scope = &v1.BindingScope{Environments: envs}
		}
		return b
	}
	sa := func(name, role string, scope *v1.BindingScope) v1.Binding {
		return v1.Binding{Subject: v1.Subject{Type: v1.SubjectServiceAccount, Name: name}, Role: role, Scope: scope}
	}
	return &v1.SecurityConfig{
		TypeMeta: v1.TypeMeta{APIVersion: "cairn.dev/v1alpha1", Kind: "SecurityConfig"},
		Metadata: v1.ObjectMeta{Name: "attack-table"},
		Spec: v1.SecuritySpec{
			MTLS: &v1.MTLS{ClientAuth: v1.ClientAuthRequest},
			Authentication: &v1.Authentication{
				APIKeys: &v1.APIKeys{Keys: keys},
				JWT: &v1.JWT{Issuer: w.p.Issuer, Audience: []string{w.p.ClientID}, JWKSURI: w.p.JWKSURI(),
					Algorithms: []string{"RS256", "ES256"}, ClockSkew: "30s", GroupsClaim: "groups", UsernameClaim: "email"},
			},
			RBAC: &v1.RBAC{
				DefaultRole: v1.RoleViewer,
				Roles: []v1.Role{{Name: "auditor", Permissions: []v1.Permission{
					{Resource: "history", Actions: []string{"read", "export"}}, {Resource: "status", Actions: []string{"read"}}}}},
				Bindings: []v1.Binding{
					{Subject: v1.Subject{Type: v1.SubjectUser, Name: "dana@acme.example"}, Role: v1.RoleAdmin},
					group("venue-connectivity", v1.RoleOperator, "uat"),
					group("venue-connectivity", v1.RoleViewer, "prod"),
					group("compliance", "auditor"),
					sa("ci-validate", v1.RoleViewer, nil),
					sa("uat-sync-bot", v1.RoleOperator, &v1.BindingScope{Environments: []string{"uat"}, Adapters: []string{"lse-fix-primary"}}),
					sa("deploy-bot", v1.RoleOperator, nil),
					sa("root-scoped", v1.RoleViewer, nil),
					sa("agent-7", v1.RoleOperator, &v1.BindingScope{Environments: []string{"uat"}}),
				},
			},
			Sessions: &v1.Sessions{Timeout: "8h", MaxConcurrent: 3},
		},
	}
}

// authenticator builds a fresh Authenticator for cfg, logging into w.log.
func (w *world) authenticator(t testing.TB, cfg *v1.SecurityConfig, clk *clocktesting.FakePassiveClock) *Authenticator {
	t.Helper()
	log := slog.New(slog.NewJSONHandler(w.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(cfg, Options{Clock: clk, Logger: log, JWKSMinRefresh: -1})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// bearer is a request with Authorization: Bearer cred.
func bearer(cred string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/v1/status", nil)
	r.Header.Set("Authorization", "Bearer "+cred)
	return r
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer = testenv.Buffer

// leaks reports which of secrets (or their long parts) text contains.
func leaks(text string, secrets []string) []string {
	var out []string
	for _, s := range secrets {
		parts := []string{s}
		if strings.Count(s, ".") == 2 { // a JWS: its payload and signature
			p := strings.Split(s, ".")
			parts = append(parts, p[1], p[2])
		}
		for _, part := range parts {
			if len(part) >= 8 && strings.Contains(text, part) {
				out = append(out, part[:8]+"...")
			}
		}
	}
	return out
}

// counter is an HTTP server that counts requests (an attacker's JWKS).
type counter struct {
	*httptest.Server
	hits atomic.Int64
}

func newCounter(t *testing.T) *counter {
	c := &counter{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c.hits.Add(1)
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	t.Cleanup(c.Close)
	return c
}
