package schema

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// exampleDir holds the example config repository.
var exampleDir = filepath.Join("..", "examples", "config-repo")

// remove is a patch value that deletes the field instead of setting it.
type remove struct{}

// readExample returns an example file as text.
func readExample(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(exampleDir, file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// patchExample returns the example file decoded, with the value at a
// slash-separated path (object keys and array indices; an index one past the
// end appends) replaced by val, or removed when val is remove{}.
func patchExample(t *testing.T, file, path string, val any) any {
	t.Helper()
	doc := decode(t, readExample(t, file))
	keys := strings.Split(path, "/")
	var parent any = doc
	for _, k := range keys[:len(keys)-1] {
		parent = child(t, parent, k, path)
	}
	last := keys[len(keys)-1]
	switch p := parent.(type) {
	case map[string]any:
		if _, ok := val.(remove); ok {
			delete(p, last)
		} else {
			p[last] = val
		}
	case []any:
		i, err := strconv.Atoi(last)
		if err != nil || i > len(p) {
			t.Fatalf("patch %s: bad index %q", path, last)
		}
		if i == len(p) {
			// Appending needs the new slice stored in its parent.
			grand := doc
			for _, k := range keys[:len(keys)-2] {
				grand = child(t, grand, k, path)
			}
			setChild(t, grand, keys[len(keys)-2], append(p, val))
		} else {
			p[i] = val
		}
	default:
		t.Fatalf("patch %s: parent is %T", path, parent)
	}
	return doc
}

func child(t *testing.T, v any, key, path string) any {
	t.Helper()
	switch c := v.(type) {
	case map[string]any:
		next, ok := c[key]
		if !ok {
			next = map[string]any{}
			c[key] = next
		}
		return next
	case []any:
		i, err := strconv.Atoi(key)
		if err != nil || i >= len(c) {
			t.Fatalf("patch %s: bad index %q", path, key)
		}
		return c[i]
	}
	t.Fatalf("patch %s: cannot descend into %T at %q", path, v, key)
	return nil
}

func setChild(t *testing.T, v any, key string, val any) {
	t.Helper()
	switch c := v.(type) {
	case map[string]any:
		c[key] = val
	case []any:
		i, _ := strconv.Atoi(key)
		c[i] = val
	default:
		t.Fatalf("cannot set %q in %T", key, v)
	}
}

// obj decodes a JSON object literal for a patch value.
func obj(t *testing.T, s string) any { t.Helper(); return decode(t, s) }

func num(n int) json.Number { return json.Number(strconv.Itoa(n)) }

// violationCase is one document and the one violation it must produce.
type violationCase struct {
	name    string
	doc     any    // the decoded document
	pointer string // the pointer of the one expected violation; "" for valid
	message string // a substring of its message
}

func runViolationCases(t *testing.T, kind string, tests []violationCase) {
	t.Helper()
	set, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := set.Validate(kind, tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			if tt.pointer == "" {
				if len(got) != 0 {
					t.Fatalf("want valid, got %+v", got)
				}
				return
			}
			if len(got) != 1 || got[0].Pointer != tt.pointer || !strings.Contains(got[0].Message, tt.message) {
				t.Fatalf("want one violation at %s containing %q, got %+v", tt.pointer, tt.message, got)
			}
		})
	}
}

func TestValidateSecurityConfig(t *testing.T) {
	const f = "security.json"
	p := func(path string, val any) any { return patchExample(t, f, path, val) }
	const (
		oidc     = "spec/sso/oidc"
		key0     = "spec/authentication/apiKeys/keys/0"
		jwt      = "spec/authentication/jwt"
		dest     = "spec/audit/destinations"
		binding0 = "spec/rbac/bindings/0"
	)
	runViolationCases(t, "SecurityConfig", []violationCase{
		{name: "example", doc: decode(t, readExample(t, f))},
		{name: "minimal", doc: obj(t, `{"apiVersion": "cairn.dev/v1alpha1", "kind": "SecurityConfig", "metadata": {"name": "s"}, "spec": {}}`)},
		{name: "disabled blocks need nothing else", doc: p("spec", obj(t, `{
			"mtls": {"enabled": false}, "sso": {"enabled": false},
			"authentication": {"jwt": {"enabled": false}},
			"network": {"ipAllowlist": {"enabled": false}}}`))},
		{name: "okta provider with its block", doc: p("spec/sso", obj(t, `{"provider": "okta",
			"okta": {"domain": "acme.okta.com", "clientId": "0oa1b2c3d4e5f6g7h8i9", "clientSecretRef": {"name": "okta", "key": "client-secret"}, "authorizationServerId": "default"}}`))},
		{name: "azure provider with its block", doc: p("spec/sso", obj(t, `{"provider": "azure",
			"azure": {"tenantId": "acme.onmicrosoft.com", "clientId": "6f1c2a9e-4b7d-4e0a-9c3f-2d8b5e7a1c04", "clientSecretRef": {"name": "azure", "key": "client-secret"}}}`))},
		{name: "loopback http issuer", doc: p(jwt+"/issuer", "http://127.0.0.1:5556/dex")},
		{name: "http audit destination", doc: p(dest+"/2", obj(t, `{"type": "http",
			"http": {"url": "https://siem.acme.example/ingest", "headersSecretRef": {"name": "siem", "keys": ["Authorization"]}, "timeout": "5s"}}`))},

		{name: "inline client secret", doc: p(oidc+"/clientSecret", "s3cr3t"),
			pointer: "/spec/sso/oidc/clientSecret", message: `unknown field "clientSecret"`},
		{name: "client secret ref missing", doc: p(oidc+"/clientSecretRef", remove{}),
			pointer: "/spec/sso/oidc/clientSecretRef", message: `missing required field "clientSecretRef"`},
		{name: "jwt algorithm none", doc: p(jwt+"/algorithms/1", "none"),
			pointer: "/spec/authentication/jwt/algorithms/1", message: "value must be one of"},
		{name: "jwt algorithm HS256", doc: p(jwt+"/algorithms", []any{"HS256"}),
			pointer: "/spec/authentication/jwt/algorithms/0", message: "value must be one of"},
		{name: "jwt without audience", doc: p(jwt+"/audience", remove{}),
			pointer: "/spec/authentication/jwt/audience", message: `missing required field "audience" unless enabled is false`},
		{name: "jwt issuer over plain http", doc: p(jwt+"/issuer", "http://sso.acme.example"),
			pointer: "/spec/authentication/jwt/issuer", message: "must be an https URL"},
		{name: "api key hash not sha256", doc: p(key0+"/hash", "md5:0cc175b9c0f1b6a831c399e269772661"),
			pointer: "/spec/authentication/apiKeys/keys/0/hash", message: "must be a SHA-256 digest of the key"},
		{name: "api key stored in clear", doc: p(key0+"/key", "cairn_notarealkeybutlooksliketheone"),
			pointer: "/spec/authentication/apiKeys/keys/0/key", message: `unknown field "key"`},
		{name: "api key unknown scope", doc: p(key0+"/scopes/0", "adapters:write"),
			pointer: "/spec/authentication/apiKeys/keys/0/scopes/0", message: "value must be one of"},
		{name: "api key bad id", doc: p(key0+"/id", "ci-key"),
			pointer: "/spec/authentication/apiKeys/keys/0/id", message: "must be a key id such as k_3f9a1c2b (k_ and 8 to 32"},
		{name: "api key bad expiry", doc: p(key0+"/expires", "next year"),
			pointer: "/spec/authentication/apiKeys/keys/0/expires", message: "date-time"},
		{name: "mtls clientAuth optional", doc: p("spec/mtls/clientAuth", "optional"),
			pointer: "/spec/mtls/clientAuth", message: "value must be one of"},
		{name: "mtls without client CA", doc: p("spec/mtls/clientCASecretRef", remove{}),
			pointer: "/spec/mtls/clientCASecretRef", message: `missing required field "clientCASecretRef" unless clientAuth is "none"`},
		{name: "sso okta without okta block", doc: p("spec/sso", obj(t, `{"enabled": true, "provider": "okta"}`)),
			pointer: "/spec/sso/okta", message: `missing required field "okta" when provider is "okta"`},
		{name: "sso oidc block beside google", doc: p("spec/sso/google", obj(t, `{"clientId": "x.apps.googleusercontent.com", "clientSecretRef": {"name": "g", "key": "k"}}`)),
			pointer: "/spec/sso/google", message: `field "google" is not allowed when provider is "oidc"`},
		{name: "custom role named admin", doc: p("spec/rbac/roles/0/name", "admin"),
			pointer: "/spec/rbac/roles/0/name", message: "must be a role name other than the built-in admin, operator, developer and viewer"},
		{name: "permission on unknown resource", doc: p("spec/rbac/roles/0/permissions/0/resource", "patterns"),
			pointer: "/spec/rbac/roles/0/permissions/0/resource", message: "value must be one of"},
		{name: "permission unknown action", doc: p("spec/rbac/roles/0/permissions/0/actions/0", "execute"),
			pointer: "/spec/rbac/roles/0/permissions/0/actions/0", message: "value must be one of"},
		{name: "binding subject robot", doc: p(binding0+"/subject/type", "robot"),
			pointer: "/spec/rbac/bindings/0/subject/type", message: `value must be one of "user", "group", "serviceAccount"`},
		{name: "binding subject name with a space", doc: p(binding0+"/subject/name", "Alice Smith"),
			pointer: "/spec/rbac/bindings/0/subject/name", message: "must be a subject name without spaces"},
		{name: "binding without role", doc: p(binding0+"/role", remove{}),
			pointer: "/spec/rbac/bindings/0/role", message: `missing required field "role"`},
		{name: "binding scope bad environment", doc: p("spec/rbac/bindings/1/scope/environments/0", "UAT"),
			pointer: "/spec/rbac/bindings/1/scope/environments/0", message: "must be a DNS-1123 label"},
		{name: "audit http destination without url", doc: p(dest+"/2", obj(t, `{"type": "http", "http": {"timeout": "5s"}}`)),
			pointer: "/spec/audit/destinations/2/http/url", message: `missing required field "url"`},
		{name: "audit http destination without http block", doc: p(dest+"/2", obj(t, `{"type": "http"}`)),
			pointer: "/spec/audit/destinations/2/http", message: `missing required field "http" when type is "http"`},
		{name: "audit stdout destination with a file", doc: p(dest+"/1/file", obj(t, `{"path": "/tmp/x.log"}`)),
			pointer: "/spec/audit/destinations/1/file", message: `field "file" is not allowed when type is "stdout"`},
		{name: "audit destination elasticsearch", doc: p(dest+"/1/type", "elasticsearch"),
			pointer: "/spec/audit/destinations/1/type", message: "value must be one of"},
		{name: "audit retention in words", doc: p("spec/audit/retention", "7 years"),
			pointer: "/spec/audit/retention", message: "must be a duration such as 30s"},
		{name: "audit file relative path", doc: p(dest+"/0/file/path", "audit.log"),
			pointer: "/spec/audit/destinations/0/file/path", message: "must be an absolute file path"},
		{name: "audit rotation bad size", doc: p(dest+"/0/file/rotation/maxSize", "100 megabytes"),
			pointer: "/spec/audit/destinations/0/file/rotation/maxSize", message: "must be a size such as 512KB"},
		{name: "allowlist bad range", doc: p("spec/network/ipAllowlist/ranges/0", "10.0.0.0"),
			pointer: "/spec/network/ipAllowlist/ranges/0", message: "must be an IPv4 or IPv6 prefix"},
		{name: "allowlist enabled without ranges", doc: p("spec/network/ipAllowlist/ranges", []any{}),
			pointer: "/spec/network/ipAllowlist/ranges", message: "minimum 1 items required"},
		{name: "rate limit zero rate", doc: p("spec/rateLimit/global/requestsPerSecond", num(0)),
			pointer: "/spec/rateLimit/global/requestsPerSecond", message: "must be > 0"},
		{name: "sessions maxConcurrent 0", doc: p("spec/sessions/maxConcurrent", num(0)),
			pointer: "/spec/sessions/maxConcurrent", message: "must be >= 1"},
		{name: "masking unknown method", doc: p("spec/dataProtection/masking/method", "encrypt"),
			pointer: "/spec/dataProtection/masking/method", message: "value must be one of"},
		{name: "masking field with spaces", doc: p("spec/dataProtection/masking/fields/0", "request headers"),
			pointer: "/spec/dataProtection/masking/fields/0", message: "must be a field path"},
		{name: "content type with parameters", doc: p("spec/inputValidation/allowedContentTypes/0", "application/json; charset=utf-8"),
			pointer: "/spec/inputValidation/allowedContentTypes/0", message: "must be a media type"},
		{name: "webhook secret inline", doc: p("spec/webhooks/github/secret", "hunter2hunter2"),
			pointer: "/spec/webhooks/github/secret", message: `unknown field "secret"`},
		{name: "webhook secretRef without key", doc: p("spec/webhooks/github/secretRef/key", remove{}),
			pointer: "/spec/webhooks/github/secretRef/key", message: `missing required field "key"`},
		{name: "agent auth from the seed", doc: p("spec/agentAuth", obj(t, `{"method": "mtls"}`)),
			pointer: "/spec/agentAuth", message: `unknown field "agentAuth"`},
	})
}

func TestValidateChangePolicy(t *testing.T) {
	const f = "policy.json"
	p := func(path string, val any) any { return patchExample(t, f, path, val) }
	const deny0 = "spec/windows/prod/deny/0"
	runViolationCases(t, "ChangePolicy", []violationCase{
		{name: "example", doc: decode(t, readExample(t, f))},
		{name: "minimal", doc: obj(t, `{"apiVersion": "cairn.dev/v1alpha1", "kind": "ChangePolicy", "metadata": {"name": "p"}, "spec": {}}`)},
		{name: "open acceptor exception", doc: p("spec/exceptions", obj(t, `{"openAcceptors": [
			{"environment": "uat", "adapter": "client-northwind-acceptor", "reason": "Counterparty test harness egresses from rotating cloud addresses.", "expires": "2027-01-31T18:00:00Z"}]}`))},
		{name: "overnight allow window", doc: p("spec/windows/uat", obj(t, `{"timezone": "UTC", "allow": [{"start": "22:00", "end": "06:00"}]}`))},

		{name: "approvals -1", doc: p("spec/approvals/required", num(-1)),
			pointer: "/spec/approvals/required", message: "must be >= 0"},
		{name: "approvals 11", doc: p("spec/approvals/required", num(11)),
			pointer: "/spec/approvals/required", message: "must be <= 10"},
		{name: "self approval cannot be allowed", doc: p("spec/approvals/allowSelfApproval", true),
			pointer: "/spec/approvals/allowSelfApproval", message: `unknown field "allowSelfApproval"`},
		{name: "dismissStale as string", doc: p("spec/approvals/dismissStale", "yes"),
			pointer: "/spec/approvals/dismissStale", message: "expected boolean"},
		{name: "window start 25:00", doc: p(deny0+"/start", "25:00"),
			pointer: "/spec/windows/prod/deny/0/start", message: "must be a wall-clock time HH:MM"},
		{name: "window day Monday", doc: p(deny0+"/days/0", "Monday"),
			pointer: "/spec/windows/prod/deny/0/days/0", message: "value must be one of"},
		{name: "window without timezone", doc: p("spec/windows/prod/timezone", remove{}),
			pointer: "/spec/windows/prod/timezone", message: `missing required field "timezone"`},
		{name: "window without periods", doc: p("spec/windows/prod/deny", remove{}),
			pointer: "/spec/windows/prod", message: "must be a change window with allow or deny periods"},
		{name: "window for a bad environment name", doc: p("spec/windows/Prod", obj(t, `{"timezone": "UTC", "deny": [{"start": "00:00", "end": "01:00"}]}`)),
			pointer: "/spec/windows/Prod", message: "must be a DNS-1123 label"},
		{name: "path rule with pattern only", doc: p("spec/paths/0", obj(t, `{"pattern": "security.json"}`)),
			pointer: "/spec/paths/0", message: "must be a path rule that sets approvals, teams or reviewers"},
		{name: "path pattern absolute", doc: p("spec/paths/0/pattern", "/security.json"),
			pointer: "/spec/paths/0/pattern", message: "must be a path glob relative to the repository root"},
		{name: "team without organization", doc: p("spec/paths/0/teams/0", "security"),
			pointer: "/spec/paths/0/teams/0", message: "must be a GitHub team as organization/team-slug"},
		{name: "reviewer not a login", doc: p("spec/paths/4/reviewers/0", "alice@acme.example"),
			pointer: "/spec/paths/4/reviewers/0", message: "must be a GitHub login"},
		{name: "risk critical", doc: p("spec/risk/critical", obj(t, `{"approvals": 3}`)),
			pointer: "/spec/risk/critical", message: `unknown field "critical"`},
		{name: "signer not an email", doc: p("spec/signatures/allowedSigners", []any{"alice"}),
			pointer: "/spec/signatures/allowedSigners/0", message: "email"},
		{name: "maxDeletions -1", doc: p("spec/prune/maxDeletions", num(-1)),
			pointer: "/spec/prune/maxDeletions", message: "must be >= 0"},
		{name: "exception reason too short", doc: p("spec/exceptions", obj(t, `{"openAcceptors": [{"environment": "prod", "adapter": "client-bluefin-acceptor", "reason": "needed"}]}`)),
			pointer: "/spec/exceptions/openAcceptors/0/reason", message: "length must be >= 10"},
		{name: "exception without adapter", doc: p("spec/exceptions", obj(t, `{"openAcceptors": [{"environment": "prod", "reason": "Counterparty has no fixed ranges."}]}`)),
			pointer: "/spec/exceptions/openAcceptors/0/adapter", message: `missing required field "adapter"`},
		{name: "direct push as string", doc: p("spec/directPush/allowed", "no"),
			pointer: "/spec/directPush/allowed", message: "expected boolean"},
	})
}
