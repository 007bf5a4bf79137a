package rbac

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth/identity"
)

// example loads examples/config-repo/security.json.
func example(t testing.TB) *v1.SecurityConfig {
	t.Helper()
	b, err := os.ReadFile("../../../examples/config-repo/security.json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg v1.SecurityConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	return &cfg
}

func user(name string, groups ...string) identity.Principal {
	return identity.Principal{Kind: identity.User, Name: name, Groups: groups, Method: identity.JWT}
}

func key(name string, scopes ...string) identity.Principal {
	return identity.Principal{Kind: identity.ServiceAccount, Name: name, Scopes: scopes, Method: identity.APIKey}
}

var (
	uatLSE   = Resource{Environment: "uat", Adapter: "lse-fix-primary"}
	prodLSE  = Resource{Environment: "prod", Adapter: "lse-fix-primary", Labels: map[string]string{"app.kubernetes.io/part-of": "acme-connectivity"}}
	prodBare = Resource{Environment: "prod", Adapter: "client-acceptor"}
	global   = Resource{}
)

func TestDecideExampleRepository(t *testing.T) {
	a, err := New(example(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		p    identity.Principal
		perm Permission
		res  Resource
		// want is the expected outcome, role and reason.
		want   bool
		role   string
		reason Reason
	}{
		{"admin user does anything", user("alice@acme.example"), UpdateSecurity, global, true, "admin", Granted},
		{"operator of uat syncs uat", user("bob", "venue-connectivity"), CreateSync, uatLSE, true, "operator", Granted},
		{"operator of uat is a viewer of prod", user("bob", "venue-connectivity"), CreateSync, prodLSE, false, "viewer", DeniedNotPermitted},
		{"viewer of prod reads prod", user("bob", "venue-connectivity"), ReadAdapters, prodLSE, true, "viewer", Granted},
		{"scoped bindings do not cover the whole", user("bob", "venue-connectivity"), ReadStatus, global, false, "", DeniedOutOfScope},
		{"release manager syncs labelled prod adapter", user("rm", "connectivity-release-managers"), CreateSync, prodLSE, true, "release-manager", Granted},
		{"release manager: adapter without the label", user("rm", "connectivity-release-managers"), CreateSync, prodBare, false, "", DeniedOutOfScope},
		{"release manager: not in uat", user("rm", "connectivity-release-managers"), CreateSync, uatLSE, false, "", DeniedOutOfScope},
		{"release manager approves", user("rm", "connectivity-release-managers"), ApproveChangeRequest, prodLSE, true, "release-manager", Granted},
		{"release manager cannot read security", user("rm", "connectivity-release-managers"), ReadSecurity, prodLSE, false, "release-manager", DeniedNotPermitted},
		{"auditor exports", user("carol", "compliance"), ExportHistory, global, true, "auditor", Granted},
		{"auditor cannot sync", user("carol", "compliance"), CreateSync, uatLSE, false, "auditor", DeniedNotPermitted},
		{"unbound user gets default viewer", user("dave"), ReadAdapters, prodLSE, true, "viewer", GrantedDefault},
		{"default viewer cannot sync", user("dave"), CreateSync, uatLSE, false, "viewer", DeniedNotPermitted},
		{"two groups: the better role wins", user("erin", "compliance", "venue-connectivity"), CreateSync, uatLSE, true, "operator", Granted},
		{"key within scopes and role", key("grafana-status", "status:read", "adapters:read"), ReadStatus, global, true, "viewer", Granted},
		{"key scopes exclude history", key("grafana-status", "status:read", "adapters:read"), ReadHistory, global, false, "viewer", DeniedKeyScope},
		{"key admin scope cannot exceed viewer role", key("ci-validate", "admin"), CreateSync, uatLSE, false, "viewer", DeniedNotPermitted},
		{"key of operator in uat, listed adapter", key("uat-sync-bot", "sync:create"), CreateSync, uatLSE, true, "operator", Granted},
		{"key of operator in uat, other adapter", key("uat-sync-bot", "sync:create"), CreateSync, Resource{Environment: "uat", Adapter: "other"}, false, "", DeniedOutOfScope},
		{"key without scopes", key("grafana-status"), ReadStatus, global, false, "viewer", DeniedKeyScope},
		{"user named like a service account", user("ci-validate"), ReadStatus, global, true, "viewer", GrantedDefault},
		{"service account named like a user", identity.Principal{Kind: identity.ServiceAccount, Name: "alice@acme.example", Method: identity.MTLS}, UpdateSecurity, global, false, "viewer", DeniedNotPermitted},
		{"anonymous", identity.Principal{}, ReadStatus, global, false, "", DeniedAnonymous},
		{"unknown kind", identity.Principal{Kind: "robot", Name: "alice@acme.example"}, ReadStatus, global, false, "", DeniedAnonymous},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := a.Decide(tc.p, tc.perm, tc.res)
			if d.Allowed != tc.want || d.Role != tc.role || d.Reason != tc.reason || d.Permission != tc.perm {
				t.Fatalf("Decide = %+v, want allowed=%v role=%q reason=%s", d, tc.want, tc.role, tc.reason)
			}
			if d.Allowed != (d.Binding >= 0) && d.Reason == Granted {
				t.Fatalf("binding index %d for %+v", d.Binding, d)
			}
		})
	}
}

func TestDecideAny(t *testing.T) {
	a, err := New(example(t))
	if err != nil {
		t.Fatal(err)
	}
	bob := user("bob", "venue-connectivity")
	if d := a.DecideAny(bob, CreateSync); !d.Allowed || d.Role != "operator" {
		t.Errorf("DecideAny(sync) = %+v", d)
	}
	if d := a.DecideAny(bob, ReadSecurity); d.Allowed {
		t.Errorf("DecideAny(security) = %+v", d)
	}
}

func TestPolicyModes(t *testing.T) {
	none, err := New(&v1.SecurityConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if d := none.Decide(user("a"), ReadStatus, global); d.Allowed || d.Reason != DeniedNoPolicy {
		t.Errorf("no rbac block: %+v", d)
	}
	var nilAuthz *Authorizer
	if d := nilAuthz.Decide(user("a"), ReadStatus, global); d.Allowed {
		t.Errorf("nil authorizer: %+v", d)
	}
	off := false
	disabled, err := New(&v1.SecurityConfig{Spec: v1.SecuritySpec{RBAC: &v1.RBAC{Enabled: &off}}})
	if err != nil {
		t.Fatal(err)
	}
	if d := disabled.Decide(user("a"), UpdateSecurity, global); !d.Allowed || d.Reason != GrantedDisabled {
		t.Errorf("rbac disabled: %+v", d)
	}
	if d := disabled.Decide(key("k", "status:read"), CreateSync, global); d.Allowed || d.Reason != DeniedKeyScope {
		t.Errorf("rbac disabled, key scopes still apply: %+v", d)
	}
	empty, _ := New(&v1.SecurityConfig{Spec: v1.SecuritySpec{RBAC: &v1.RBAC{}}})
	if d := empty.Decide(user("a"), ReadStatus, global); d.Allowed || d.Reason != DeniedNoBinding {
		t.Errorf("no binding, no default: %+v", d)
	}
}

func TestNewRefusesBrokenPolicies(t *testing.T) {
	for name, r := range map[string]v1.RBAC{
		"unknown default role": {DefaultRole: "nobody"},
		"unknown binding role": {Bindings: []v1.Binding{{Subject: v1.Subject{Type: "user", Name: "a"}, Role: "nobody"}}},
		"built-in redeclared":  {Roles: []v1.Role{{Name: "viewer", Permissions: []v1.Permission{{Resource: "*", Actions: []string{"*"}}}}}},
		"unknown resource":     {Roles: []v1.Role{{Name: "r", Permissions: []v1.Permission{{Resource: "patterns", Actions: []string{"read"}}}}}},
		"unknown action":       {Roles: []v1.Role{{Name: "r", Permissions: []v1.Permission{{Resource: "sync", Actions: []string{"execute"}}}}}},
		"unknown subject type": {Bindings: []v1.Binding{{Subject: v1.Subject{Type: "team", Name: "a"}, Role: "viewer"}}},
	} {
		if _, err := New(&v1.SecurityConfig{Spec: v1.SecuritySpec{RBAC: &r}}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCustomRoleWildcards(t *testing.T) {
	cfg := &v1.SecurityConfig{Spec: v1.SecuritySpec{RBAC: &v1.RBAC{
		Roles: []v1.Role{
			{Name: "history-all", Permissions: []v1.Permission{{Resource: "history", Actions: []string{"*"}}}},
			{Name: "reader", Permissions: []v1.Permission{{Resource: "*", Actions: []string{"read"}}}},
		},
		Bindings: []v1.Binding{
			{Subject: v1.Subject{Type: "user", Name: "h"}, Role: "history-all"},
			{Subject: v1.Subject{Type: "user", Name: "r"}, Role: "reader"},
		},
	}}}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who  string
		perm Permission
		want bool
	}{
		{"h", ExportHistory, true}, {"h", ReadHistory, true}, {"h", ReadStatus, false},
		{"r", ReadSecurity, true}, {"r", ExportHistory, false}, {"r", CreateSync, false},
	} {
		if d := a.Decide(user(tc.who), tc.perm, global); d.Allowed != tc.want {
			t.Errorf("%s %s: %+v", tc.who, tc.perm, d)
		}
	}
}

func TestBuiltinRolesNest(t *testing.T) {
	order := v1.BuiltinRoles // most privileged first
	for i := 1; i < len(order); i++ {
		for _, p := range BuiltinPermissions(order[i]) {
			if !compileBuiltin(order[i-1], BuiltinPermissions(order[i-1])).allows(p) {
				t.Errorf("%s has %s but %s does not", order[i], p, order[i-1])
			}
		}
	}
	for _, p := range []Permission{UpdateSecurity, ReadSecurity, ApproveChangeRequest} {
		for _, r := range order[1:] {
			if compileBuiltin(r, BuiltinPermissions(r)).allows(p) {
				t.Errorf("built-in %s should not have %s", r, p)
			}
		}
	}
	if !compileBuiltin("viewer", BuiltinPermissions("viewer")).allows(ReadHistory) ||
		compileBuiltin("viewer", BuiltinPermissions("viewer")).allows(CreateSync) {
		t.Error("viewer reads history and does not sync")
	}
	if !compileBuiltin("operator", BuiltinPermissions("operator")).allows(CreateSync) ||
		compileBuiltin("developer", BuiltinPermissions("developer")).allows(CreateSync) {
		t.Error("operator syncs, developer does not")
	}
}

func TestParsePermission(t *testing.T) {
	if p, err := ParsePermission("sync:create"); err != nil || p.Resource() != "sync" || p.Action() != "create" {
		t.Errorf("%q %v", p, err)
	}
	for _, s := range []string{"", "sync", "sync:*", "*:read", "patterns:read", "sync:create:x"} {
		if _, err := ParsePermission(s); err == nil {
			t.Errorf("ParsePermission(%q) accepted", s)
		}
	}
}

type adapter struct {
	env, name string
	labels    map[string]string
}

func (a adapter) resource() Resource {
	return Resource{Environment: a.env, Adapter: a.name, Labels: a.labels}
}

func TestFilter(t *testing.T) {
	a, err := New(example(t))
	if err != nil {
		t.Fatal(err)
	}
	fleet := []adapter{{"uat", "lse-fix-primary", nil}, {"uat", "kafka-orders-bridge", nil}, {"uat", "other", nil},
		{"prod", "lse-fix-primary", map[string]string{"app.kubernetes.io/part-of": "acme-connectivity"}}}
	res := adapter.resource
	if got := Visible(a, key("uat-sync-bot", "adapters:read"), fleet, res); len(got) != 2 || got[1].name != "kafka-orders-bridge" {
		t.Errorf("uat-sync-bot sees %v", got)
	}
	if got := Filter(a, user("rm", "connectivity-release-managers"), CreateSync, fleet, res); len(got) != 1 || got[0].env != "prod" {
		t.Errorf("release manager may sync %v", got)
	}
	if got := Visible(a, user("dave"), fleet, res); len(got) != len(fleet) {
		t.Errorf("default viewer sees %v", got)
	}
	if got := Visible(a, identity.Principal{}, fleet, res); len(got) != 0 {
		t.Errorf("anonymous sees %v", got)
	}
}

// BenchmarkVisible1000 filters a fleet of 1,000 adapters for a user with a
// scoped binding, as the adapter list does on every request.
func BenchmarkVisible1000(b *testing.B) {
	a, err := New(example(b))
	if err != nil {
		b.Fatal(err)
	}
	fleet := make([]adapter, 1000)
	for i := range fleet {
		env := []string{"uat", "prod"}[i%2]
		fleet[i] = adapter{env, fmt.Sprintf("adapter-%d", i), map[string]string{"app.kubernetes.io/part-of": "acme-connectivity"}}
	}
	p := user("rm", "connectivity-release-managers", "venue-connectivity")
	for b.Loop() {
		if got := Visible(a, p, fleet, adapter.resource); len(got) != 1000 {
			b.Fatal(len(got))
		}
	}
}
