package githubtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// accessToken issues an installation token to the App whose JWT
// authenticated the request.
func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || s.app == nil || id != s.app.InstallationID {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	tok := "ghs_" + hex.EncodeToString(b)
	expires := time.Now().Add(s.app.TokenTTL).Truncate(time.Second)
	s.tokens[tok] = token{login: s.app.Login, expires: expires}
	s.issued++
	s.writeJSON(w, r, http.StatusCreated, map[string]any{
		"token": tok, "expires_at": expires.UTC().Format(time.RFC3339),
		"permissions": map[string]string{
			"contents": "read", "pull_requests": "write", "statuses": "write",
			"checks": "read", "issues": "write", "members": "read", "metadata": "read",
		},
		"repository_selection": "all",
	})
}

// verifyJWT checks an App's JWT as GitHub does: RS256 signed by the App's
// key, issued by its id, not expired, issued no later than a minute ahead.
func (s *Server) verifyJWT(jwt string) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &header); err != nil || header.Alg != "RS256" {
		return fmt.Errorf("JWT header: alg %q: %v", header.Alg, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("JWT signature: %w", err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(s.app.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return fmt.Errorf("JWT signature: %w", err)
	}
	var claims struct {
		Iss string `json:"iss"`
		Iat int64  `json:"iat"`
		Exp int64  `json:"exp"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return fmt.Errorf("JWT claims: %w", err)
	}
	now := time.Now().Unix()
	if claims.Iss != strconv.FormatInt(s.app.ID, 10) || claims.Exp <= now || claims.Iat > now+60 ||
		claims.Exp-claims.Iat > 600 {
		return fmt.Errorf("JWT claims refused: iss %q", claims.Iss)
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
