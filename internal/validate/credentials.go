package validate

import (
	"math"
	"regexp"
	"strings"
)

// credentialPatterns are shapes of well-known secrets. A match is reported
// by name only; the value itself never leaves this package.
var credentialPatterns = []struct {
	what string
	re   *regexp.Regexp
}{
	{"a private key", regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY`)},
	{"a certificate bundle with a key", regexp.MustCompile(`PRIVATE KEY-----`)},
	{"an AWS access key", regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"a GitHub token", regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})`)},
	{"a Slack token", regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]{10,}`)},
	{"a Stripe-style live key", regexp.MustCompile(`\b(sk|rk|pk)_live_[A-Za-z0-9]{10,}`)},
	{"a Google API key", regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`)},
	{"a JSON Web Token", regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)},
	{"a cairn API key", regexp.MustCompile(`\bcairn_[A-Za-z0-9]{20,}`)},
	{"a password inside a URL", regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`)},
}

// sensitiveName matches field and variable names that hold secrets.
var sensitiveName = regexp.MustCompile(`(?i)(passw(or)?d|passwd|pwd|secret|token|api_?key|private_?key|credential|passphrase|auth_?key|access_?key)`)

// keyShaped is the alphabet of base64, base64url and hex keys.
var keyShaped = regexp.MustCompile(`^[A-Za-z0-9+/=_-]{24,}$`)

// credentialKind says what a string at a field named key looks like, or ""
// when it does not look like a credential. siblingName is the "name" of the
// object holding the value, for {"name": "FIX_PASSWORD", "value": "..."}.
func credentialKind(key, siblingName, s string) string {
	if s == "" {
		return ""
	}
	for _, p := range credentialPatterns {
		if p.re.MatchString(s) {
			return p.what
		}
	}
	if sensitiveName.MatchString(key) {
		return "a literal secret in a field named " + key
	}
	if key == "value" && sensitiveName.MatchString(siblingName) && !strings.HasPrefix(s, "/") {
		return "a literal secret in a variable named " + siblingName
	}
	if keyShaped.MatchString(s) && hasLetterAndDigit(s) && entropy(s) >= 4.3 {
		return "a random key (a long high-entropy string)"
	}
	return ""
}

// entropy is the Shannon entropy of s in bits per character.
func entropy(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	h, n := 0.0, float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

func hasLetterAndDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789") && strings.IndexFunc(s, func(r rune) bool {
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
	}) >= 0
}

// credentialHit is one literal credential found in a document.
type credentialHit struct {
	pointer string
	what    string
}

// scanCredentials walks a decoded document for literal credentials, in
// values and in keys.
func scanCredentials(v any) []credentialHit {
	var hits []credentialHit
	var walk func(v any, ptr, key, sibling string)
	walk = func(v any, ptr, key, sibling string) {
		switch t := v.(type) {
		case map[string]any:
			name, _ := t["name"].(string)
			for k, child := range t {
				p := ptr + "/" + escapeToken(k)
				if what := credentialKind("", "", k); what != "" && !sensitiveName.MatchString(k) {
					hits = append(hits, credentialHit{p, what + " used as a field name"})
				}
				walk(child, p, k, name)
			}
		case []any:
			for i, child := range t {
				walk(child, ptr+"/"+itoa(i), key, sibling)
			}
		case string:
			if what := credentialKind(key, sibling, t); what != "" {
				hits = append(hits, credentialHit{ptr, what})
			}
		}
	}
	walk(v, "", "", "")
	return hits
}
