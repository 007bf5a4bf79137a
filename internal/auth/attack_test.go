package auth

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth/identity"
	"github.com/cairn-gitops/cairn/internal/auth/rbac"
	"github.com/cairn-gitops/cairn/internal/oidctest"
)

// env is one attack's authenticator over the shared world.
type env struct {
	w   *world
	a   *Authenticator
	clk *clocktesting.FakePassiveClock
}

// reload puts the world's configuration, changed by f, in force.
func (e *env) reload(t *testing.T, f func(*v1.SecurityConfig)) {
	t.Helper()
	cfg := e.w.config()
	f(cfg)
	if err := e.a.Reload(cfg); err != nil {
		t.Fatal(err)
	}
}

// token signs alice's claims with changes (nil deletes a claim).
func (e *env) token(t *testing.T, set map[string]any) string {
	t.Helper()
	return e.tokenWith(t, set, oidctest.Signing{})
}

func (e *env) tokenWith(t *testing.T, set map[string]any, s oidctest.Signing) string {
	t.Helper()
	tok, err := e.w.p.SignWith(oidctest.WithClaims(e.w.p.Claims("alice"), set), s)
	if err != nil {
		t.Fatal(err)
	}
	e.w.secrets = append(e.w.secrets, tok)
	return tok
}

// session logs p in and returns a request carrying its cookie.
func (e *env) session(t *testing.T, p Principal) *http.Request {
	t.Helper()
	s, err := e.a.Sessions().Create(p)
	if err != nil {
		t.Fatal(err)
	}
	e.w.secrets = append(e.w.secrets, s.ID)
	return cookie(e.a, s.ID)
}

func cookie(a *Authenticator, id string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/portal", nil)
	r.AddCookie(&http.Cookie{Name: a.SessionCookie(), Value: id})
	return r
}

// client is a request with a verified client certificate.
func client(cert *x509.Certificate) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/v1/status", nil)
	r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{cert}}}
	return r
}

func cert(cn string, notAfter time.Time) *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, NotBefore: notAfter.Add(-48 * time.Hour), NotAfter: notAfter}
}

var (
	uat      = rbac.Resource{Environment: "uat", Adapter: "lse-fix-primary"}
	uatOther = rbac.Resource{Environment: "uat", Adapter: "kafka-orders-bridge"}
	prod     = rbac.Resource{Environment: "prod", Adapter: "lse-fix-primary"}
	whole    = rbac.Resource{}
)

var aliceP = identity.Principal{Kind: identity.User, Name: "alice@acme.example", Groups: []string{"venue-connectivity"}, Method: identity.JWT}

// attack is one row of the table.
type attack struct {
	name string
	// request builds the request; it may first change the authenticator
	// (a reload, sessions, the clock).
	request func(t *testing.T, e *env) *http.Request
	perm    rbac.Permission
	res     rbac.Resource
	// status and reason are the expected outcome: 401 with the
	// authentication reason, 403 with the authorization reason, 200 with
	// the grant, 503 when keys are unavailable.
	status int
	reason string
}

func attacks() []attack {
	now := func() time.Time { return time.Now() }
	hs := func(alg string) func(t *testing.T, e *env) *http.Request {
		return func(t *testing.T, e *env) *http.Request {
			return bearer(e.tokenWith(t, nil, oidctest.Signing{Key: e.w.p.PublicKeyPEM(), Algorithm: alg, KeyID: e.w.p.SigningKeyID()}))
		}
	}
	return []attack{
		// No or mangled credentials.
		{"no credentials", func(*testing.T, *env) *http.Request { return httptest.NewRequest("GET", "/api/v1/status", nil) },
			rbac.ReadStatus, whole, 401, "no-credentials"},
		{"empty bearer", func(*testing.T, *env) *http.Request { return bearer("") }, rbac.ReadStatus, whole, 401, "malformed"},
		{"basic auth", func(*testing.T, *env) *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.SetBasicAuth("alice", "pw-alice-4f1c")
			return r
		}, rbac.ReadStatus, whole, 401, "bad-scheme"},
		{"two authorization headers", func(t *testing.T, e *env) *http.Request {
			r := bearer(e.w.tokens["dana"])
			r.Header.Add("Authorization", "Bearer "+e.w.keys["ci-validate"])
			return r
		}, rbac.ReadStatus, whole, 401, "malformed"},

		// JWT: time.
		{"expired token", func(t *testing.T, e *env) *http.Request {
			return bearer(e.token(t, map[string]any{"exp": now().Add(-time.Hour).Unix()}))
		}, rbac.ReadStatus, whole, 401, "expired"},
		{"expired just past the skew", func(t *testing.T, e *env) *http.Request {
			return bearer(e.token(t, map[string]any{"exp": now().Add(-45 * time.Second).Unix()}))
		}, rbac.ReadStatus, whole, 401, "expired"},
		{"control: expired within the skew", func(t *testing.T, e *env) *http.Request {
			return bearer(e.token(t, map[string]any{"exp": now().Add(-10 * time.Second).Unix()}))
		}, rbac.ReadAdapters, prod, 200, "granted"},
		{"not yet valid", func(t *testing.T, e *env) *http.Request {
			return bearer(e.token(t, map[string]any{"nbf": now().Add(time.Hour).Unix()}))
		}, rbac.ReadStatus, whole, 401, "not-yet-valid"},
		{"issued in the future", func(t *testing.T, e *env) *http.Request {
			return bearer(e.token(t, map[string]any{"iat": now().Add(time.Hour).Unix()}))
		}, rbac.ReadStatus, whole, 401, "not-yet-valid"},
		{"no exp", func(t *testing.T, e *env) *http.Request { return bearer(e.token(t, map[string]any{"exp": nil})) },
			rbac.ReadStatus, whole, 401, "missing-claim"},
		{"no sub", func(t *testing.T, e *env) *http.Request { return bearer(e.token(t, map[string]any{"sub": nil})) },
			rbac.ReadStatus, whole, 401, "missing-claim"},

		// JWT: issuer and audience.
		{"wrong issuer", func(t *testing.T, e *env) *http.Request {
			return bearer(e.token(t, map[string]any{"iss": "https://evil.example"}))
		}, rbac.ReadStatus, whole, 401, "bad-issuer"},
		{"issuer with a trailing slash", func(t *testing.T, e *env) *http.Request {
			return bearer(e.token(t, map[string]any{"iss": e.w.p.Issuer + "/"}))
		}, rbac.ReadStatus, whole, 401, "bad-issuer"},
		{"wrong audience", func(t *testing.T, e *env) *http.Request {
			return bearer(e.token(t, map[string]any{"aud": []string{"grafana"}}))
		}, rbac.ReadStatus, whole, 401, "bad-audience"},
		{"no audience", func(t *testing.T, e *env) *http.Request { return bearer(e.token(t, map[string]any{"aud": nil})) },
			rbac.ReadStatus, whole, 401, "bad-audience"},

		// JWT: algorithms and keys.
		{"alg none", func(t *testing.T, e *env) *http.Request {
			return bearer(oidctest.Unsigned(map[string]any{"alg": "none", "typ": "JWT"}, e.w.p.Claims("dana")))
		}, rbac.ReadStatus, whole, 401, "bad-alg"},
		{"alg NoNe with the provider's kid", func(t *testing.T, e *env) *http.Request {
			return bearer(oidctest.Unsigned(map[string]any{"alg": "NoNe", "kid": e.w.p.SigningKeyID()}, e.w.p.Claims("dana")))
		}, rbac.ReadStatus, whole, 401, "bad-alg"},
		{"RS256 public key as HS256 secret", hs("HS256"), rbac.ReadStatus, whole, 401, "bad-alg"},
		{"RS256 public key as HS512 secret", hs("HS512"), rbac.ReadStatus, whole, 401, "bad-alg"},
		{"algorithm outside the allowlist (PS256)", func(t *testing.T, e *env) *http.Request {
			return bearer(e.tokenWith(t, nil, oidctest.Signing{Algorithm: "PS256"}))
		}, rbac.ReadStatus, whole, 401, "bad-alg"},
		{"ES256 by the attacker under the provider's RSA kid", func(t *testing.T, e *env) *http.Request {
			return bearer(e.tokenWith(t, nil, oidctest.Signing{Key: e.w.ecKey, KeyID: e.w.p.SigningKeyID()}))
		}, rbac.ReadStatus, whole, 401, "bad-alg"},
		{"attacker's RSA key under the provider's kid", func(t *testing.T, e *env) *http.Request {
			return bearer(e.tokenWith(t, nil, oidctest.Signing{Key: e.w.rsaKey, KeyID: e.w.p.SigningKeyID()}))
		}, rbac.ReadStatus, whole, 401, "bad-signature"},
		{"unknown kid", func(t *testing.T, e *env) *http.Request {
			return bearer(e.tokenWith(t, nil, oidctest.Signing{Key: e.w.rsaKey, KeyID: "attacker-1"}))
		}, rbac.ReadStatus, whole, 401, "unknown-key"},
		{"no kid", func(t *testing.T, e *env) *http.Request {
			return bearer(e.tokenWith(t, nil, oidctest.Signing{KeyID: oidctest.NoKeyID}))
		}, rbac.ReadStatus, whole, 401, "unknown-key"},
		{"attacker's key in the jwk header", func(t *testing.T, e *env) *http.Request {
			jwk := map[string]any{"kty": "RSA", "kid": e.w.p.SigningKeyID(), "e": "AQAB",
				"n": base64.RawURLEncoding.EncodeToString(e.w.rsaKey.N.Bytes())}
			return bearer(e.tokenWith(t, nil, oidctest.Signing{Key: e.w.rsaKey, KeyID: e.w.p.SigningKeyID(), Header: map[string]any{"jwk": jwk}}))
		}, rbac.ReadStatus, whole, 401, "bad-signature"},
		{"jku pointing at the attacker's key set", func(t *testing.T, e *env) *http.Request {
			evil := newCounter(t)
			t.Cleanup(func() {
				if evil.hits.Load() != 0 {
					t.Errorf("the verifier fetched the attacker's jku %d times", evil.hits.Load())
				}
			})
			return bearer(e.tokenWith(t, nil, oidctest.Signing{Key: e.w.rsaKey, KeyID: "evil", Header: map[string]any{"jku": evil.URL}}))
		}, rbac.ReadStatus, whole, 401, "unknown-key"},
		{"unknown crit header", func(t *testing.T, e *env) *http.Request {
			return bearer(e.tokenWith(t, nil, oidctest.Signing{Header: map[string]any{"crit": []string{"exp"}, "exp": 1}}))
		}, rbac.ReadStatus, whole, 401, "malformed"},

		// JWT: tampering and shape.
		{"payload tampered into an admin", func(t *testing.T, e *env) *http.Request {
			parts := strings.Split(e.w.tokens["carol"], ".")
			forged := strings.Split(e.tokenWith(t, e.w.p.Claims("dana"), oidctest.Signing{Key: e.w.rsaKey}), ".")[1]
			return bearer(parts[0] + "." + forged + "." + parts[2])
		}, rbac.UpdateSecurity, whole, 401, "bad-signature"},
		{"groups added to the payload", func(t *testing.T, e *env) *http.Request {
			parts := strings.Split(e.w.tokens["carol"], ".")
			claims := oidctest.WithClaims(e.w.p.Claims("carol"), map[string]any{"groups": []string{"compliance"}})
			forged := strings.Split(oidctest.Unsigned(map[string]any{"alg": "RS256"}, claims), ".")[1]
			return bearer(parts[0] + "." + forged + "." + parts[2])
		}, rbac.ExportHistory, whole, 401, "bad-signature"},
		{"signature bit flipped", func(t *testing.T, e *env) *http.Request {
			tok := []byte(e.w.tokens["alice"])
			i := len(tok) - 10
			tok[i] = "AB"[boolInt(tok[i] == 'A')]
			return bearer(string(tok))
		}, rbac.ReadStatus, whole, 401, "bad-signature"},
		{"signature stripped", func(t *testing.T, e *env) *http.Request {
			tok := e.w.tokens["alice"]
			return bearer(tok[:strings.LastIndexByte(tok, '.')+1])
		}, rbac.ReadStatus, whole, 401, "bad-signature"},
		{"1 MB token", func(*testing.T, *env) *http.Request { return bearer(strings.Repeat("eyJ", 1<<20/3)) },
			rbac.ReadStatus, whole, 401, "too-large"},
		{"just over 16 KiB", func(t *testing.T, e *env) *http.Request {
			return bearer(e.token(t, map[string]any{"pad": strings.Repeat("x", 16<<10)}))
		}, rbac.ReadStatus, whole, 401, "too-large"},
		{"not a token", func(*testing.T, *env) *http.Request { return bearer("hunter2") }, rbac.ReadStatus, whole, 401, "malformed"},
		{"three parts of garbage", func(*testing.T, *env) *http.Request { return bearer("not.a.jwt") }, rbac.ReadStatus, whole, 401, "malformed"},
		{"header not JSON", func(*testing.T, *env) *http.Request {
			return bearer(base64.RawURLEncoding.EncodeToString([]byte("{alg:RS256")) + ".e30.c2ln")
		}, rbac.ReadStatus, whole, 401, "malformed"},
		{"five parts (JWE)", func(t *testing.T, e *env) *http.Request { return bearer(e.w.tokens["alice"] + ".a.b") },
			rbac.ReadStatus, whole, 401, "malformed"},
		{"JSON serialization", func(t *testing.T, e *env) *http.Request {
			p := strings.Split(e.w.tokens["alice"], ".")
			return bearer(`{"payload":"` + p[1] + `","protected":"` + p[0] + `","signature":"` + p[2] + `"}`)
		}, rbac.ReadStatus, whole, 401, "malformed"},

		// JWT: identities.
		{"control: provider's access token", func(t *testing.T, e *env) *http.Request { return bearer(e.w.tokens["alice"]) },
			rbac.CreateSync, uat, 200, "granted"},
		{"control: provider's ID token", func(t *testing.T, e *env) *http.Request { return bearer(e.w.idTokens["dana"]) },
			rbac.UpdateSecurity, whole, 200, "granted"},
		{"token claiming a service account's name", func(t *testing.T, e *env) *http.Request {
			return bearer(e.token(t, map[string]any{"email": "uat-sync-bot", "groups": nil}))
		}, rbac.CreateSync, uat, 403, "not-permitted"},
		{"JWT after JWT is disabled by a reload", func(t *testing.T, e *env) *http.Request {
			off := false
			e.reload(t, func(c *v1.SecurityConfig) { c.Spec.Authentication.JWT.Enabled = &off })
			return bearer(e.w.tokens["dana"])
		}, rbac.ReadStatus, whole, 401, "method-disabled"},

		// API keys.
		{"control: API key", func(t *testing.T, e *env) *http.Request { return bearer(e.w.keys["ci-validate"]) },
			rbac.ReadAdapters, prod, 200, "granted"},
		{"API key with a lower-case scheme", func(t *testing.T, e *env) *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "bearer "+e.w.keys["ci-validate"])
			return r
		}, rbac.ReadStatus, whole, 200, "granted"},
		{"malformed API key", func(*testing.T, *env) *http.Request { return bearer("cairn_k_0123abcd_short") },
			rbac.ReadStatus, whole, 401, "malformed"},
		{"API key never issued", func(t *testing.T, e *env) *http.Request {
			k := e.w.keys["ci-validate"]
			return bearer("cairn_k_00000000deadbeef_" + k[len(k)-43:])
		}, rbac.ReadStatus, whole, 401, "revoked"},
		{"API key revoked by a reload", func(t *testing.T, e *env) *http.Request {
			e.reload(t, func(c *v1.SecurityConfig) {
				c.Spec.Authentication.APIKeys.Keys = slices.DeleteFunc(c.Spec.Authentication.APIKeys.Keys,
					func(k v1.APIKey) bool { return k.Name == "leaver-bot" })
			})
			return bearer(e.w.keys["leaver-bot"])
		}, rbac.ReadStatus, whole, 401, "revoked"},
		{"expired API key", func(t *testing.T, e *env) *http.Request { return bearer(e.w.keys["old-exporter"]) },
			rbac.ExportHistory, whole, 401, "expired"},
		{"disabled API key", func(t *testing.T, e *env) *http.Request { return bearer(e.w.keys["paused-bot"]) },
			rbac.CreateSync, uat, 401, "disabled"},
		{"right id, wrong secret", func(t *testing.T, e *env) *http.Request {
			k := e.w.keys["deploy-bot"]
			return bearer(k[:len(k)-43] + strings.Repeat("A", 43))
		}, rbac.ReadStatus, whole, 401, "bad-secret"},
		{"another key's secret under this id", func(t *testing.T, e *env) *http.Request {
			k, other := e.w.keys["root-scoped"], e.w.keys["ci-validate"]
			return bearer(k[:len(k)-43] + other[len(other)-43:])
		}, rbac.ReadStatus, whole, 401, "bad-secret"},
		{"API key after API keys are disabled", func(t *testing.T, e *env) *http.Request {
			off := false
			e.reload(t, func(c *v1.SecurityConfig) { c.Spec.Authentication.APIKeys.Enabled = &off })
			return bearer(e.w.keys["ci-validate"])
		}, rbac.ReadStatus, whole, 401, "method-disabled"},

		// Authorization.
		{"viewer calls sync", func(t *testing.T, e *env) *http.Request { return bearer(e.w.tokens["carol"]) },
			rbac.CreateSync, uat, 403, "not-permitted"},
		{"operator of uat syncs prod", func(t *testing.T, e *env) *http.Request { return bearer(e.w.tokens["alice"]) },
			rbac.CreateSync, prod, 403, "not-permitted"},
		{"operator of uat reads the security configuration", func(t *testing.T, e *env) *http.Request {
			return bearer(e.w.tokens["alice"])
		}, rbac.ReadSecurity, whole, 403, "out-of-scope"},
		{"group binding removed by a reload", func(t *testing.T, e *env) *http.Request {
			e.reload(t, func(c *v1.SecurityConfig) {
				c.Spec.RBAC.Bindings = slices.DeleteFunc(c.Spec.RBAC.Bindings,
					func(b v1.Binding) bool { return b.Subject.Name == "venue-connectivity" })
			})
			return bearer(e.w.tokens["alice"])
		}, rbac.CreateSync, uat, 403, "not-permitted"},
		{"auditor syncs", func(t *testing.T, e *env) *http.Request { return bearer(e.w.tokens["bob"]) },
			rbac.CreateSync, uat, 403, "not-permitted"},
		{"key scopes exclude sync (operator role)", func(t *testing.T, e *env) *http.Request { return bearer(e.w.keys["deploy-bot"]) },
			rbac.CreateSync, uat, 403, "key-scope"},
		{"key scopes exclude history (viewer role)", func(t *testing.T, e *env) *http.Request { return bearer(e.w.keys["ci-validate"]) },
			rbac.ReadHistory, prod, 403, "key-scope"},
		{"admin-scoped key cannot exceed its viewer role", func(t *testing.T, e *env) *http.Request { return bearer(e.w.keys["root-scoped"]) },
			rbac.CreateSync, uat, 403, "not-permitted"},
		{"sync bot on an adapter outside its binding", func(t *testing.T, e *env) *http.Request { return bearer(e.w.keys["uat-sync-bot"]) },
			rbac.CreateSync, uatOther, 403, "out-of-scope"},
		{"sync bot on prod", func(t *testing.T, e *env) *http.Request { return bearer(e.w.keys["uat-sync-bot"]) },
			rbac.CreateSync, prod, 403, "out-of-scope"},
		{"control: sync bot on its adapter", func(t *testing.T, e *env) *http.Request { return bearer(e.w.keys["uat-sync-bot"]) },
			rbac.CreateSync, uat, 200, "granted"},

		// Sessions.
		{"control: session", func(t *testing.T, e *env) *http.Request { return e.session(t, aliceP) }, rbac.CreateSync, uat, 200, "granted"},
		{"unknown session", func(t *testing.T, e *env) *http.Request {
			return cookie(e.a, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		}, rbac.ReadStatus, whole, 401, "unknown-session"},
		{"session past its timeout", func(t *testing.T, e *env) *http.Request {
			r := e.session(t, aliceP)
			e.clk.SetTime(e.clk.Now().Add(8*time.Hour + time.Second))
			return r
		}, rbac.ReadStatus, whole, 401, "expired"},
		{"session ended by a fourth login", func(t *testing.T, e *env) *http.Request {
			r := e.session(t, aliceP)
			for range 3 {
				e.session(t, aliceP)
			}
			return r
		}, rbac.ReadStatus, whole, 401, "unknown-session"},
		{"session whose group binding a reload removed", func(t *testing.T, e *env) *http.Request {
			r := e.session(t, aliceP)
			e.reload(t, func(c *v1.SecurityConfig) {
				c.Spec.RBAC.Bindings = slices.DeleteFunc(c.Spec.RBAC.Bindings,
					func(b v1.Binding) bool { return b.Subject.Name == "venue-connectivity" })
			})
			return r
		}, rbac.CreateSync, uat, 403, "not-permitted"},

		// Client certificates.
		{"control: client certificate", func(*testing.T, *env) *http.Request { return client(cert("agent-7", time.Now().Add(time.Hour))) },
			rbac.CreateSync, uat, 200, "granted"},
		{"client certificate past its expiry", func(*testing.T, *env) *http.Request { return client(cert("agent-7", time.Now().Add(-time.Hour))) },
			rbac.CreateSync, uat, 401, "expired"},
		{"client certificate naming nobody", func(*testing.T, *env) *http.Request { return client(cert("", time.Now().Add(time.Hour))) },
			rbac.ReadStatus, whole, 401, "no-identity"},
		{"client certificate with mTLS off", func(t *testing.T, e *env) *http.Request {
			e.reload(t, func(c *v1.SecurityConfig) { c.Spec.MTLS = nil })
			return client(cert("agent-7", time.Now().Add(time.Hour)))
		}, rbac.ReadStatus, whole, 401, "no-credentials"},
		{"client certificate of a uat agent on prod", func(*testing.T, *env) *http.Request { return client(cert("agent-7", time.Now().Add(time.Hour))) },
			rbac.CreateSync, prod, 403, "out-of-scope"},
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// outcome runs the request through Check and reports status and reason.
func outcome(e *env, r *http.Request, perm rbac.Permission, res rbac.Resource) (status int, reason string, err error) {
	p, d, err := e.a.Check(r, perm, res)
	switch {
	case err != nil:
		if p.Valid() {
			return 0, "principal returned with an error", err
		}
		return Status(err), string(ReasonOf(err)), err
	case !d.Allowed:
		return http.StatusForbidden, string(d.Reason), nil
	}
	return http.StatusOK, string(d.Reason), nil
}

func TestAttacks(t *testing.T) {
	w := newWorld(t)
	table := attacks()
	if n := countAttacks(table); n < 40 {
		t.Fatalf("%d attacks; the table must hold at least 40", n)
	}
	var errs []string
	for _, tc := range table {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktesting.NewFakePassiveClock(time.Now())
			e := &env{w: w, a: w.authenticator(t, w.config(), clk), clk: clk}
			status, reason, err := outcome(e, tc.request(t, e), tc.perm, tc.res)
			if status != tc.status || reason != tc.reason {
				t.Fatalf("got %d %s (%v), want %d %s", status, reason, err, tc.status, tc.reason)
			}
			if err != nil {
				errs = append(errs, err.Error())
			}
		})
	}
	t.Run("no secret in errors or logs", func(t *testing.T) {
		text := strings.Join(errs, "\n") + "\n" + w.log.String()
		if l := leaks(text, w.secrets); len(l) > 0 {
			t.Fatalf("%d secrets leaked, such as %v", len(l), l[0])
		}
		if !strings.Contains(w.log.String(), `"reason":"bad-signature"`) {
			t.Fatal("the log holds no refusal: the leak check saw nothing")
		}
	})
}

// countAttacks counts the rows that are not controls.
func countAttacks(table []attack) int {
	n := 0
	for _, a := range table {
		if !strings.HasPrefix(a.name, "control:") {
			n++
		}
	}
	return n
}
