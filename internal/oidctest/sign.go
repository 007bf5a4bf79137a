package oidctest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Claims returns the claims the provider would put in an access token for
// user (by username), valid from a minute ago for five minutes.
func (p *Provider) Claims(username string) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": p.Issuer, "aud": []string{p.ClientID}, "client_id": p.ClientID,
		"iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"jti": fmt.Sprintf("jti-%d", now.UnixNano())}
	if u := p.users.GetUserByUsername(username); u != nil {
		c["sub"] = u.ID
		for k, v := range (&store{users: p.users}).claims(u.ID) {
			c[k] = v
		}
	} else {
		c["sub"] = username
	}
	return c
}

// Signing says how SignWith signs; the zero value signs as the provider.
type Signing struct {
	// Key is a private RSA, ECDSA or Ed25519 key, or []byte for an HMAC;
	// nil is the provider's current signing key.
	Key any
	// Algorithm defaults to RS256 for RSA keys, ES256 for P-256, EdDSA for
	// Ed25519 and HS256 for []byte.
	Algorithm string
	// KeyID is the header's kid; empty uses the provider's key id (for the
	// provider's key) or none; NoKeyID leaves it out in every case.
	KeyID string
	// Header adds header parameters (jku, x5u, jwk, crit, typ ...).
	Header map[string]any
}

// NoKeyID as Signing.KeyID leaves the kid out.
const NoKeyID = "-"

// Sign signs claims with the provider's current key.
func (p *Provider) Sign(claims map[string]any) (string, error) {
	return p.SignWith(claims, Signing{})
}

// SignWith signs claims as s says.
func (p *Provider) SignWith(claims map[string]any, s Signing) (string, error) {
	kid := s.KeyID
	if s.Key == nil {
		k := p.keys.signing()
		s.Key = k.key
		if kid == "" {
			kid = k.id
		}
	}
	alg := jose.SignatureAlgorithm(s.Algorithm)
	if alg == "" {
		alg = defaultAlgorithm(s.Key)
	}
	opts := &jose.SignerOptions{ExtraHeaders: map[jose.HeaderKey]any{}}
	opts.WithType("JWT")
	if kid != "" && kid != NoKeyID {
		opts.ExtraHeaders["kid"] = kid
	}
	for k, v := range s.Header {
		opts.ExtraHeaders[jose.HeaderKey(k)] = v
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: s.Key}, opts)
	if err != nil {
		return "", fmt.Errorf("oidctest: signer: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("oidctest: claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("oidctest: sign: %w", err)
	}
	return jws.CompactSerialize()
}

func defaultAlgorithm(key any) jose.SignatureAlgorithm {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		return jose.SignatureAlgorithm("ES" + fmt.Sprint(k.Curve.Params().BitSize))
	case ed25519.PrivateKey:
		return jose.EdDSA
	case []byte:
		return jose.HS256
	case *rsa.PrivateKey:
	}
	return jose.RS256
}

// Unsigned builds a token with the given header and claims and an empty
// signature, as in an alg "none" attack.
func Unsigned(header, claims map[string]any) string {
	h, _ := json.Marshal(header) // maps of plain values always marshal
	c, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(c) + "."
}

// WithClaims returns a copy of base with the given claims set (a nil value
// deletes the claim).
func WithClaims(base map[string]any, set map[string]any) map[string]any {
	out := maps.Clone(base)
	for k, v := range set {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}
