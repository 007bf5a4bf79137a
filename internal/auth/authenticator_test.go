package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth/identity"
	"github.com/cairn-gitops/cairn/internal/auth/jwtauth"
	"github.com/cairn-gitops/cairn/internal/auth/rbac"
)

func TestExampleRepositoryConfigLoads(t *testing.T) {
	b, err := os.ReadFile("../../examples/config-repo/security.json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg v1.SecurityConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	a, err := New(&cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Masker().Enabled() || a.Authorizer() == nil {
		t.Error("masking or RBAC missing")
	}
	// The example's keys are hashes of keys nobody holds: any key is refused.
	_, err = a.Authenticate(bearer("cairn_k_f2a2daa4_" + strings.Repeat("A", 43)))
	if ReasonOf(err) != ReasonBadSecret {
		t.Errorf("got %v", err)
	}
}

func TestNilConfigAllowsNothing(t *testing.T) {
	a, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(bearer("cairn_k_f2a2daa4_" + strings.Repeat("A", 43))); ReasonOf(err) != ReasonMethodDisabled {
		t.Errorf("API key without security.json: %v", err)
	}
	p := identity.Principal{Kind: identity.User, Name: "x", Method: identity.MTLS}
	if d := a.Authorizer().Decide(p, rbac.ReadStatus, rbac.Resource{}); d.Allowed {
		t.Errorf("allowed without security.json: %+v", d)
	}
}

func TestReloadKeepsTheConfigInForceOnError(t *testing.T) {
	w := newWorld(t)
	a := w.authenticator(t, w.config(), clocktesting.NewFakePassiveClock(time.Now()))
	broken := w.config()
	broken.Spec.RBAC.DefaultRole = "nobody"
	if err := a.Reload(broken); err == nil {
		t.Fatal("a broken configuration was accepted")
	}
	badKey := w.config()
	badKey.Spec.Authentication.APIKeys.Keys[0].Hash = "md5:x"
	if err := a.Reload(badKey); err == nil {
		t.Fatal("a broken API key was accepted")
	}
	if _, d, err := a.Check(bearer(w.keys["ci-validate"]), rbac.ReadStatus, rbac.Resource{}); err != nil || !d.Allowed {
		t.Fatalf("the previous configuration is gone: %+v %v", d, err)
	}
}

func TestReloadKeepsCachedKeysWhenJWTIsUnchanged(t *testing.T) {
	w := newWorld(t)
	a := w.authenticator(t, w.config(), clocktesting.NewFakePassiveClock(time.Now()))
	if _, err := a.Authenticate(bearer(w.tokens["alice"])); err != nil {
		t.Fatal(err)
	}
	before := w.p.JWKSRequests()
	cfg := w.config()
	cfg.Spec.RBAC.DefaultRole = ""
	if err := a.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(bearer(w.tokens["alice"])); err != nil {
		t.Fatal(err)
	}
	if n := w.p.JWKSRequests() - before; n != 0 {
		t.Errorf("an unrelated change refetched the keys %d times", n)
	}
	cfg.Spec.Authentication.JWT.ClockSkew = "10s"
	if err := a.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(bearer(w.tokens["alice"])); err != nil {
		t.Fatal(err)
	}
	if n := w.p.JWKSRequests() - before; n != 1 {
		t.Errorf("a new JWT configuration fetched the keys %d times, want 1", n)
	}
}

// TestReloadUnderLoad swaps two configurations while requests run: each
// request sees one of them whole (run with -race).
func TestReloadUnderLoad(t *testing.T) {
	w := newWorld(t)
	a := w.authenticator(t, w.config(), clocktesting.NewFakePassiveClock(time.Now()))
	without := w.config()
	without.Spec.Authentication.APIKeys.Keys = nil
	without.Spec.RBAC.Bindings = nil
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			cfg := w.config()
			if i%2 == 1 {
				cfg = without
			}
			if err := a.Reload(cfg); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				p, d, err := a.Check(bearer(w.keys["deploy-bot"]), rbac.ReadStatus, rbac.Resource{})
				switch {
				case err == nil && (!d.Allowed || d.Role != "operator"):
					t.Errorf("key accepted under the configuration without keys: %+v %+v", p, d)
				case err != nil && ReasonOf(err) != ReasonRevoked:
					t.Errorf("unexpected refusal %v", err)
				}
			}
		})
	}
	wg.Wait()
}

func TestJWTPrincipals(t *testing.T) {
	w := newWorld(t)
	a := w.authenticator(t, w.config(), clocktesting.NewFakePassiveClock(time.Now()))
	p, err := a.Authenticate(bearer(w.tokens["alice"]))
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != identity.User || p.Name != "alice@acme.example" || p.Method != identity.JWT ||
		len(p.Groups) != 1 || p.Groups[0] != "venue-connectivity" || p.KeyID != w.p.SigningKeyID() || p.Scopes != nil {
		t.Errorf("principal %+v", p)
	}
	// Without the username claim the token names a service account by its subject.
	claims := w.p.Claims("svc")
	delete(claims, "email")
	tok, err := w.p.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := a.Authenticate(bearer(tok)); err != nil || p.Kind != identity.ServiceAccount || p.Name != "svc" {
		t.Errorf("service account token: %+v %v", p, err)
	}
	k, err := a.Authenticate(bearer(w.keys["uat-sync-bot"]))
	if err != nil || k.Kind != identity.ServiceAccount || k.Name != "uat-sync-bot" || k.KeyID != w.entries["uat-sync-bot"].ID ||
		len(k.Scopes) != 3 || k.Method != identity.APIKey {
		t.Errorf("API key principal %+v %v", k, err)
	}
}

func TestKeysUnavailableIs503(t *testing.T) {
	w := newWorld(t)
	cfg := w.config()
	cfg.Spec.Authentication.JWT.JWKSURI = "http://127.0.0.1:1/keys"
	a := w.authenticator(t, cfg, clocktesting.NewFakePassiveClock(time.Now()))
	_, err := a.Authenticate(bearer(w.tokens["alice"]))
	if !errors.Is(err, ErrUnavailable) || Status(err) != http.StatusServiceUnavailable || !errors.Is(err, jwtauth.ErrKeysUnavailable) {
		t.Fatalf("got %v (status %d)", err, Status(err))
	}
}

func TestStatusAndChallenge(t *testing.T) {
	refused := &Error{Method: identity.JWT, Reason: ReasonExpired, err: jwtauth.ErrExpired}
	for _, tc := range []struct {
		err       error
		status    int
		challenge string
	}{
		{ErrNoCredentials, 401, `Bearer realm="cairn"`},
		{refused, 401, `Bearer realm="cairn", error="invalid_token"`},
		{&Error{Method: identity.JWT, Reason: ReasonKeysUnavailable}, 503, `Bearer realm="cairn"`},
		{errors.New("other"), 500, `Bearer realm="cairn"`},
	} {
		if s, c := Status(tc.err), Challenge(tc.err); s != tc.status || c != tc.challenge {
			t.Errorf("%v: %d %q", tc.err, s, c)
		}
	}
	if !errors.Is(refused, ErrInvalid) || !errors.Is(refused, jwtauth.ErrExpired) || ReasonOf(refused) != ReasonExpired {
		t.Error("an *Error does not unwrap to its class and cause")
	}
	if got := refused.Error(); got != "auth: jwt credentials refused: expired (token expired)" {
		t.Errorf("message %q", got)
	}
}

func TestLeaksFindsSecrets(t *testing.T) {
	tok := "aGVhZGVy.cGF5bG9hZHBheWxvYWQ.c2lnbmF0dXJlc2lnbmF0dXJl"
	if l := leaks("sig: c2lnbmF0dXJlc2lnbmF0dXJl", []string{tok}); len(l) != 1 {
		t.Errorf("a token's signature was not found: %v", l)
	}
	if l := leaks("nothing here", []string{tok, "cairn_k_0011223344556677_abc"}); len(l) != 0 {
		t.Errorf("false leak %v", l)
	}
}
