package oidclogin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"k8s.io/utils/clock"
)

// discoveryTimeout bounds one fetch of the discovery document.
const discoveryTimeout = 10 * time.Second

// provider is what discovery found about the issuer.
type provider struct {
	oidc       *oidc.Provider
	authStyle  oauth2.AuthStyle
	endSession string // "" when not advertised
}

// discovery finds the issuer's provider once and caches it; a failure is
// kept for retry and then tried again.
type discovery struct {
	issuer string
	client *http.Client
	clock  clock.PassiveClock
	retry  time.Duration

	mu       sync.Mutex // one fetch at a time; the others wait for it
	found    *provider
	err      error
	failedAt time.Time
}

// get returns the provider, fetching discovery if it is not cached and the
// last failure is at least retry old. ctx's cancellation is not passed on:
// a fetch that started completes for the requests waiting on it.
func (d *discovery) get(ctx context.Context) (*provider, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.found != nil {
		return d.found, nil
	}
	if d.err != nil && d.clock.Since(d.failedAt) < d.retry {
		return nil, d.err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discoveryTimeout)
	defer cancel()
	p, err := d.fetch(ctx)
	if err != nil {
		d.err, d.failedAt = fmt.Errorf("discover %s: %w", d.issuer, err), d.clock.Now()
		return nil, d.err
	}
	d.found, d.err = p, nil
	return p, nil
}

// cached returns the provider if discovery already found it.
func (d *discovery) cached() *provider {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.found
}

func (d *discovery) fetch(ctx context.Context) (*provider, error) {
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, d.client), d.issuer)
	if err != nil {
		return nil, err
	}
	var meta struct {
		EndSession  string   `json:"end_session_endpoint"`
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := op.Claims(&meta); err != nil {
		return nil, fmt.Errorf("read discovery document: %w", err)
	}
	p := &provider{oidc: op, authStyle: authStyle(meta.AuthMethods)}
	if u, err := url.Parse(meta.EndSession); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		p.endSession = meta.EndSession
	}
	return p, nil
}

// authStyle picks how the client secret is sent from what the provider
// supports; the default for the method list is client_secret_basic.
func authStyle(methods []string) oauth2.AuthStyle {
	if len(methods) > 0 && !slices.Contains(methods, "client_secret_basic") && slices.Contains(methods, "client_secret_post") {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}
