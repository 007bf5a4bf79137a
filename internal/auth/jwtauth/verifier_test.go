package jwtauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/oidctest"
)

func config(p *oidctest.Provider) Config {
	return Config{Issuer: p.Issuer, Audience: []string{p.ClientID}, JWKSURI: p.JWKSURI(),
		Algorithms: []string{"RS256"}, ClockSkew: 30 * time.Second, UsernameClaim: "email", GroupsClaim: "groups"}
}

func verifier(t *testing.T, cfg Config, opts Options) *Verifier {
	t.Helper()
	v, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifyProviderTokens(t *testing.T) {
	p := oidctest.Start(t, oidctest.Options{})
	toks, err := p.Login(context.Background(), "alice", "alice-password-1")
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]Config{"jwksUri": config(p), "discovered": func() Config {
		c := config(p)
		c.JWKSURI = ""
		return c
	}()} {
		v := verifier(t, cfg, Options{})
		for kind, tok := range map[string]string{"access": toks.AccessToken, "id": toks.IDToken} {
			c, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("%s, %s token: %v", name, kind, err)
			}
			if c.Username != "alice@acme.example" || c.Subject != "u-alice" || len(c.Groups) != 1 ||
				c.Groups[0] != "venue-connectivity" || c.KeyID != p.SigningKeyID() || c.Issuer != p.Issuer {
				t.Errorf("%s, %s token: claims %+v", name, kind, c)
			}
		}
	}
}

func TestRotation(t *testing.T) {
	p := oidctest.Start(t, oidctest.Options{})
	clk := clocktesting.NewFakePassiveClock(time.Now())
	v := verifier(t, config(p), Options{Clock: clk, MinRefresh: 30 * time.Second, MaxKeyAge: time.Minute})
	ctx := context.Background()
	before, err := p.Login(ctx, "bob", "bob-password-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, before.AccessToken); err != nil {
		t.Fatal(err)
	}
	fetches, oldKid := p.JWKSRequests(), p.SigningKeyID()
	newKid, err := p.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	after, err := p.Login(ctx, "bob", "bob-password-1")
	if err != nil {
		t.Fatal(err)
	}
	// The new kid is unknown to the cache: once the refetch interval has
	// passed since the first fetch, one fetch, then accepted.
	clk.SetTime(clk.Now().Add(31 * time.Second))
	if c, err := v.Verify(ctx, after.AccessToken); err != nil || c.KeyID != newKid {
		t.Fatalf("token of the new key: %+v, %v", c, err)
	}
	if got := p.JWKSRequests() - fetches; got != 1 {
		t.Errorf("%d fetches for the new kid, want 1", got)
	}
	// The old key is still published: its tokens still pass.
	if _, err := v.Verify(ctx, before.AccessToken); err != nil {
		t.Errorf("old key while published: %v", err)
	}
	// Retired, and the cache past its age: the old key's tokens fail.
	if err := p.Retire(oldKid); err != nil {
		t.Fatal(err)
	}
	clk.SetTime(clk.Now().Add(61 * time.Second))
	if _, err := v.Verify(ctx, before.AccessToken); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old key after retirement: %v, want unknown key", err)
	}
	if _, err := v.Verify(ctx, after.AccessToken); err != nil {
		t.Errorf("new key after retirement: %v", err)
	}
}

func TestUnknownKidRefetchIsRateLimited(t *testing.T) {
	p := oidctest.Start(t, oidctest.Options{})
	clk := clocktesting.NewFakePassiveClock(time.Now())
	v := verifier(t, config(p), Options{Clock: clk, MinRefresh: time.Minute})
	ctx := context.Background()
	good, _ := p.Sign(p.Claims("alice"))
	if _, err := v.Verify(ctx, good); err != nil {
		t.Fatal(err)
	}
	fetches := p.JWKSRequests()
	for i := range 20 {
		tok, err := p.SignWith(p.Claims("alice"), oidctest.Signing{KeyID: "made-up-" + strings.Repeat("x", i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("made-up kid: %v", err)
		}
	}
	if got := p.JWKSRequests() - fetches; got != 0 {
		t.Errorf("20 made-up kids within the interval caused %d fetches, want 0", got)
	}
	clk.SetTime(clk.Now().Add(2 * time.Minute))
	for range 5 {
		tok, _ := p.SignWith(p.Claims("alice"), oidctest.Signing{KeyID: "another"})
		if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("made-up kid: %v", err)
		}
	}
	if got := p.JWKSRequests() - fetches; got != 1 {
		t.Errorf("after the interval: %d fetches, want 1 (refetch once, then reject)", got)
	}
}

func TestKeysUnavailable(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer down.Close()
	p := oidctest.Start(t, oidctest.Options{})
	cfg := config(p)
	cfg.JWKSURI = down.URL
	v := verifier(t, cfg, Options{})
	tok, _ := p.Sign(p.Claims("alice"))
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("got %v, want keys unavailable", err)
	}
}

func TestKeyAlgorithmMustMatch(t *testing.T) {
	p := oidctest.Start(t, oidctest.Options{})
	cfg := config(p)
	cfg.Algorithms = []string{"RS256", "PS256"}
	v := verifier(t, cfg, Options{})
	// The provider publishes its key for RS256; a PS256 signature by the
	// same key is refused.
	tok, err := p.SignWith(p.Claims("alice"), oidctest.Signing{Algorithm: "PS256"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("got %v, want algorithm refused", err)
	}
}

func TestNewRefusesUnsafeConfig(t *testing.T) {
	base := Config{Issuer: "https://sso.example", Audience: []string{"cairn"}}
	for name, mutate := range map[string]func(*Config){
		"none":          func(c *Config) { c.Algorithms = []string{"none"} },
		"HS256":         func(c *Config) { c.Algorithms = []string{"RS256", "HS256"} },
		"no issuer":     func(c *Config) { c.Issuer = "" },
		"no audience":   func(c *Config) { c.Audience = nil },
		"empty aud":     func(c *Config) { c.Audience = []string{""} },
		"negative skew": func(c *Config) { c.ClockSkew = -time.Second },
	} {
		c := base
		mutate(&c)
		if _, err := New(c, Options{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	v, err := New(base, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := v.Config(); len(c.Algorithms) != 1 || c.Algorithms[0] != "RS256" || c.UsernameClaim != "sub" || c.GroupsClaim != "groups" {
		t.Errorf("defaults %+v", c)
	}
}

func TestFromSpec(t *testing.T) {
	c, err := FromSpec(&v1.JWT{Issuer: "https://x", Audience: []string{"a"}, ClockSkew: "1m"})
	if err != nil || c.ClockSkew != time.Minute {
		t.Errorf("%+v %v", c, err)
	}
	if c, _ := FromSpec(&v1.JWT{}); c.ClockSkew != DefaultClockSkew {
		t.Errorf("default skew %v", c.ClockSkew)
	}
	if _, err := FromSpec(&v1.JWT{ClockSkew: "soon"}); err == nil {
		t.Error("bad skew accepted")
	}
}

func TestGroupsClaimShapes(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want []string
	}{
		{`["a","b"]`, []string{"a", "b"}},
		{`"a"`, []string{"a"}},
		{`["a",1,null,""]`, []string{"a"}},
		{`{"a":1}`, nil},
		{``, nil},
	} {
		got := stringsClaim([]byte(tc.raw))
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: %v", tc.raw, got)
		}
	}
}

// FuzzVerify feeds arbitrary strings to Verify: it must never panic, never
// accept, and never repeat the input in its error.
func FuzzVerify(f *testing.F) {
	for _, s := range []string{"", "a.b.c", "eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.e30.", "eyJhbGciOiJub25lIn0.e30.",
		"eyJhbGciOiJIUzI1NiJ9.e30.c2ln", strings.Repeat("a", MaxTokenSize+1)} {
		f.Add(s)
	}
	v, err := New(Config{Issuer: "https://sso.example", Audience: []string{"cairn"}, JWKSURI: "http://127.0.0.1:1/keys"},
		Options{MinRefresh: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := v.Verify(context.Background(), s); err == nil {
			t.Fatal("accepted without keys")
		} else if len(s) >= 20 && strings.Contains(err.Error(), s) {
			t.Fatalf("error repeats the token: %v", err)
		}
	})
}

// TestStaleKeysServeDuringRefresh: while one request refreshes a stale key
// set from a slow provider, the others verify with the keys they have.
func TestStaleKeysServeDuringRefresh(t *testing.T) {
	p := oidctest.Start(t, oidctest.Options{})
	gate, arrived := make(chan struct{}), make(chan struct{}, 10)
	var slow atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slow.Load() {
			arrived <- struct{}{}
			<-gate
		}
		resp, err := http.Get(p.JWKSURI())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		_, _ = io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	cfg := config(p)
	cfg.JWKSURI = proxy.URL
	clk := clocktesting.NewFakePassiveClock(time.Now())
	v := verifier(t, cfg, Options{Clock: clk, MinRefresh: time.Second, MaxKeyAge: time.Minute})
	tok, _ := p.Sign(p.Claims("alice"))
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	clk.SetTime(clk.Now().Add(2 * time.Minute))
	slow.Store(true)
	done := make(chan error)
	go func() {
		_, err := v.Verify(ctx, tok)
		done <- err
	}()
	<-arrived // the first request is refreshing and the provider hangs
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("a second request during the refresh: %v", err)
	}
	close(gate)
	if err := <-done; err != nil {
		t.Fatalf("the refreshing request: %v", err)
	}
}
