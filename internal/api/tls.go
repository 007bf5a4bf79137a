package api

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/cairn-gitops/cairn/internal/metrics"
)

// TLSFiles serves TLS from a certificate and key, and verifies client
// certificates against a CA bundle, all read from files (Secrets mounted by
// the chart) and read again when they change, so a renewed certificate is
// used without a restart.
type TLSFiles struct {
	CertFile, KeyFile string
	// ClientCAFile verifies client certificates when set: a client that
	// presents one must present a valid one; one that presents none may
	// still authenticate otherwise, unless security.json's mtls requires
	// certificates (checked per request by the API).
	ClientCAFile string
	// Metrics is told the certificates' expiry; nil is fine.
	Metrics *metrics.Metrics
	// Now tells the time (default time.Now).
	Now func() time.Time

	mu      sync.Mutex
	checked time.Time
	stamp   string // modification times of the files last read
	cert    *tls.Certificate
	pool    *x509.CertPool
}

// recheck is how often the files' modification times are looked at.
const recheck = 30 * time.Second

// Config is the listener's TLS configuration. It fails when the files
// cannot be read now.
func (t *TLSFiles) Config() (*tls.Config, error) {
	if t.Now == nil {
		t.Now = time.Now
	}
	if _, err := t.current(); err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return t.current()
	}}, nil
}

// current returns the configuration for a handshake, reading the files
// again when they changed.
func (t *TLSFiles) current() (*tls.Config, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	if t.cert == nil || now.Sub(t.checked) >= recheck {
		t.checked = now
		if err := t.reload(); err != nil && t.cert == nil {
			return nil, err
		}
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*t.cert}}
	if t.pool != nil {
		cfg.ClientCAs, cfg.ClientAuth = t.pool, tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

// reload reads the files if their modification times changed. Called with
// t.mu held; on error the files in use stay.
func (t *TLSFiles) reload() error {
	stamp, err := stampOf(t.CertFile, t.KeyFile, t.ClientCAFile)
	if err != nil || stamp == t.stamp {
		return err
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate: %w", err)
	}
	var pool *x509.CertPool
	var caExpiry time.Time
	if t.ClientCAFile != "" {
		if pool, caExpiry, err = loadPool(t.ClientCAFile); err != nil {
			return err
		}
	}
	t.cert, t.pool, t.stamp = &cert, pool, stamp
	if cert.Leaf != nil {
		t.Metrics.CertificateExpiry("server", cert.Leaf.NotAfter)
	}
	if pool != nil {
		t.Metrics.CertificateExpiry("client-ca", caExpiry)
	}
	return nil
}

// loadPool reads a PEM bundle of CA certificates; expiry is the soonest
// NotAfter among them.
func loadPool(path string) (*x509.CertPool, time.Time, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("client CA: %w", err)
	}
	pool := x509.NewCertPool()
	var expiry time.Time
	for rest := b; len(rest) > 0; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("client CA %s: %w", path, err)
		}
		pool.AddCert(c)
		if expiry.IsZero() || c.NotAfter.Before(expiry) {
			expiry = c.NotAfter
		}
	}
	if expiry.IsZero() {
		return nil, time.Time{}, errors.New("client CA " + path + ": no certificate")
	}
	return pool, expiry, nil
}

func stampOf(paths ...string) (string, error) {
	var s string
	for _, p := range paths {
		if p == "" {
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("TLS: %w", err)
		}
		s += fi.ModTime().String() + fmt.Sprint(fi.Size()) + ";"
	}
	return s, nil
}
