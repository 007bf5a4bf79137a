package oidclogin

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
	clocktesting "k8s.io/utils/clock/testing"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth"
	"github.com/cairn-gitops/cairn/internal/auth/identity"
	"github.com/cairn-gitops/cairn/internal/oidctest"
	"github.com/cairn-gitops/cairn/internal/testenv"
)

// users of the provider: alice is in two groups, bob in one.
func users() []oidctest.User {
	return []oidctest.User{
		{ID: "u-alice", Username: "alice", Password: "pw-alice-8d21", Email: "alice@acme.example", Groups: []string{"venue-connectivity", "uat-operators"}},
		{ID: "u-bob", Username: "bob", Password: "pw-bob-5c77", Email: "bob@acme.example", Groups: []string{"compliance"}},
	}
}

func password(username string) string {
	for _, u := range users() {
		if u.Username == username {
			return u.Password
		}
	}
	return ""
}

// env is a provider, cairn's authenticator and login handler behind an
// HTTPS server, a fake clock, and everything they log or report.
type env struct {
	t      *testing.T
	p      *oidctest.Provider
	app    *httptest.Server
	authn  *auth.Authenticator
	h      *Handler
	clk    *clocktesting.FakeClock
	log    *syncBuffer
	events *recorder
	tamper *tamper
}

type envOptions struct {
	// insecure serves plain HTTP with Options.Insecure.
	insecure bool
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{t: t, log: &syncBuffer{}, events: &recorder{}, clk: clocktesting.NewFakeClock(time.Now())}
	e.app = httptest.NewUnstartedServer(e.mux())
	if o.insecure {
		e.app.Start()
	} else {
		e.app.StartTLS()
	}
	t.Cleanup(e.app.Close)
	e.p = oidctest.Start(t, oidctest.Options{Users: users(), RedirectURI: e.app.URL + PathCallback})
	e.tamper = &tamper{base: http.DefaultTransport, p: e.p}
	logger := slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	aopts := auth.Options{Clock: e.clk, Logger: logger}
	if o.insecure {
		aopts.SessionCookie = "cairn-session"
	}
	var err error
	if e.authn, err = auth.New(e.config(), aopts); err != nil {
		t.Fatal(err)
	}
	e.h, err = New(e.config(), e.authn, Options{ClientSecret: []byte(e.p.ClientSecret), HTTPClient: &http.Client{Transport: e.tamper},
		Clock: e.clk, Logger: logger, Insecure: o.insecure, OnEvent: e.events.add})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// mux is the API server in miniature: the login handler, a page that says
// who the Authenticator sees, and any other page.
func (e *env) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/auth/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.h.ServeHTTP(w, r) }))
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		p, err := e.authn.Authenticate(r)
		if err != nil {
			http.Error(w, string(auth.ReasonOf(err)), auth.Status(err))
			return
		}
		_ = json.NewEncoder(w).Encode(p)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "page %s", r.URL.Path) })
	return mux
}

// config is security.json: JWT names users by email, SSO through the
// provider, sessions of 8 hours.
func (e *env) config() *v1.SecurityConfig {
	return &v1.SecurityConfig{
		TypeMeta: v1.TypeMeta{APIVersion: "cairn.dev/v1alpha1", Kind: "SecurityConfig"},
		Metadata: v1.ObjectMeta{Name: "oidclogin-test"},
		Spec: v1.SecuritySpec{
			Authentication: &v1.Authentication{JWT: &v1.JWT{Issuer: e.p.Issuer, Audience: []string{e.p.ClientID},
				JWKSURI: e.p.JWKSURI(), UsernameClaim: "email", GroupsClaim: "groups"}},
			SSO: &v1.SSO{Provider: v1.ProviderOIDC, OIDC: &v1.OIDCSSO{Issuer: e.p.Issuer, ClientID: e.p.ClientID,
				ClientSecretRef: v1.SecretKeyRef{Name: "cairn-oidc", Key: "client-secret"},
				Scopes:          []string{"openid", "email", "profile", "groups"}, RedirectURI: e.app.URL + PathCallback, GroupsClaim: "groups"}},
			RBAC:     &v1.RBAC{DefaultRole: v1.RoleViewer},
			Sessions: &v1.Sessions{Timeout: "8h", MaxConcurrent: 3},
		},
	}
}

// browser is a client with a cookie jar that follows redirects and keeps
// each redirect it followed.
type browser struct {
	e   *env
	c   *http.Client
	jar *cookiejar.Jar

	// stopAtCallback stops before cairn's callback, keeping its URL.
	stopAtCallback bool
	// noFollow stops at the first redirect.
	noFollow bool
	callback *url.URL
	hops     []*http.Response // redirect responses, in order
	bodies   []string         // every body read
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	b := &browser{e: e, jar: jar}
	c := *e.app.Client()
	c.Jar = jar
	c.CheckRedirect = b.checkRedirect
	b.c = &c
	return b
}

func (b *browser) checkRedirect(req *http.Request, via []*http.Request) error {
	b.hops = append(b.hops, req.Response)
	if b.stopAtCallback && req.URL.Path == PathCallback && strings.HasPrefix(req.URL.String(), b.e.app.URL) {
		b.callback = req.URL
		return http.ErrUseLastResponse
	}
	if len(via) > 20 {
		return errors.New("too many redirects")
	}
	return nil
}

// page is a response read whole.
type page struct {
	status int
	body   string
	url    *url.URL
	header http.Header
	resp   *http.Response
}

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	if b.noFollow {
		c := *b.c
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return b.read(c.Do(req))
	}
	return b.read(b.c.Do(req))
}

func (b *browser) read(resp *http.Response, err error) page {
	b.e.t.Helper()
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	b.bodies = append(b.bodies, string(body))
	return page{status: resp.StatusCode, body: string(body), url: resp.Request.URL, header: resp.Header, resp: resp}
}

func (b *browser) get(u string, hdr ...string) page {
	b.e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values, hdr ...string) page {
	b.e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(req)
}

// startLogin opens cairn's login and returns the id of the provider's
// login form it lands on.
func (b *browser) startLogin(next string) string {
	b.e.t.Helper()
	pg := b.get(b.e.app.URL + PathLogin + "?next=" + url.QueryEscape(next))
	id := pg.url.Query().Get("authRequestID")
	if pg.status != http.StatusOK || id == "" {
		b.e.t.Fatalf("login start: HTTP %d at %s: %s", pg.status, pg.url, pg.body)
	}
	return id
}

// submit fills in the provider's login form; the redirects lead back to
// cairn's callback (and on, unless stopAtCallback).
func (b *browser) submit(id, username string) page {
	b.e.t.Helper()
	return b.post(b.e.p.Issuer+"/login/username", url.Values{"id": {id}, "username": {username}, "password": {password(username)}})
}

// login runs the whole login and returns the page it ends on.
func (b *browser) login(username, next string) page {
	b.e.t.Helper()
	return b.submit(b.startLogin(next), username)
}

// hop returns the last redirect response answered at path of cairn.
func (b *browser) hop(path string) *http.Response {
	b.e.t.Helper()
	for i := len(b.hops) - 1; i >= 0; i-- {
		if u := b.hops[i].Request.URL; u.Path == path && strings.HasPrefix(u.String(), b.e.app.URL) {
			return b.hops[i]
		}
	}
	b.e.t.Fatalf("no redirect from %s", path)
	return nil
}

// whoami is who the Authenticator takes the browser for.
func (b *browser) whoami() (identity.Principal, int) {
	b.e.t.Helper()
	pg := b.get(b.e.app.URL + "/whoami")
	var p identity.Principal
	if pg.status == http.StatusOK {
		if err := json.Unmarshal([]byte(pg.body), &p); err != nil {
			b.e.t.Fatal(err)
		}
	}
	return p, pg.status
}

// cookie is the value of the jar's cookie name for cairn, or "".
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.e.app.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// setCookie is the Set-Cookie of name in resp, or nil.
func setCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// recorder keeps the events the handler reports.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) add(_ context.Context, e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// last is the last event reported, or the zero Event.
func (r *recorder) last() Event {
	all := r.all()
	if len(all) == 0 {
		return Event{}
	}
	return all[len(all)-1]
}

// tamper is the handler's outgoing transport: it passes requests to the
// provider, and can make discovery fail, send a wrong PKCE verifier, or
// re-sign the ID token (with the provider's own key) with other claims.
// It keeps every code, verifier and token it saw, for the leak search.
type tamper struct {
	base http.RoundTripper
	p    *oidctest.Provider

	failDiscovery atomic.Bool
	discoveries   atomic.Int64
	wrongVerifier atomic.Bool

	mu     sync.Mutex
	claims map[string]any // set on the ID token, re-signed
	seen   []string
}

func (t *tamper) setClaims(c map[string]any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.claims = c
}

func (t *tamper) secrets() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.seen...)
}

func (t *tamper) keep(vals ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, v := range vals {
		if v != "" {
			t.seen = append(t.seen, v)
		}
	}
}

func (t *tamper) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/.well-known/openid-configuration") {
		t.discoveries.Add(1)
		if t.failDiscovery.Load() {
			return nil, errors.New("tamper: provider unreachable")
		}
	}
	if req.URL.Path == "/oauth/token" {
		return t.token(req)
	}
	return t.base.RoundTrip(req)
}

func (t *tamper) token(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	t.keep(form.Get("code"), form.Get("code_verifier"))
	if t.wrongVerifier.Load() {
		form.Set("code_verifier", oauth2.GenerateVerifier())
	}
	enc := form.Encode()
	out := req.Clone(req.Context())
	out.Body, out.ContentLength = io.NopCloser(strings.NewReader(enc)), int64(len(enc))
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	return t.rewrite(resp)
}

// rewrite keeps the tokens of a token response and re-signs its ID token
// when claims are set.
func (t *tamper) rewrite(resp *http.Response) (*http.Response, error) {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if json.Unmarshal(body, &doc) == nil {
		for _, k := range []string{"access_token", "id_token", "refresh_token"} {
			s, _ := doc[k].(string)
			t.keep(s)
		}
		if id, _ := doc["id_token"].(string); id != "" && t.claimsSet() {
			if doc["id_token"], err = t.resign(id); err != nil {
				return nil, err
			}
			body, _ = json.Marshal(doc)
		}
	}
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func (t *tamper) claimsSet() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.claims != nil
}

func (t *tamper) resign(idToken string) (string, error) {
	parts := strings.Split(idToken, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", err
	}
	t.mu.Lock()
	c = oidctest.WithClaims(c, t.claims)
	t.mu.Unlock()
	tok, err := t.p.Sign(c)
	t.keep(tok)
	return tok, err
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer = testenv.Buffer
