package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"golang.org/x/oauth2"
)

// GroupsClaim is the claim the provider puts a user's groups in.
const GroupsClaim = "groups"

// User is an account on the provider.
type User struct {
	ID       string
	Username string
	Password string
	Email    string
	Groups   []string
}

// Options configure Start; the zero value gives the default users and the
// client "cairn".
type Options struct {
	// Users default to DefaultUsers.
	Users []User
	// ClientID is the OAuth client, and so the tokens' audience; default
	// "cairn".
	ClientID string
	// RedirectURI is where the code flow returns; it is never contacted.
	RedirectURI string
}

// DefaultUsers: alice is in venue-connectivity, bob in compliance, carol
// in no group.
func DefaultUsers() []User {
	return []User{
		{ID: "u-alice", Username: "alice", Password: "alice-password-1", Email: "alice@acme.example", Groups: []string{"venue-connectivity"}},
		{ID: "u-bob", Username: "bob", Password: "bob-password-1", Email: "bob@acme.example", Groups: []string{"compliance"}},
		{ID: "u-carol", Username: "carol", Password: "carol-password-1", Email: "carol@acme.example"},
	}
}

// Provider is a running OpenID provider.
type Provider struct {
	// Issuer is the provider's issuer URL (http://127.0.0.1:port).
	Issuer       string
	ClientID     string
	ClientSecret string
	RedirectURI  string

	srv      *httptest.Server
	keys     *keyring
	users    *users
	handler  atomic.Pointer[http.Handler]
	jwksHits atomic.Int64
}

// Start runs a provider until the test ends.
func Start(tb testing.TB, opts Options) *Provider {
	tb.Helper()
	p, err := start(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.srv.Close)
	return p
}

func start(opts Options) (*Provider, error) {
	if opts.Users == nil {
		opts.Users = DefaultUsers()
	}
	if opts.ClientID == "" {
		opts.ClientID = "cairn"
	}
	if opts.RedirectURI == "" {
		opts.RedirectURI = "http://localhost/auth/callback"
	}
	p := &Provider{ClientID: opts.ClientID, RedirectURI: opts.RedirectURI, keys: &keyring{}, users: newUsers(opts.Users)}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("oidctest: client secret: %w", err)
	}
	p.ClientSecret = hex.EncodeToString(secret)
	if _, err := p.keys.rotate(); err != nil {
		return nil, err
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.Issuer = p.srv.URL
	clients := map[string]*storage.Client{p.ClientID: storage.WebClient(p.ClientID, p.ClientSecret, p.RedirectURI)}
	st := &store{Storage: storage.NewStorageWithClients(p.users, clients), users: p.users, keys: p.keys}
	var h http.Handler = exampleop.SetupServer(p.Issuer, st, nil, false)
	p.handler.Store(&h)
	return p, nil
}

// serve counts key set fetches and hands the request to the provider.
func (p *Provider) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/keys" {
		p.jwksHits.Add(1)
	}
	(*p.handler.Load()).ServeHTTP(w, r)
}

// JWKSURI is where the provider publishes its keys.
func (p *Provider) JWKSURI() string { return p.Issuer + "/keys" }

// JWKSRequests is how many times the key set was fetched.
func (p *Provider) JWKSRequests() int { return int(p.jwksHits.Load()) }

// URL is the provider's base URL, the same as its issuer.
func (p *Provider) URL() string { return p.srv.URL }

// Rotate makes a new key the signing key and returns its id; the previous
// key stays published until Retire.
func (p *Provider) Rotate() (string, error) {
	k, err := p.keys.rotate()
	if err != nil {
		return "", err
	}
	return k.id, nil
}

// Retire stops publishing a key that no longer signs.
func (p *Provider) Retire(kid string) error { return p.keys.retire(kid) }

// SigningKeyID is the id of the key that signs now.
func (p *Provider) SigningKeyID() string { return p.keys.signing().id }

// PublishedKeyIDs are the ids the key set lists.
func (p *Provider) PublishedKeyIDs() []string { return p.keys.ids() }

// PublicKeyPEM is the signing key's public half, PEM-encoded: what an
// attacker would try as an HMAC secret.
func (p *Provider) PublicKeyPEM() []byte {
	der, _ := x509.MarshalPKIXPublicKey(&p.keys.signing().key.PublicKey) // an RSA key always marshals
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Tokens are what the token endpoint answered.
type Tokens struct {
	AccessToken string
	IDToken     string
	Expiry      time.Time
}

// Login runs the authorization code flow with PKCE as a browser would:
// the authorization request, the provider's login form, the redirect with
// the code, and the code exchange with the verifier.
func (p *Provider) Login(ctx context.Context, username, password string) (Tokens, error) {
	conf := p.OAuth2Config()
	verifier := oauth2.GenerateVerifier()
	state := oauth2.GenerateVerifier()
	browser, err := p.browser()
	if err != nil {
		return Tokens{}, err
	}
	authReq, err := p.authorize(ctx, browser, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		return Tokens{}, err
	}
	code, err := p.submitLogin(ctx, browser, authReq, username, password, state)
	if err != nil {
		return Tokens{}, err
	}
	tok, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, p.srv.Client()), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Tokens{}, fmt.Errorf("oidctest: code exchange: %w", err)
	}
	id, _ := tok.Extra("id_token").(string)
	return Tokens{AccessToken: tok.AccessToken, IDToken: id, Expiry: tok.Expiry}, nil
}

// OAuth2Config is the client's configuration, as a relying party has it.
func (p *Provider) OAuth2Config() *oauth2.Config {
	return &oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, RedirectURL: p.RedirectURI,
		Scopes:   []string{"openid", "email", "profile"},
		Endpoint: oauth2.Endpoint{AuthURL: p.Issuer + "/auth", TokenURL: p.Issuer + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
}

// browser follows redirects within the provider and stops at the client's
// redirect URI.
func (p *Provider) browser() (*http.Client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("oidctest: %w", err)
	}
	c := p.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), p.RedirectURI) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return c, nil
}

// authorize sends the authorization request and returns the id of the
// request the login form is for.
func (p *Provider) authorize(ctx context.Context, c *http.Client, authURL string) (string, error) {
	resp, err := get(ctx, c, authURL)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	if resp.StatusCode != http.StatusOK || id == "" {
		return "", fmt.Errorf("oidctest: authorization request: HTTP %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}
	return id, nil
}

// submitLogin posts the login form and returns the code of the redirect.
func (p *Provider) submitLogin(ctx context.Context, c *http.Client, authReq, username, password, state string) (string, error) {
	form := url.Values{"id": {authReq}, "username": {username}, "password": {password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Issuer+"/login/username", strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("oidctest: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("oidctest: login: %w", err)
	}
	defer resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		return "", errors.New("oidctest: login refused (no redirect to the client)")
	}
	q := loc.Query()
	if q.Get("state") != state || q.Get("code") == "" {
		return "", fmt.Errorf("oidctest: redirect without code or with another state: error %q", q.Get("error"))
	}
	return q.Get("code"), nil
}

func get(ctx context.Context, c *http.Client, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("oidctest: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidctest: GET %s: %w", u, err)
	}
	return resp, nil
}

// Discovery returns the provider's discovery document.
func (p *Provider) Discovery(ctx context.Context) (map[string]any, error) {
	resp, err := get(ctx, p.srv.Client(), p.Issuer+"/.well-known/openid-configuration")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, fmt.Errorf("oidctest: discovery: %w", err)
	}
	return doc, nil
}
