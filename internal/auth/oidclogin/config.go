package oidclogin

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// Claims the principal is read from when security.json names none.
const (
	DefaultUsernameClaim = "email"
	DefaultGroupsClaim   = "groups"
)

// DefaultScopes are requested when sso.oidc.scopes is empty; "openid" is
// always requested.
func DefaultScopes() []string { return []string{"openid", "email", "profile"} }

// settings are the SSO settings of one SecurityConfig; immutable.
type settings struct {
	enabled bool
	name    string // the SecurityConfig's, for logs

	issuer      string
	clientID    string
	redirectURI string
	origin      string // scheme://host of the redirect URI
	scopes      []string

	usernameClaim string
	groupsClaim   string

	disc *discovery // set by the Handler; shared while the issuer is the same
}

// sameClient reports whether a login started under o may finish under s.
func (s *settings) sameClient(o *settings) bool {
	return s.enabled && o.enabled && s.issuer == o.issuer && s.clientID == o.clientID && s.redirectURI == o.redirectURI
}

// compile reads cfg's sso block; a nil cfg or a disabled block gives
// disabled settings.
func compile(cfg *v1.SecurityConfig) (*settings, error) {
	if cfg == nil || !cfg.Spec.SSO.On() {
		return &settings{name: configName(cfg)}, nil
	}
	sso := cfg.Spec.SSO
	if sso.Provider != v1.ProviderOIDC && sso.Provider != "" {
		return nil, fmt.Errorf("sso provider %q is not supported (only %q)", sso.Provider, v1.ProviderOIDC)
	}
	o := sso.OIDC
	if o == nil {
		return nil, errors.New("sso: the oidc block is missing")
	}
	s := &settings{enabled: true, name: configName(cfg), issuer: o.Issuer, clientID: o.ClientID,
		redirectURI: o.RedirectURI, scopes: scopes(o.Scopes)}
	if err := s.check(); err != nil {
		return nil, err
	}
	s.usernameClaim, s.groupsClaim = claimNames(cfg.Spec)
	return s, nil
}

// check refuses settings a login cannot work with.
func (s *settings) check() error {
	if s.clientID == "" {
		return errors.New("sso oidc: clientId is required")
	}
	if _, err := absoluteURL("issuer", s.issuer); err != nil {
		return err
	}
	u, err := absoluteURL("redirectUri", s.redirectURI)
	if err != nil {
		return err
	}
	if !strings.HasSuffix(u.Path, PathCallback) {
		return fmt.Errorf("sso oidc redirectUri %q: its path must end in %s, which this handler serves", s.redirectURI, PathCallback)
	}
	s.origin = u.Scheme + "://" + u.Host
	return nil
}

// absoluteURL parses an https URL, or an http one on a loopback host.
func absoluteURL(field, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("sso oidc %s: %w", field, err)
	}
	if u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("sso oidc %s %q: want an absolute URL without user or fragment", field, raw)
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !loopback(u.Hostname())) {
		return nil, fmt.Errorf("sso oidc %s %q: want https (http only on a loopback host)", field, raw)
	}
	return u, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// scopes returns the configured scopes with openid first, or DefaultScopes.
func scopes(configured []string) []string {
	if len(configured) == 0 {
		return DefaultScopes()
	}
	out := []string{"openid"}
	for _, s := range configured {
		if s != "openid" && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// claimNames picks the username and groups claims as described in the
// package documentation.
func claimNames(spec v1.SecuritySpec) (username, groups string) {
	username, groups = DefaultUsernameClaim, DefaultGroupsClaim
	if a := spec.Authentication; a != nil && a.JWT != nil {
		if a.JWT.UsernameClaim != "" {
			username = a.JWT.UsernameClaim
		}
		if a.JWT.GroupsClaim != "" {
			groups = a.JWT.GroupsClaim
		}
	}
	if o := spec.SSO.OIDC; o != nil && o.GroupsClaim != "" {
		groups = o.GroupsClaim
	}
	return username, groups
}

func configName(cfg *v1.SecurityConfig) string {
	if cfg == nil {
		return "(none)"
	}
	return cfg.Metadata.Name
}
