package validate

import "testing"

func TestLastWords(t *testing.T) {
	tests := []struct{ name, last, prev string }{
		{"clientSecretRef", "Ref", "Secret"},
		{"password", "password", ""},
		{"KAFKA_TRUSTSTORE_PASSWORD", "PASSWORD", "TRUSTSTORE"},
		{"X-Auth-Token", "Token", "Auth"},
		{"acme.example/secret-rotation", "rotation", "secret"},
		{"apiKey", "Key", "api"},
		{"private_key", "key", "private"},
		{"FIX_PASSWORD_FILE", "FILE", "PASSWORD"},
		{"", "", ""},
		{"__", "", ""},
	}
	for _, tt := range tests {
		if last, prev := lastWords(tt.name); last != tt.last || prev != tt.prev {
			t.Errorf("lastWords(%q) = %q, %q; want %q, %q", tt.name, last, prev, tt.last, tt.prev)
		}
	}
	for name, want := range map[string]bool{"clientSecret": true, "apiKey": true, "secretRef": false, "tokenTTL": false,
		"FIX_PASSWORD_FILE": false, "MARKET_DATA_TOKEN": true, "keys": false, "key": false, "signing-key": true} {
		if got := sensitiveName(name); got != want {
			t.Errorf("sensitiveName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestMayHoldSecretCoversEveryHint keeps the one-pass filter in step with
// the patterns: every hint of every pattern must pass it.
func TestMayHoldSecretCoversEveryHint(t *testing.T) {
	for _, p := range credentialPatterns {
		for _, h := range p.hints {
			if !mayHoldSecret("xx " + h + " yy") {
				t.Errorf("hint %q of %s does not pass mayHoldSecret", h, p.what)
			}
		}
	}
	for _, s := range []string{"lse-fix-primary", "fix.lse.example.net", "Europe/London", "orders.events"} {
		if mayHoldSecret(s) {
			t.Errorf("%q passes the filter", s)
		}
	}
}
