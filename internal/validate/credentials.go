package validate

import (
	"github.com/cairn-gitops/cairn/internal/diag"
	"github.com/cairn-gitops/cairn/internal/jsonptr"
	"math"
	"regexp"
	"strings"
)

// credentialPatterns are shapes of well-known secrets. A match is reported
// by name only; the value itself never leaves this package. Each pattern has
// literal hints, one of which every match contains, so that the regular
// expression runs only on the rare strings that could match.
var credentialPatterns = []struct {
	what  string
	hints []string
	re    *regexp.Regexp
}{
	{"a private key", []string{"PRIVATE KEY-----"}, regexp.MustCompile(`PRIVATE KEY-----`)},
	{"an AWS access key", []string{"AKIA", "ASIA"}, regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"a GitHub token", []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})`)},
	{"a Slack token", []string{"xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-"}, regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]{10,}`)},
	{"a Stripe-style live key", []string{"_live_"}, regexp.MustCompile(`\b(sk|rk|pk)_live_[A-Za-z0-9]{10,}`)},
	{"a Google API key", []string{"AIza"}, regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`)},
	{"a JSON Web Token", []string{"eyJ"}, regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)},
	{"a cairn API key", []string{"cairn_"}, regexp.MustCompile(`\bcairn_[A-Za-z0-9]{20,}`)},
	{"a password inside a URL", []string{"://"}, regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`)},
}

// hinted reports whether s contains one of the hints.
func hinted(s string, hints []string) bool {
	for _, h := range hints {
		if strings.Contains(s, h) {
			return true
		}
	}
	return false
}

// mayHoldSecret is a one-pass filter over s: false means that no credential
// pattern can match, because no hint occurs in s. It runs for every string
// of every document, so it looks at each byte once.
func mayHoldSecret(s string) bool {
	for i := 0; i < len(s); i++ {
		rest := s[i:]
		switch s[i] {
		case 'P':
			if strings.HasPrefix(rest, "PRIVATE KEY-----") {
				return true
			}
		case 'A':
			if strings.HasPrefix(rest, "AKIA") || strings.HasPrefix(rest, "ASIA") || strings.HasPrefix(rest, "AIza") {
				return true
			}
		case 'g':
			if len(rest) > 3 && rest[1] == 'h' && rest[3] == '_' || strings.HasPrefix(rest, "github_pat_") {
				return true
			}
		case 'x':
			if len(rest) > 4 && rest[1] == 'o' && rest[2] == 'x' && rest[4] == '-' {
				return true
			}
		case '_':
			if strings.HasPrefix(rest, "_live_") {
				return true
			}
		case 'e':
			if strings.HasPrefix(rest, "eyJ") {
				return true
			}
		case 'c':
			if strings.HasPrefix(rest, "cairn_") {
				return true
			}
		case ':':
			if strings.HasPrefix(rest, "://") {
				return true
			}
		}
	}
	return false
}

// sensitiveWords end the names of fields and variables that hold secrets
// ("password", "clientSecret", "KAFKA_TRUSTSTORE_PASSWORD", "X-Auth-Token");
// a name where such a word is not last ("secretRef", "tokenTTL",
// "FIX_PASSWORD_FILE", "secret-rotation") names something else.
var sensitiveWords = []string{"password", "passwd", "pwd", "secret", "token", "credential", "credentials", "passphrase"}

// sensitivePairs are two-word endings that hold secrets ("apiKey",
// "private_key", "accessKey"); "key" alone is too common to count.
var sensitivePairs = [][2]string{{"api", "key"}, {"private", "key"}, {"access", "key"}, {"auth", "key"}, {"secret", "key"}, {"signing", "key"}}

// sensitiveName reports a field or variable name that suggests a secret.
// It runs for every string of every document, so it allocates nothing.
func sensitiveName(name string) bool {
	last, prev := lastWords(name)
	for _, w := range sensitiveWords {
		if strings.EqualFold(last, w) {
			return true
		}
	}
	for _, p := range sensitivePairs {
		if strings.EqualFold(prev, p[0]) && strings.EqualFold(last, p[1]) {
			return true
		}
	}
	return false
}

// lastWords returns the last two words of a camelCase, snake_case,
// kebab-case or dotted name: "clientSecretRef" -> "Secret", "Ref".
func lastWords(name string) (last, prev string) {
	end := len(name)
	var words [2]string
	n := 0
	for i := len(name) - 1; i >= 0 && n < 2; i-- {
		c := name[i]
		switch {
		case c == '_' || c == '-' || c == '.' || c == '/' || c == ' ':
			if end > i+1 {
				words[n] = name[i+1 : end]
				n++
			}
			end = i
		case c >= 'A' && c <= 'Z' && i > 0 && name[i-1] >= 'a' && name[i-1] <= 'z':
			words[n] = name[i:end]
			n++
			end = i
		}
	}
	if n < 2 && end > 0 {
		words[n] = name[:end]
	}
	return words[0], words[1]
}

// credentialKind says what a string at a field named key looks like, or ""
// when it does not look like a credential. siblingName is the "name" of the
// object holding the value, for {"name": "FIX_PASSWORD", "value": "..."}.
func credentialKind(key, siblingName, s string) string {
	if s == "" {
		return ""
	}
	if len(s) >= 8 && mayHoldSecret(s) {
		for _, p := range credentialPatterns {
			if hinted(s, p.hints) && p.re.MatchString(s) {
				return p.what
			}
		}
	}
	if sensitiveName(key) {
		return "a literal secret in a field named " + key
	}
	if key == "value" && sensitiveName(siblingName) {
		return "a literal secret in a variable named " + siblingName
	}
	if looksRandom(s) {
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

// looksRandom reports a generated key: a run of at least 20 characters with
// no separator, mixing upper case, lower case and digits, with high entropy.
// Names such as "lse-fix-credentials-0042" are made of short words and pass.
func looksRandom(s string) bool {
	if len(s) < 20 || !keyShaped(s) {
		return false
	}
	for _, seg := range strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' || r == '/' || r == '.' }) {
		if len(seg) >= 20 && mixedClasses(seg) && 3*classChanges(seg) >= len(seg) && entropy(seg) >= 3.8 {
			return true
		}
	}
	return false
}

// keyShaped reports a string entirely in the base64 and base64url alphabets.
func keyShaped(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// classChanges counts the places where s switches between lower case,
// upper case and digits: about two in three characters of a random key,
// a handful in "ConnectivityOrdersBridge2024".
func classChanges(s string) int {
	class := func(c byte) int {
		switch {
		case c >= 'a' && c <= 'z':
			return 0
		case c >= 'A' && c <= 'Z':
			return 1
		case c >= '0' && c <= '9':
			return 2
		}
		return 3
	}
	n := 0
	for i := 1; i < len(s); i++ {
		if class(s[i]) != class(s[i-1]) {
			n++
		}
	}
	return n
}

func mixedClasses(s string) bool {
	return strings.ContainsAny(s, "0123456789") &&
		strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz") &&
		strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
}

// credentialHit is one literal credential found in a document.
type credentialHit struct {
	pointer string
	what    string
	secret  string // the string that looks like a credential: a value or a key
}

// scanCredentials walks a decoded document for literal credentials, in
// values and in keys. Pointers are built only for hits: the walk itself
// allocates nothing.
func scanCredentials(v any) []credentialHit {
	s := &credScan{}
	s.walk(v, "", "")
	return s.hits
}

type credScan struct {
	path []string
	hits []credentialHit
}

func (s *credScan) hit(what, secret string) {
	var b strings.Builder
	for _, t := range s.path {
		b.WriteByte('/')
		b.WriteString(jsonptr.Escape(t))
	}
	s.hits = append(s.hits, credentialHit{b.String(), what, secret})
}

func (s *credScan) walk(v any, key, sibling string) {
	switch t := v.(type) {
	case map[string]any:
		name, _ := t["name"].(string)
		for k, child := range t {
			if what := credentialKind("", "", k); what != "" {
				s.hit(what+" used as a field name", k) // at the object: the key itself is the secret
			}
			s.path = append(s.path, k)
			s.walk(child, k, name)
			s.path = s.path[:len(s.path)-1]
		}
	case []any:
		for i, child := range t {
			s.path = append(s.path, itoa(i))
			s.walk(child, key, sibling)
			s.path = s.path[:len(s.path)-1]
		}
	case string:
		if what := credentialKind(key, sibling, t); what != "" {
			s.hit(what, t)
		}
	}
}

// redact removes from every finding's message each value that looks like a
// credential, and anything shaped like a well-known secret (a Jsonnet error
// can quote one that is in no document), whatever rule wrote the message.
func redact(findings []diag.Finding, secrets []string) {
	for i := range findings {
		m := findings[i].Message
		for _, s := range secrets {
			if len(s) >= 4 {
				m = strings.ReplaceAll(m, s, "[redacted]")
			}
		}
		for _, p := range credentialPatterns {
			if hinted(m, p.hints) {
				m = p.re.ReplaceAllString(m, "[redacted]")
			}
		}
		findings[i].Message = m
		for _, s := range secrets {
			if len(s) >= 4 && strings.Contains(findings[i].Document, s) {
				findings[i].Document = "[redacted]"
			}
			if len(s) >= 4 && strings.Contains(findings[i].Pointer, s) {
				findings[i].Pointer = "[redacted]"
			}
		}
	}
}
