package validate

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cairn-gitops/cairn/internal/diag"
	"github.com/cairn-gitops/cairn/internal/manifest"
)

var update = flag.Bool("update", false,
	"rewrite examples/invalid/*/expected.txt from the validator's findings; review every changed line by hand")

// fixedNow is the clock of every example: the expiry dates written in
// examples/ are in the past or the future of this instant.
var fixedNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// examplesDir is examples/ from this package's directory.
const examplesDir = "../../examples"

func newValidator(t testing.TB, opts Options) *Validator {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	v, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// formatFindings renders findings as expected.txt holds them, one a line:
// SEVERITY RULE FILE:LINE:COL POINTER, with "-" for the empty pointer.
func formatFindings(fs []diag.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		ptr := f.Pointer
		if ptr == "" {
			ptr = "-"
		}
		fmt.Fprintf(&b, "%s %s %s:%d:%d %s\n", f.Severity, f.Rule, f.File, f.Line, f.Column, ptr)
	}
	return b.String()
}

// exampleDirs lists the directories under examples/<group>, sorted.
func exampleDirs(t *testing.T, group string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(examplesDir, group))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) == 0 {
		t.Fatalf("no examples under examples/%s", group)
	}
	return dirs
}

// TestInvalidExamples validates each examples/invalid/NAME and compares the
// findings with NAME/expected.txt, which was checked by hand against the
// files: every line names the offending key or value and the rule that
// README.md describes.
func TestInvalidExamples(t *testing.T) {
	v := newValidator(t, Options{})
	for _, name := range exampleDirs(t, "invalid") {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(examplesDir, "invalid", name)
			if readme, err := os.ReadFile(filepath.Join(dir, "README.md")); err != nil || strings.Count(strings.TrimSpace(string(readme)), "\n") != 0 {
				t.Errorf("README.md must say in one line what the defect is (err %v)", err)
			}
			res, err := v.Validate(context.Background(), os.DirFS(dir))
			if err != nil {
				t.Fatal(err)
			}
			got := formatFindings(res.Findings)
			expectedFile := filepath.Join(dir, "expected.txt")
			if *update {
				if err := os.WriteFile(expectedFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(expectedFile)
			if err != nil {
				t.Fatalf("%v (run with -update to write it, then review it line by line)", err)
			}
			want := string(b)
			if len(res.Findings) == 0 {
				t.Errorf("no findings: an invalid example must produce at least one")
			}
			if wantErrors := strings.HasPrefix(want, "error ") || strings.Contains(want, "\nerror "); res.Valid() == wantErrors {
				t.Errorf("Valid() = %v, but expected.txt lists error findings: %v", res.Valid(), wantErrors)
			}
			if got != want {
				t.Errorf("findings differ from %s (-want +got):\n%s", expectedFile, lineDiff(want, got))
			}
		})
	}
}

// TestInvalidExampleMessages checks what expected.txt does not hold: the
// words of findings that must name a date, a name or another place, and
// that no message quotes the literal credential of an example.
func TestInvalidExampleMessages(t *testing.T) {
	tests := []struct {
		example  string
		rule     string
		contains string // a substring of the message of the finding with this rule
		secret   string // a value no message of the example may contain
	}{
		{example: "policy-exception-expired", rule: diag.RuleOpenAcceptor, contains: "(its exception expired on 2026-06-30)"},
		{example: "policy-exception-expired", rule: diag.RuleExpired, contains: "uat/client-bluefin-acceptor expired on 2026-06-30"},
		{example: "security-expired-api-key", rule: diag.RuleExpired, contains: `API key "compliance-export" expired on 2026-09-30`},
		{example: "security-inline-client-secret", rule: diag.RuleLiteralCredential, contains: "a field named clientSecret",
			secret: "Zx8vQ2mN7pL4rT9wK3sB6yH1cF5gJ0dA"},
		{example: "api-key-literal", rule: diag.RuleLiteralCredential, contains: "a cairn API key", secret: "cairn_Q7vX2mK9pR4tW8zB3nL6yH1sD5fG0jC2"},
		{example: "literal-credential-env", rule: diag.RuleLiteralCredential, contains: "a variable named FIX_PASSWORD", secret: "hunter2-but-longer"},
		{example: "literal-credential-url", rule: diag.RuleLiteralCredential, contains: "a password inside a URL", secret: "Sup3rS3cret"},
		{example: "security-unknown-role", rule: diag.RuleUnknownRole, contains: `role "release-manger" is neither built in`},
		{example: "security-duplicate-key-id", rule: diag.RuleDuplicateName, contains: `API key id "k_f2a2daa4" is already used by entry 0`},
		{example: "policy-window-unknown-environment", rule: diag.RuleUnknownReference, contains: `environment "production" is not declared`},
		{example: "jsonnet-list-mixed", rule: diag.RuleNotADocument, contains: "element 1 is a string"},
		{example: "duplicate-adapter", rule: diag.RuleDuplicateAdapter, contains: "at adapters/prod/lse-copy.json:5"},
		{example: "port-conflict", rule: diag.RulePortConflict, contains: `by adapter "client-acceptor" at adapters/prod/client-acceptor.json:17`},
		{example: "invalid-cidr", rule: diag.RuleInvalidCIDR, contains: "did you mean 198.51.100.0/24?"},
		{example: "open-acceptor-any-v6", rule: diag.RuleOpenAcceptor, contains: "admits any source (::/0)"},
	}
	v := newValidator(t, Options{})
	for _, tt := range tests {
		t.Run(tt.example+"/"+tt.rule, func(t *testing.T) {
			res, err := v.Validate(context.Background(), os.DirFS(filepath.Join(examplesDir, "invalid", tt.example)))
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range res.Findings {
				if f.Rule == tt.rule && strings.Contains(f.Message, tt.contains) {
					found = true
				}
				if tt.secret != "" && strings.Contains(f.Message+f.Pointer+f.Document, tt.secret) {
					t.Errorf("a %s finding quotes the secret: %+v", f.Rule, f)
				}
			}
			if !found {
				t.Errorf("no %s finding saying %q in:\n%+v", tt.rule, tt.contains, res.Findings)
			}
		})
	}
}

// lineDiff is a line diff of want and got: "- " lines only in want, "+ "
// lines only in got.
func lineDiff(want, got string) string {
	lines := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	}
	a, b := lines(want), lines(got)
	// lcs[i][j] is the length of the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out.WriteString("  " + a[i] + "\n")
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			out.WriteString("+ " + b[j] + "\n")
			j++
		default:
			out.WriteString("- " + a[i] + "\n")
			i++
		}
	}
	return out.String()
}

func TestLineDiff(t *testing.T) {
	tests := []struct {
		name      string
		want, got string
		diff      string
	}{
		{name: "equal", want: "a\nb\n", got: "a\nb\n", diff: "  a\n  b\n"},
		{name: "changed line", want: "a\nb\nc\n", got: "a\nx\nc\n", diff: "  a\n+ x\n- b\n  c\n"},
		{name: "missing and extra", want: "a\nb\n", got: "b\nc\n", diff: "- a\n  b\n+ c\n"},
		{name: "empty want", want: "", got: "a\n", diff: "+ a\n"},
	}
	for _, tt := range tests {
		if d := lineDiff(tt.want, tt.got); d != tt.diff {
			t.Errorf("%s: lineDiff = %q, want %q", tt.name, d, tt.diff)
		}
	}
}

// TestValidExamples validates the example repositories that must be clean,
// and checks that the Result holds their decoded documents.
func TestValidExamples(t *testing.T) {
	tests := []struct {
		dir        string // under examples/
		repository string // metadata.name in cairn.json
		// adapters counts the Adapter documents: one per JSON file under
		// adapters/ plus what each .jsonnet file yields (listed in jsonnet).
		adapters         int
		jsonnet          map[string]int
		security, policy bool // security.json and policy.json are present
	}{
		{
			dir: "config-repo", repository: "acme-connectivity",
			// 7 files under adapters/prod, 3 under adapters/uat, and
			// mtf-sessions.jsonnet: 3 venues in 2 environments.
			adapters: 7 + 3 + 6, jsonnet: map[string]int{"adapters/mtf-sessions.jsonnet": 6},
			security: true, policy: true,
		},
		{
			dir: "valid/open-acceptor-exception", repository: "acme-connectivity",
			adapters: 1, security: true, policy: true,
		},
	}
	listed := map[string]bool{}
	for _, tt := range tests {
		listed[tt.dir] = true
	}
	for _, name := range exampleDirs(t, "valid") {
		if !listed["valid/"+name] {
			t.Errorf("examples/valid/%s is not in the table of TestValidExamples", name)
		}
	}
	v := newValidator(t, Options{})
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			t.Parallel()
			res, err := v.Validate(context.Background(), os.DirFS(filepath.Join(examplesDir, tt.dir)))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Findings) != 0 || !res.Valid() {
				t.Fatalf("want no findings, got:\n%s", formatFindings(res.Findings))
			}
			if res.Repository == nil || res.Repository.Metadata.Name != tt.repository || res.RepositoryDoc.File != manifest.RepositoryFile {
				t.Errorf("Repository = %+v, want %q decoded from cairn.json", res.Repository, tt.repository)
			}
			if (res.Security != nil) != tt.security || (tt.security && res.SecurityDoc.File != manifest.SecurityFile) {
				t.Errorf("Security decoded: %v, want %v", res.Security != nil, tt.security)
			}
			if (res.Policy != nil) != tt.policy || (tt.policy && res.PolicyDoc.File != manifest.PolicyFile) {
				t.Errorf("Policy decoded: %v, want %v", res.Policy != nil, tt.policy)
			}
			if len(res.Adapters) != tt.adapters {
				t.Errorf("%d adapters decoded, want %d", len(res.Adapters), tt.adapters)
			}
			fromJsonnet := map[string]int{}
			for _, a := range res.Adapters {
				if !strings.HasPrefix(a.Doc.File, "adapters/") || a.Metadata.Name == "" || a.Doc.Name != a.Metadata.Name {
					t.Errorf("adapter %q from %s: want a named document under adapters/", a.Metadata.Name, a.Doc.File)
				}
				if strings.HasSuffix(a.Doc.File, ".jsonnet") {
					fromJsonnet[a.Doc.File]++
				}
			}
			if tt.jsonnet == nil {
				tt.jsonnet = map[string]int{}
			}
			if fmt.Sprint(fromJsonnet) != fmt.Sprint(tt.jsonnet) {
				t.Errorf("adapters per Jsonnet file = %v, want %v", fromJsonnet, tt.jsonnet)
			}
			docs := 1 + tt.adapters
			if tt.security {
				docs++
			}
			if tt.policy {
				docs++
			}
			if res.Documents != docs {
				t.Errorf("Documents = %d, want %d", res.Documents, docs)
			}
		})
	}
}

// TestReportsEveryFileInOneRun puts the defects of several invalid examples
// into one repository: one run reports all of them.
func TestReportsEveryFileInOneRun(t *testing.T) {
	// Each case contributes its files, which have distinct paths.
	cases := map[string][]string{
		"invalid-cidr":               {"adapters/prod/client-acceptor.json"},
		"literal-credential-url":     {"adapters/prod/kafka.json"},
		"schema-type":                {"adapters/prod/lse-fix-primary.json"},
		"policy-window-bad-timezone": {"policy.json"},
		"security-unknown-role":      {"security.json"},
	}
	dir := t.TempDir()
	copyFile(t, filepath.Join(examplesDir, "invalid", "schema-type", "cairn.json"), filepath.Join(dir, "cairn.json"))
	var want []string
	for name, files := range cases {
		for _, f := range files {
			copyFile(t, filepath.Join(examplesDir, "invalid", name, filepath.FromSlash(f)), filepath.Join(dir, filepath.FromSlash(f)))
		}
		b, err := os.ReadFile(filepath.Join(examplesDir, "invalid", name, "expected.txt"))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
	}
	// Each case's findings are in its own files, already in order: sorting
	// by file alone (stably) gives the validator's order.
	slices.SortStableFunc(want, func(a, b string) int {
		fa, fb := strings.Fields(a)[2], strings.Fields(b)[2]
		return strings.Compare(fa[:strings.Index(fa, ":")], fb[:strings.Index(fb, ":")])
	})
	res, err := newValidator(t, Options{}).Validate(context.Background(), os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if got := formatFindings(res.Findings); got != strings.Join(want, "\n")+"\n" {
		t.Errorf("findings (-want +got):\n%s", lineDiff(strings.Join(want, "\n")+"\n", got))
	}
	if len(res.Findings) < len(cases) || res.Valid() {
		t.Errorf("want at least %d findings and an invalid result, got %d (valid %v)", len(cases), len(res.Findings), res.Valid())
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Test values for the credential scanner. They are fakes of the right shape.
const (
	fakePEM       = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2\n-----END RSA PRIVATE KEY-----"
	fakeOpenSSH   = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----"
	fakeAWS       = "AKIAIOSFODNN7EXAMPLE"
	fakeGHP       = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
	fakeGHPat     = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
	fakeSlack     = "xoxb-2401234567-5012345678901-AbCdEfGhIjKlMnOpQrStUvWx"
	fakeJWT       = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjaS12YWxpZGF0ZSIsImF1ZCI6ImNhaXJuIn0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
	fakeCairnKey  = "cairn_Q7vX2mK9pR4tW8zB3nL6yH1sD5fG0jC2"
	fakeURL       = "https://svc-deploy:Sup3rS3cret@registry.example.net/connectivity"
	fakeRandom    = "Zx8vQ2mN7pL4rT9wK3sB6yH1cF5gJ0dA"
	fakeStripe    = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
	fakeGoogleKey = "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
)

// TestCredentialKind checks what the scanner says of single values, and
// that what it says never contains the value.
func TestCredentialKind(t *testing.T) {
	tests := []struct {
		name    string
		key     string // the field holding the value
		sibling string // the "name" of the object holding the value
		value   string
		want    string // a substring of the verdict; "" when the value must pass
	}{
		// True positives: shapes of well-known secrets, wherever they are.
		{name: "PEM RSA private key", key: "notes", value: fakePEM, want: "a private key"},
		{name: "OpenSSH private key", key: "description", value: fakeOpenSSH, want: "a private key"},
		{name: "AWS access key id", key: "description", value: fakeAWS, want: "an AWS access key"},
		{name: "AWS key inside prose", key: "description", value: "uploads with " + fakeAWS + " to the archive", want: "an AWS access key"},
		{name: "GitHub classic token", key: "description", value: fakeGHP, want: "a GitHub token"},
		{name: "GitHub fine-grained token", key: "upstream", value: fakeGHPat, want: "a GitHub token"},
		{name: "Slack bot token", key: "notify", value: fakeSlack, want: "a Slack token"},
		{name: "JSON Web Token", key: "description", value: fakeJWT, want: "a JSON Web Token"},
		{name: "bearer JWT in a curl line", key: "runbook", value: "curl -H 'Authorization: Bearer " + fakeJWT + "'", want: "a JSON Web Token"},
		{name: "cairn API key", key: "description", value: fakeCairnKey, want: "a cairn API key"},
		{name: "password in a URL", key: "upstream", value: fakeURL, want: "a password inside a URL"},
		{name: "password in a database URL", key: "value", sibling: "AUDIT_DSN", value: "postgres://cairn:hunter2@db.acme.example:5432/audit", want: "a password inside a URL"},
		{name: "Stripe live key", key: "description", value: fakeStripe, want: "a Stripe-style live key"},
		{name: "Google API key", key: "description", value: fakeGoogleKey, want: "a Google API key"},
		// True positives: a literal where the field's name says secret.
		{name: "field named password", key: "password", value: "hunter2", want: "a field named password"},
		{name: "field named clientSecret", key: "clientSecret", value: "portal-oidc-secret", want: "a field named clientSecret"},
		{name: "field named apiKey", key: "apiKey", value: "abc123", want: "a field named apiKey"},
		{name: "field named token", key: "token", value: "t0ken", want: "a field named token"},
		{name: "field named private_key", key: "private_key", value: "MIIEpAIBAAKCAQEA", want: "a field named private_key"},
		{name: "env var DB_PASSWORD", key: "value", sibling: "DB_PASSWORD", value: "correct-horse-battery", want: "a variable named DB_PASSWORD"},
		{name: "env var FIX_PASSWORD", key: "value", sibling: "FIX_PASSWORD", value: "hunter2-but-longer", want: "a variable named FIX_PASSWORD"},
		{name: "env var SASL_SECRET", key: "value", sibling: "sasl-secret", value: "s3cr3t", want: "a variable named sasl-secret"},
		// True positives: a generated key, by its shape alone.
		{name: "random 32-char base62", key: "description", value: fakeRandom, want: "a random key"},
		{name: "random base64url with separators", key: "note", value: "x-" + fakeRandom + "-y", want: "a random key"},

		// True negatives: names, digests, addresses and paths of a real repository.
		{name: "Secret name", key: "name", value: "lse-fix-credentials-0042"},
		{name: "Secret name of a truststore", key: "name", value: "kafka-orders-bridge-sasl"},
		{name: "sha256 hash of an API key", key: "hash", value: "sha256:f24cac32f3a62f73ef05084751f9810f42ba4744264a1f5bb6f0ea8285c80672"},
		{name: "64-hex digest", key: "digest", value: "6788875a78e8451eb24ba36a0efaad444beef47e8dd79c6af95c52112a5c20c1"},
		{name: "API key id", key: "id", value: "k_f2a2daa4"},
		{name: "hostname", key: "host", value: "fix.lse.example.net"},
		{name: "bootstrap server", key: "bootstrapServers", value: "kafka-1.events.acme.example:9093"},
		{name: "IPv6 range", key: "allowedSources", value: "2001:db8:100::/48"},
		{name: "SenderCompID", key: "senderCompID", value: "ACMEUAT"},
		{name: "TargetCompID", key: "targetCompID", value: "CBOEEU"},
		{name: "kafka topic", key: "inbound", value: "orders.commands"},
		{name: "kafka consumer group", key: "consumerGroup", value: "connectivity-orders-bridge"},
		{name: "password as a key name in secretRef.keys", key: "keys", value: "password"},
		{name: "client-secret as a Secret key", key: "key", value: "client-secret"},
		{name: "file path", key: "path", value: "/var/log/cairn/audit.log"},
		{name: "cron-like schedule", key: "schedule", value: "0 6 * * 1-5"},
		{name: "label value", key: "team", value: "venue-connectivity"},
		{name: "label value with capitals", key: "asset-class", value: "Equities-EU-2026"},
		{name: "env var naming a password file", key: "value", sibling: "FIX_PASSWORD_FILE", value: "/etc/secret/password"},
		{name: "env var without a secret name", key: "value", sibling: "LOG_LEVEL", value: "info"},
		{name: "UUID", key: "tenantId", value: "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
		{name: "upper-case UUID", key: "clientId", value: "3F2504E0-4F89-11D3-9A0C-0305E82C3301"},
		{name: "URL without a password", key: "jwksUri", value: "https://sso.acme.example/oauth2/v1/keys"},
		{name: "SSH URL with a user only", key: "upstream", value: "ssh://git@github.com/acme/connectivity-config.git"},
		{name: "email", key: "name", value: "alice@acme.example"},
		{name: "time zone", key: "timezone", value: "America/New_York"},
		{name: "masked header path", key: "fields", value: "request.headers.authorization"},
		{name: "duration", key: "clockSkew", value: "30s"},
		{name: "prose", key: "description", value: "Quarterly export of the audit trail to the compliance archive."},
		{name: "empty password field", key: "password", value: ""},
		{name: "camel-case consumer group with a year", key: "consumerGroup", value: "ConnectivityOrdersBridge2024"},
		{name: "camel-case label value", key: "platform", value: "AcmeConnectivityPlatformV2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := credentialKind(tt.key, tt.sibling, tt.value)
			switch {
			case tt.want == "" && got != "":
				t.Errorf("credentialKind(%q, %q, %q) = %q, want no credential", tt.key, tt.sibling, tt.value, got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("credentialKind(%q, %q, %q) = %q, want %q", tt.key, tt.sibling, tt.value, got, tt.want)
			}
			if tt.want != "" && strings.Contains(got, tt.value) {
				t.Errorf("the verdict %q quotes the value", got)
			}
		})
	}
}

// TestScanCredentials checks where the scanner finds credentials in whole
// documents: in values, in keys, and never in key names that merely say
// what a Secret holds.
func TestScanCredentials(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // pointers of the hits, sorted
	}{
		{
			name: "references only",
			doc: `{"spec": {
				"credentials": {"secretRef": {"name": "lse-fix-credentials", "keys": ["username", "password"]}},
				"env": [{"name": "FIX_PASSWORD_FILE", "value": "/etc/secret/password"},
				        {"name": "KAFKA_TRUSTSTORE_PASSWORD", "secretKeyRef": {"name": "kafka-truststore", "key": "password"}}],
				"kafka": {"topics": {"inbound": "orders.commands"}}}}`,
		},
		{
			name: "literal env var",
			doc:  `{"spec": {"env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "DB_PASSWORD", "value": "correct-horse-battery"}]}}`,
			want: []string{"/spec/env/1/value"},
		},
		{
			name: "field named like a secret, nested",
			doc:  `{"spec": {"sso": {"oidc": {"clientId": "cairn-portal", "clientSecret": "portal-oidc-secret"}}}}`,
			want: []string{"/spec/sso/oidc/clientSecret"},
		},
		{
			name: "token in an array",
			doc:  `{"spec": {"audience": ["cairn", "` + fakeJWT + `"]}}`,
			want: []string{"/spec/audience/1"},
		},
		{
			name: "token used as a key",
			doc:  `{"metadata": {"annotations": {"` + fakeGHP + `": "deploy token"}}}`,
			want: []string{"/metadata/annotations"}, // at the object: the key itself is the secret
		},
		{
			name: "several hits",
			doc:  `{"metadata": {"annotations": {"a": "` + fakeAWS + `", "b": "` + fakeURL + `"}}, "spec": {"description": "` + fakeCairnKey + `"}}`,
			want: []string{"/metadata/annotations/a", "/metadata/annotations/b", "/spec/description"},
		},
		{
			name: "pointer tokens escaped",
			doc:  `{"metadata": {"annotations": {"acme.example/deploy~token": "` + fakeSlack + `"}}}`,
			want: []string{"/metadata/annotations/acme.example~1deploy~0token"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc any
			if err := jsonUnmarshal(tt.doc, &doc); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range scanCredentials(doc) {
				got = append(got, h.pointer)
				if h.what == "" {
					t.Errorf("hit at %s says nothing of what it is", h.pointer)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("hits at %q, want %q", got, tt.want)
			}
		})
	}
}

// goodAdapter is a valid adapter with the strings of an adapterFields
// placed into it.
const goodAdapter = `{
  "apiVersion": "cairn.dev/v1alpha1",
  "kind": "Adapter",
  "metadata": {"name": %s, "environment": "prod", "annotations": {"notes": %s, %s: "deploy"}},
  "spec": {
    "protocol": "fix", "role": "initiator", "description": %s,
    "fix": {"version": "FIX.4.4", "senderCompID": "ACME", "targetCompID": "LSE"},
    "connect": {"host": %s, "port": 9876, "tls": true},
    "env": [{"name": "DB_PASSWORD", "value": %s}],
    "credentials": {"secretRef": {"name": "lse-fix-credentials", "keys": ["username", "password"]}}
  }
}`

// adapterFields are the strings an operator might paste a secret into.
type adapterFields struct {
	name, notes, annotationKey, description, host, envValue string
}

func (a adapterFields) json() string {
	or := func(s, def string) string {
		if s == "" {
			s = def
		}
		return jsonString(s)
	}
	return fmt.Sprintf(goodAdapter, or(a.name, "lse-fix-primary"), or(a.notes, "primary session"),
		or(a.annotationKey, "acme.example/runbook"), or(a.description, "Order entry to LSE."),
		or(a.host, "fix.lse.example.net"), or(a.envValue, "/etc/secret/password"))
}

const smallRepository = `{"apiVersion": "cairn.dev/v1alpha1", "kind": "Repository", "metadata": {"name": "r"},
  "spec": {"environments": {"prod": {"namespace": "connectivity-prod"}}}}`

// TestCredentialFindingsWithholdValue plants each fake secret in places an
// operator might paste it, including ones the schema also refuses (a host,
// a name), and checks that a literal-credential finding names the place and
// that no finding carries the secret, in its message, pointer or document.
func TestCredentialFindingsWithholdValue(t *testing.T) {
	secrets := []string{fakePEM, fakeOpenSSH, fakeAWS, fakeGHP, fakeGHPat, fakeSlack, fakeJWT, fakeCairnKey, fakeURL, fakeRandom, fakeStripe, fakeGoogleKey}
	placements := []struct {
		name    string
		pointer string // the literal-credential finding's pointer starts with this
		place   func(secret string) adapterFields
	}{
		{name: "annotation", pointer: "/metadata/annotations/notes", place: func(s string) adapterFields { return adapterFields{notes: s} }},
		{name: "description", pointer: "/spec/description", place: func(s string) adapterFields { return adapterFields{description: s} }},
		{name: "host", pointer: "/spec/connect/host", place: func(s string) adapterFields { return adapterFields{host: s} }},
		{name: "env value", pointer: "/spec/env/0/value", place: func(s string) adapterFields { return adapterFields{envValue: s} }},
		{name: "annotation key", pointer: "/metadata/annotations", place: func(s string) adapterFields { return adapterFields{annotationKey: s} }},
		{name: "metadata name", pointer: "/metadata/name", place: func(s string) adapterFields { return adapterFields{name: s} }},
	}
	v := newValidator(t, Options{})
	for _, p := range placements {
		t.Run(p.name, func(t *testing.T) {
			var leaks []string
			for _, secret := range secrets {
				fsys := fstest.MapFS{
					"cairn.json":           {Data: []byte(smallRepository)},
					"adapters/prod/x.json": {Data: []byte(p.place(secret).json())},
				}
				res, err := v.Validate(context.Background(), fsys)
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, f := range res.Findings {
					if f.Rule == diag.RuleLiteralCredential && strings.HasPrefix(f.Pointer, p.pointer) {
						found = true
					}
					if strings.Contains(f.Message, firstLine(secret)) {
						t.Errorf("%s: the message of a %s finding quotes the secret: %q", secretName(secret), f.Rule, f.Message)
					}
					if strings.Contains(f.Pointer, firstLine(secret)) || strings.Contains(f.Document, firstLine(secret)) {
						leaks = append(leaks, fmt.Sprintf("%s: %s finding, pointer %q, document %q", secretName(secret), f.Rule, f.Pointer, f.Document))
					}
				}
				if !found {
					t.Errorf("%s: no literal-credential finding at %s; got:\n%s", secretName(secret), p.pointer, formatFindings(res.Findings))
				}
			}
			if len(leaks) > 0 {
				t.Errorf("findings carry the secret:\n%s", strings.Join(leaks, "\n"))
			}
		})
	}
}

func jsonUnmarshal(s string, v any) error {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	return d.Decode(v)
}

func jsonString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func secretName(s string) string { return s[:min(len(s), 12)] + "..." }

// fuzzRepository is the cairn.json of the fuzz targets.
const fuzzRepository = `{"apiVersion": "cairn.dev/v1alpha1", "kind": "Repository", "metadata": {"name": "fuzz"},
  "spec": {"environments": {"prod": {"namespace": "connectivity-prod"}, "uat": {"namespace": "connectivity-uat"}}}}`

// fuzzLimits keep one fuzz input cheap; the checks below hold for any limits.
var fuzzLimits = manifest.Options{MaxFileBytes: 1 << 20, MaxDepth: 64, JsonnetMaxStack: 200, JsonnetTimeout: 3 * time.Second}

// checkFuzzFindings validates a repository made of fuzzRepository and one
// adapter file, and checks the invariants every finding keeps.
func checkFuzzFindings(t *testing.T, v *Validator, file string, data []byte) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cairn.json"), []byte(fuzzRepository), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "adapters"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(file)), data, 0o644); err != nil {
		t.Fatal(err)
	}
	// The whole run is bounded: one Jsonnet evaluation at most, plus slack
	// for starting the sandbox on a loaded machine.
	limit := fuzzLimits.JsonnetTimeout + 10*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*limit)
	defer cancel()
	start := time.Now()
	res, err := v.Validate(ctx, os.DirFS(dir))
	if took := time.Since(start); took > limit {
		t.Errorf("validation took %s, over the limit of %s", took, limit)
	}
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for _, f := range res.Findings {
		r, ok := diag.Lookup(f.Rule)
		switch {
		case f.File == "" || !fs.ValidPath(f.File):
			t.Errorf("finding without a repository file: %+v", f)
		case !ok:
			t.Errorf("finding with an unknown rule: %+v", f)
		case f.Severity != r.Severity:
			t.Errorf("finding with severity %s, rule %s says %s: %+v", f.Severity, f.Rule, r.Severity, f)
		case f.Line < 0 || f.Column < 0 || (f.Line > 0) != (f.Column > 0):
			t.Errorf("finding with line %d and column %d: %+v", f.Line, f.Column, f)
		case f.Message == "":
			t.Errorf("finding without a message: %+v", f)
		}
	}
	sorted := slices.Clone(res.Findings)
	diag.Sort(sorted)
	if !slices.Equal(sorted, res.Findings) {
		t.Errorf("findings are not sorted:\n%s", formatFindings(res.Findings))
	}
}

// fuzzSeeds are adapter documents, valid and not.
func fuzzSeeds(t testing.TB, ext string) [][]byte {
	var seeds [][]byte
	err := filepath.WalkDir(examplesDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Type().IsRegular() && path.Ext(p) == ext && strings.Contains(filepath.ToSlash(p), "/adapters/") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			seeds = append(seeds, b)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return seeds
}

func FuzzValidateRepository(f *testing.F) {
	for _, s := range fuzzSeeds(f, ".json") {
		f.Add(s)
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `"x"`, `{"apiVersion": 1}`,
		`{"apiVersion": "cairn.dev/v1alpha1", "kind": "Adapter", "metadata": {"name": "a", "environment": "prod"}, "spec": {}}`,
		`{"apiVersion": "cairn.dev/v1alpha1", "kind": "Adapter", "metadata": {"name": "a", "environment": "prod"}, "spec": {"protocol": "fix", "role": "acceptor", "fix": {"version": "FIX.4.2", "senderCompID": "A", "targetCompID": "B"}, "listen": {"port": 1, "allowedSources": ["0.0.0.0/0", "10.0.0.1/8", "::/0", "1.2.3.4/33"]}}}`,
		`{"a": {"a": {"a": {"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}}}`,
		"{\"a\": \"\xff\"}", "\xef\xbb\xbf{}", `{"a": 1, "a": 2}`, `{"a": "\ud800"}`, `{"a": 1e999}`,
	} {
		f.Add([]byte(s))
	}
	v := newValidator(f, Options{Manifest: fuzzLimits, Workers: 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFuzzFindings(t, v, "adapters/x.json", data)
	})
}

func FuzzJsonnet(f *testing.F) {
	for _, s := range fuzzSeeds(f, ".jsonnet") {
		f.Add(s)
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `'x'`, `[1, {}, 'a']`, `error 'boom'`, `local f(n) = f(n + 1); f(0)`,
		`import 'cairn.json'`, `importstr '../../etc/passwd'`, `import '/etc/passwd'`,
		`std.parseJson('{"a": 1, "a": 2}')`, `{ a: self.b, b: self.a }`, `std.makeArray(100000, function(i) i)`,
		`{apiVersion: 'cairn.dev/v1alpha1', kind: 'Adapter', metadata: {name: 'a', environment: 'prod'}, spec: {protocol: 'tcp', role: 'initiator', connect: {host: 'h.example.net', port: 1}}}`,
		`[{apiVersion: 'cairn.dev/v1alpha1', kind: 'Adapter', metadata: {name: 'a', environment: 'prod'}, spec: {}}, 'b']`,
	} {
		f.Add([]byte(s))
	}
	v := newValidator(f, Options{Manifest: fuzzLimits, Workers: 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFuzzFindings(t, v, "adapters/x.jsonnet", data)
	})
}
