package oidclogin_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth"
	"github.com/cairn-gitops/cairn/internal/auth/oidclogin"
)

// The API server builds the login handler beside the Authenticator,
// mounts it at /auth/, reloads both with each applied security.json, and
// checks the CSRF token on the portal's form posts.
func Example() {
	var cfg *v1.SecurityConfig // the applied revision's security.json
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	authn, err := auth.New(cfg, auth.Options{Logger: log})
	if err != nil {
		log.Error("auth", "error", err)
		return
	}
	secret, err := os.ReadFile("/etc/cairn/oidc/client-secret") // sso.oidc.clientSecretRef, mounted
	if err != nil {
		log.Error("oidc client secret", "error", err)
		return
	}
	login, err := oidclogin.New(cfg, authn, oidclogin.Options{ClientSecret: secret, Logger: log,
		OnEvent: func(ctx context.Context, e oidclogin.Event) {
			log.InfoContext(ctx, "access", "event", e.Kind, "principal", e.Principal, "reason", e.Reason, "ip", e.IP)
		}})
	if err != nil {
		log.Error("oidc login", "error", err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", login)
	mux.HandleFunc("POST /portal/sync", func(w http.ResponseWriter, r *http.Request) {
		if !login.CheckCSRF(r) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		// ... authorize through authn.Check, then sync.
	})
	// On each applied revision: authn.Reload(next); login.Reload(next).
	_ = &http.Server{Addr: ":8443", Handler: mux}
}
