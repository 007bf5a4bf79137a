package sink

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseURLHidesPassword checks that the error of a URL never shows the
// password of its userinfo, and that the name of a valid one is the name of
// the URL without userinfo.
func FuzzParseURLHidesPassword(f *testing.F) {
	f.Add("s3cret-pass", "siem.example/ingest")
	f.Add("pa%zz-word", "host/")
	f.Add("hunter2-xyz", "[::1]:8080/x?a=b")
	f.Add("pass:w0rd99", "host:99999")
	f.Fuzz(func(t *testing.T, password, rest string) {
		if len(password) < 6 || strings.ContainsAny(password, "/?#@[]\\") || // those end the userinfo
			strings.Contains(rest, password) || strings.Contains("https://user:@", password) {
			return // not a password the URL can carry whole: nothing to check
		}
		raw := "https://user:" + password + "@" + rest
		u, err := parseURL(raw)
		if err != nil {
			if strings.Contains(err.Error(), password) {
				t.Fatalf("error %q shows the password", err)
			}
			return
		}
		bare, err := parseURL("https://" + rest)
		if err != nil {
			t.Fatalf("%q parses with userinfo, not without: %v", raw, err)
		}
		if name := httpName(u); name != httpName(bare) {
			t.Fatalf("name %q, want %q: the name of the URL without its userinfo", name, httpName(bare))
		}
	})
}

// FuzzParseRetryAfter checks that any Retry-After gives a wait between 0
// and an hour.
func FuzzParseRetryAfter(f *testing.F) {
	f.Add("120")
	f.Add("Sun, 01 Mar 2026 12:00:30 GMT")
	f.Add("-1")
	f.Add("99999999999999999999")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := parseRetryAfter(v, now); d < 0 || d > maxRetryAfter {
			t.Fatalf("parseRetryAfter(%q) = %v", v, d)
		}
	})
}
