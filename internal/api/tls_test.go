package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth"
	"github.com/cairn-gitops/cairn/internal/auth/apikey"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/history/sqlitestore"
)

// pki is a CA that issues certificates for a test.
type pki struct {
	t    *testing.T
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(30 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &pki{t: t, cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate and key (PEM) for name, a server's when
// server is set (for 127.0.0.1).
func (p *pki) issue(name string, serial int64, server bool) (certPEM, keyPEM []byte) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(7 * 24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	if server {
		tmpl.ExtKeyUsage, tmpl.IPAddresses = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, []net.IP{net.ParseIP("127.0.0.1")}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		p.t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMutualTLS: with security.json's mtls required, a verified client
// certificate is the identity; a key alone is refused; a certificate from
// another CA does not get in; a renewed server
// certificate is served without a restart.
func TestMutualTLS(t *testing.T) {
	ca, other := newPKI(t, "cairn test CA"), newPKI(t, "another CA")
	dir := t.TempDir()
	srvCert, srvKey := ca.issue("cairn", 10, true)
	certFile, keyFile, caFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), filepath.Join(dir, "ca.crt")
	write(t, certFile, srvCert)
	write(t, keyFile, srvKey)
	write(t, caFile, ca.pem)
	now := time.Now()
	files := &TLSFiles{CertFile: certFile, KeyFile: keyFile, ClientCAFile: caFile, Now: func() time.Time { return now }}
	tlsCfg, err := files.Config()
	if err != nil {
		t.Fatal(err)
	}
	cfg := `{"apiVersion": "cairn.dev/v1alpha1", "kind": "SecurityConfig", "metadata": {"name": "mtls"}, "spec": {
	  "mtls": {"enabled": true, "clientAuth": "require"},
	  "authentication": {"apiKeys": {"keys": [%s]}},
	  "rbac": {"bindings": [{"role": "viewer", "subject": {"type": "serviceAccount", "name": "ops-robot"}},
	                        {"role": "viewer", "subject": {"type": "serviceAccount", "name": "key-holder"}}]}}}`
	key, entry := newKeyEntry(t, "key-holder")
	var sec = mustConfig(t, strings.Replace(cfg, "%s", entry, 1))
	authn, err := auth.New(sec, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlitestore.Open(filepath.Join(dir, "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := New(Options{Auth: authn, Status: fixtureStatus(), History: st})
	if err := h.Reload(sec); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.Run(ctx)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = tlsCfg
	srv.StartTLS()
	defer srv.Close()

	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	client := func(issuer *pki, name string) *http.Client {
		tc := &tls.Config{RootCAs: roots}
		if issuer != nil {
			c, k := issuer.issue(name, time.Now().UnixNano(), false)
			pair, err := tls.X509KeyPair(c, k)
			if err != nil {
				t.Fatal(err)
			}
			tc.Certificates = []tls.Certificate{pair}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	}
	get := func(c *http.Client, path, bearer string) (int, map[string]any, error) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body, nil
	}
	code, who, err := get(client(ca, "ops-robot"), "/api/v1/whoami", "")
	if err != nil || code != 200 || who["principal"].(map[string]any)["method"] != "mtls" {
		t.Fatalf("whoami with a client certificate: %d %v %v", code, who, err)
	}
	if code, _, _ := get(client(ca, "ops-robot"), "/api/v1/status", ""); code != 200 {
		t.Errorf("status with a client certificate: %d", code)
	}
	if code, _, _ := get(client(nil, ""), "/api/v1/status", key); code != 401 {
		t.Errorf("an API key without a certificate when mtls is required: %d, want 401", code)
	}
	if code, _, _ := get(client(nil, ""), "/healthz", ""); code != 200 {
		t.Errorf("the probe without a certificate: %d, want 200", code)
	}
	// A certificate from another CA: Go's client does not even offer it
	// (the server names its CA); either way the request is not let in.
	if code, _, err := get(client(other, "ops-robot"), "/api/v1/status", ""); err == nil && code != 401 {
		t.Errorf("a certificate from another CA: %d, want a refused handshake or 401", code)
	}
	// The certificate is renewed on disk; after the recheck interval it is served.
	renewed, renewedKey := ca.issue("cairn", 11, true)
	write(t, certFile, renewed)
	write(t, keyFile, renewedKey)
	future := time.Now().Add(time.Minute)
	os.Chtimes(certFile, future, future)
	now = now.Add(recheck)
	conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{RootCAs: roots})
	if err != nil {
		t.Fatal(err)
	}
	serial := conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	conn.Close()
	if serial != 11 {
		t.Errorf("served certificate serial %d after renewal, want 11", serial)
	}
	recs, _ := waitRecords(h, st, history.AccessUnauthenticated)
	if len(recs) == 0 || recs[0].Access.Reason != "client-certificate-required" {
		t.Errorf("the refused key has no access record: %+v", recs)
	}
}

func mustConfig(t *testing.T, doc string) *v1.SecurityConfig {
	t.Helper()
	var cfg v1.SecurityConfig
	if err := json.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	return &cfg
}

// newKeyEntry makes an API key for name with the viewer's scopes and
// returns it and its entry as JSON.
func newKeyEntry(t *testing.T, name string) (string, string) {
	t.Helper()
	key, entry, err := apikey.NewKey(name, []string{"status:read", "adapters:read"}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(entry)
	return key, string(b)
}

func waitRecords(h *Handler, st history.Store, ev history.Event) ([]history.Stored, error) {
	for i := 0; i < 500 && h.access.pending.Load() > 0; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	return st.List(context.Background(), history.Filter{Events: []history.Event{ev}})
}
