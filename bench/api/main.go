// Command api benchmarks cairn's status API: the adapter list of 1,000
// adapters, authenticated, with RBAC, the IP allowlist and the access
// trail on, as cairn serve runs them.
//
// It is two programs in one binary, run as two processes so that the load
// is generated outside the server:
//
//	api serve -addr 127.0.0.1:0 -dir DIR   start the API with 1,000 adapters; write DIR/addr, DIR/key, DIR/token
//	api load -url URL -bearer FILE -c 64 -d 10s   send requests, print rate and latency
//
// bench/api.sh runs both and records the figures.
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/cairn-gitops/cairn/internal/api"
	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth"
	"github.com/cairn-gitops/cairn/internal/auth/apikey"
	"github.com/cairn-gitops/cairn/internal/history/sqlitestore"
	"github.com/cairn-gitops/cairn/internal/metrics"
	"github.com/cairn-gitops/cairn/internal/status"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: api serve|load [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "load":
		err = load(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

// serve starts the API over 1,000 adapters until SIGTERM.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	dir := fs.String("dir", "", "where to write addr, key and token")
	n := fs.Int("n", 1000, "adapters")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the server here")
	_ = fs.Parse(args)
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	jwks, token, err := identityProvider()
	if err != nil {
		return err
	}
	defer jwks.Close()
	key, entry, err := apikey.NewKey("bench-viewer", []string{"status:read", "adapters:read"}, time.Now().Add(24*time.Hour))
	if err != nil {
		return err
	}
	cfg, err := securityConfig(entry, jwks.URL)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	authn, err := auth.New(cfg, auth.Options{Logger: log})
	if err != nil {
		return err
	}
	store, err := sqlitestore.Open(filepath.Join(*dir, "history.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	h := api.New(api.Options{Branch: "main", Logger: log, Auth: authn, Status: adapters(*n), History: store, Metrics: metrics.New()})
	if err := h.Reload(cfg); err != nil {
		return err
	}
	go h.Run(ctx)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	for name, v := range map[string]string{"addr": ln.Addr().String(), "key": key, "token": token} {
		if err := os.WriteFile(filepath.Join(*dir, name), []byte(v), 0o600); err != nil {
			return err
		}
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	fmt.Fprintf(os.Stderr, "access records dropped: %d\n", h.AccessDropped())
	return nil
}

// identityProvider serves a JWKS and returns a token it signed, valid for
// an hour.
func identityProvider() (*httptest.Server, string, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", err
	}
	jwk := jose.JSONWebKey{Key: &priv.PublicKey, KeyID: "bench", Algorithm: "RS256", Use: "sig"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	}))
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: "bench"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, "", err
	}
	now := time.Now()
	tok, err := jwt.Signed(signer).Claims(map[string]any{"iss": "https://bench.example", "aud": []string{"cairn"},
		"sub": "u-bench", "email": "bench@acme.example", "groups": []string{"viewers"},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}).Serialize()
	return srv, tok, err
}

func securityConfig(key v1.APIKey, jwksURL string) (*v1.SecurityConfig, error) {
	keys, _ := json.Marshal([]v1.APIKey{key})
	doc := fmt.Sprintf(`{"apiVersion": "cairn.dev/v1alpha1", "kind": "SecurityConfig", "metadata": {"name": "bench"},
	  "spec": {
	    "authentication": {"apiKeys": {"keys": %s},
	      "jwt": {"issuer": "https://bench.example", "audience": ["cairn"], "jwksUri": %q, "algorithms": ["RS256"],
	              "groupsClaim": "groups", "usernameClaim": "email"}},
	    "rbac": {"bindings": [
	      {"role": "viewer", "subject": {"type": "serviceAccount", "name": "bench-viewer"}},
	      {"role": "viewer", "subject": {"type": "group", "name": "viewers"}, "scope": {"environments": ["prod", "uat"]}}]},
	    "network": {"ipAllowlist": {"ranges": ["127.0.0.0/8", "10.0.0.0/8"]}},
	    "audit": {"level": "standard"}
	  }}`, keys, jwksURL)
	var cfg v1.SecurityConfig
	return &cfg, json.Unmarshal([]byte(doc), &cfg)
}

// adapters is a status of n applied adapters over three environments.
func adapters(n int) *status.Store {
	st := status.NewStore("https://git.example/config.git", "main")
	st.Update(func(s *status.Snapshot) {
		s.Leader = true
		for i := range n {
			env := []string{"prod", "uat", "dr"}[i%3]
			name := fmt.Sprintf("venue-%04d-fix", i)
			s.Adapters = append(s.Adapters, status.Adapter{Key: env + "/" + name, Name: name, Environment: env,
				Namespace: "connectivity-" + env, Protocol: "fix", Role: "initiator",
				Labels: map[string]string{"venue": fmt.Sprintf("v%02d", i%40), "team": "connectivity"},
				Phase:  status.Applied, Health: "Healthy", AppliedRevision: fmt.Sprintf("%040x", i), HelmVersion: 3,
				Digest: fmt.Sprintf("sha256:%064x", i), AppliedAt: time.Now()})
		}
	})
	return st
}

// load sends GETs from c workers for d and prints the rate and latencies.
func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	url := fs.String("url", "", "URL to GET")
	bearerFile := fs.String("bearer", "", "file holding the bearer credential")
	c := fs.Int("c", 64, "concurrent connections")
	d := fs.Duration("d", 10*time.Second, "duration")
	label := fs.String("label", "", "name of the run in the output")
	_ = fs.Parse(args)
	bearer, err := os.ReadFile(*bearerFile)
	if err != nil {
		return err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *c, MaxConnsPerHost: *c}
	client := &http.Client{Transport: tr}
	deadline := time.Now().Add(*d)
	var mu sync.Mutex
	var lat []time.Duration
	var failures, bytes int64
	var wg sync.WaitGroup
	for range *c {
		wg.Go(func() {
			var mine []time.Duration
			var bad, n int64
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodGet, *url, nil)
				req.Header.Set("Authorization", "Bearer "+string(bearer))
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					bad++
					continue
				}
				k, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					bad++
				}
				mine, n = append(mine, time.Since(start)), n+k
			}
			mu.Lock()
			lat, failures, bytes = append(lat, mine...), failures+bad, bytes+n
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	fmt.Printf("%-28s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms  %d requests, %d not 200, %.1f KB each\n",
		*label, float64(len(lat))/d.Seconds(), ms(pct(0.50)), ms(pct(0.99)), ms(pct(1)), len(lat), failures,
		float64(bytes)/float64(max(1, len(lat)))/1024)
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
