package plan

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/validate"
)

func TestCompareNoChange(t *testing.T) {
	p := Compare(revision(t, "main", example(t)), revision(t, "feature", example(t)))
	if p.Changed() || p.Risk != RiskNone {
		t.Fatalf("identical revisions: changed %v, risk %v:\n%s", p.Changed(), p.Risk, kindsOf(p))
	}
	if p.Summary.Unchanged != len(example(t).Adapters) || p.Summary.Unchanged == 0 {
		t.Errorf("unchanged = %d, want every adapter (%d)", p.Summary.Unchanged, len(example(t).Adapters))
	}
	if p.Version != "v1" || p.Base.Ref != "main" || p.Head.Ref != "feature" || p.Head.Subject != "Change feature" {
		t.Errorf("header: %+v %+v %+v", p.Version, p.Base, p.Head)
	}
}

// TestCompare makes one change to the example per case and checks the
// change the plan reports for it.
func TestCompare(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(t *testing.T, r *validate.Result) // the change, made to the head
		section string                                 // adapters, security, policy or repository
		key     string                                 // for adapters: the adapter reported
		status  Status                                 // for adapters: its status
		kind    string                                 // the kind of change expected
		pointer string                                 // its JSON pointer
		risk    Risk                                   // its risk, which is also the plan's here
	}{
		{
			name: "acceptor allowed sources widened /25 to /24",
			edit: func(t *testing.T, r *validate.Result) {
				find(t, r, "prod/client-bluefin-acceptor").Spec.Listen.AllowedSources = []string{"192.0.2.0/24"}
			},
			section: "adapters", key: "prod/client-bluefin-acceptor", status: StatusChanged,
			kind: KindAllowedSourcesWidened, pointer: "/spec/listen/allowedSources", risk: RiskHigh,
		},
		{
			name: "acceptor allowed sources gain an unrelated range",
			edit: func(t *testing.T, r *validate.Result) {
				l := find(t, r, "prod/client-bluefin-acceptor").Spec.Listen
				l.AllowedSources = append(l.AllowedSources, "198.51.100.7/32")
			},
			section: "adapters", key: "prod/client-bluefin-acceptor", status: StatusChanged,
			kind: KindAllowedSourcesWidened, pointer: "/spec/listen/allowedSources", risk: RiskHigh,
		},
		{
			name: "acceptor allowed sources narrowed",
			edit: func(t *testing.T, r *validate.Result) {
				find(t, r, "prod/client-bluefin-acceptor").Spec.Listen.AllowedSources = []string{"192.0.2.192/26"}
			},
			section: "adapters", key: "prod/client-bluefin-acceptor", status: StatusChanged,
			kind: KindAllowedSourcesNarrowed, pointer: "/spec/listen/allowedSources", risk: RiskLow,
		},
		{
			name: "listen port changed",
			edit: func(t *testing.T, r *validate.Result) {
				find(t, r, "prod/client-bluefin-acceptor").Spec.Listen.Port = 9990
			},
			section: "adapters", key: "prod/client-bluefin-acceptor", status: StatusChanged,
			kind: KindPortOpened, pointer: "/spec/listen/port", risk: RiskHigh,
		},
		{
			name: "credentials secretRef changed",
			edit: func(t *testing.T, r *validate.Result) {
				find(t, r, "prod/lse-fix-primary").Spec.Credentials.SecretRef.Name = "lse-fix-credentials-2026"
			},
			section: "adapters", key: "prod/lse-fix-primary", status: StatusChanged,
			kind: KindCredentialsChanged, pointer: "/spec/credentials/secretRef", risk: RiskMedium,
		},
		{
			name: "env secretKeyRef changed",
			edit: func(t *testing.T, r *validate.Result) {
				find(t, r, "prod/kafka-orders-bridge").Spec.Env[1].SecretKeyRef.Key = "password-2026"
			},
			section: "adapters", key: "prod/kafka-orders-bridge", status: StatusChanged,
			kind: KindCredentialsChanged, pointer: "/spec/env/1/secretKeyRef", risk: RiskMedium,
		},
		{
			name: "role switched to acceptor",
			edit: func(t *testing.T, r *validate.Result) {
				a := find(t, r, "uat/lse-fix-primary")
				a.Spec.Role, a.Spec.Connect = v1.RoleAcceptor, nil
				a.Spec.Listen = &v1.Listen{Port: 9990, AllowedSources: []string{"198.51.100.0/28"}}
			},
			section: "adapters", key: "uat/lse-fix-primary", status: StatusChanged,
			kind: KindRoleSwitched, pointer: "/spec/role", risk: RiskHigh,
		},
		{
			name: "environment moved",
			edit: func(t *testing.T, r *validate.Result) {
				find(t, r, "prod/tcp-marketdata-feed").Metadata.Environment = "uat"
			},
			section: "adapters", key: "uat/tcp-marketdata-feed", status: StatusMoved,
			kind: KindAdapterMoved, pointer: "/metadata/environment", risk: RiskHigh,
		},
		{
			name:    "adapter removed from production",
			edit:    func(t *testing.T, r *validate.Result) { drop(t, r, "prod/lse-fix-dropcopy") },
			section: "adapters", key: "prod/lse-fix-dropcopy", status: StatusRemoved,
			kind: KindAdapterRemovedProd, pointer: "", risk: RiskHigh,
		},
		{
			name:    "adapter removed from uat",
			edit:    func(t *testing.T, r *validate.Result) { drop(t, r, "uat/kafka-orders-bridge") },
			section: "adapters", key: "uat/kafka-orders-bridge", status: StatusRemoved,
			kind: KindAdapterRemoved, pointer: "", risk: RiskMedium,
		},
		{
			name: "new acceptor opens a port",
			edit: func(t *testing.T, r *validate.Result) {
				a := *find(t, r, "prod/client-bluefin-acceptor")
				a.Metadata.Name = "client-kestrel-acceptor"
				a.Spec.Listen = &v1.Listen{Port: 9883, AllowedSources: []string{"203.0.113.200/29"}}
				r.Adapters = append(r.Adapters, validate.Adapter{Adapter: &a})
			},
			section: "adapters", key: "prod/client-kestrel-acceptor", status: StatusAdded,
			kind: KindPortOpened, pointer: "/spec/listen", risk: RiskHigh,
		},
		{
			name:    "replicas",
			edit:    func(t *testing.T, r *validate.Result) { find(t, r, "prod/lse-fix-primary").Spec.Replicas = ptr(3) },
			section: "adapters", key: "prod/lse-fix-primary", status: StatusChanged,
			kind: KindReplicas, pointer: "/spec/replicas", risk: RiskLow,
		},
		{
			name: "image",
			edit: func(t *testing.T, r *validate.Result) {
				find(t, r, "prod/lse-fix-primary").Spec.Image = &v1.Image{Tag: "3.9.0"}
			},
			section: "adapters", key: "prod/lse-fix-primary", status: StatusChanged,
			kind: KindImage, pointer: "/spec/image", risk: RiskLow,
		},
		{
			name: "FIX target CompID",
			edit: func(t *testing.T, r *validate.Result) {
				find(t, r, "prod/lse-fix-primary").Spec.FIX.TargetCompID = "LSE2"
			},
			section: "adapters", key: "prod/lse-fix-primary", status: StatusChanged,
			kind: KindSessionIdentity, pointer: "/spec/fix/targetCompID", risk: RiskMedium,
		},
		{
			name: "FIX heartbeat",
			edit: func(t *testing.T, r *validate.Result) {
				find(t, r, "prod/lse-fix-primary").Spec.FIX.HeartbeatSeconds = 20
			},
			section: "adapters", key: "prod/lse-fix-primary", status: StatusChanged,
			kind: KindSessionChanged, pointer: "/spec/fix/heartbeatSeconds", risk: RiskLow,
		},
		{
			name:    "connect TLS off",
			edit:    func(t *testing.T, r *validate.Result) { find(t, r, "prod/lse-fix-primary").Spec.Connect.TLS = false },
			section: "adapters", key: "prod/lse-fix-primary", status: StatusChanged,
			kind: KindTLSWeakened, pointer: "/spec/connect/tls", risk: RiskHigh,
		},
		{
			name: "RBAC binding added",
			edit: func(t *testing.T, r *validate.Result) {
				r.Security.Spec.RBAC.Bindings = append(r.Security.Spec.RBAC.Bindings,
					v1.Binding{Subject: v1.Subject{Type: v1.SubjectUser, Name: "mallory@acme.example"}, Role: v1.RoleAdmin})
			},
			section: "security", kind: KindBindingAdded, pointer: "/spec/rbac/bindings/9", risk: RiskHigh,
		},
		{
			name: "RBAC binding scope widened",
			edit: func(t *testing.T, r *validate.Result) {
				r.Security.Spec.RBAC.Bindings[1].Scope = nil // venue-connectivity operator, was uat only
			},
			section: "security", kind: KindBindingWidened, pointer: "/spec/rbac/bindings/1/scope", risk: RiskHigh,
		},
		{
			name: "RBAC binding removed",
			edit: func(t *testing.T, r *validate.Result) {
				b := r.Security.Spec.RBAC.Bindings
				r.Security.Spec.RBAC.Bindings = b[:len(b)-1]
			},
			section: "security", kind: KindBindingRemoved, pointer: "/spec/rbac/bindings/8", risk: RiskMedium,
		},
		{
			name: "custom role widened",
			edit: func(t *testing.T, r *validate.Result) {
				role := &r.Security.Spec.RBAC.Roles[1] // auditor
				role.Permissions = append(role.Permissions, v1.Permission{Resource: "security", Actions: []string{"update"}})
			},
			section: "security", kind: KindRoleWidened, pointer: "/spec/rbac/roles/1/permissions", risk: RiskHigh,
		},
		{
			name: "API keys disabled",
			edit: func(t *testing.T, r *validate.Result) {
				r.Security.Spec.Authentication.APIKeys.Enabled = ptr(false)
			},
			section: "security", kind: KindAuthWeakened, pointer: "/spec/authentication/apiKeys/enabled", risk: RiskHigh,
		},
		{
			name:    "SSO removed",
			edit:    func(t *testing.T, r *validate.Result) { r.Security.Spec.SSO = nil },
			section: "security", kind: KindAuthWeakened, pointer: "/spec/sso", risk: RiskHigh,
		},
		{
			name: "JWT algorithms widened",
			edit: func(t *testing.T, r *validate.Result) {
				j := r.Security.Spec.Authentication.JWT
				j.Algorithms = append(j.Algorithms, "PS512")
			},
			section: "security", kind: KindJWTAlgorithms, pointer: "/spec/authentication/jwt/algorithms", risk: RiskHigh,
		},
		{
			name:    "session timeout lengthened",
			edit:    func(t *testing.T, r *validate.Result) { r.Security.Spec.Sessions.Timeout = "7d" },
			section: "security", kind: KindSessionTimeout, pointer: "/spec/sessions/timeout", risk: RiskHigh,
		},
		{
			name:    "session timeout shortened",
			edit:    func(t *testing.T, r *validate.Result) { r.Security.Spec.Sessions.Timeout = "4h" },
			section: "security", kind: KindSecurityChanged, pointer: "/spec/sessions/timeout", risk: RiskMedium,
		},
		{
			name: "IP allowlist widened",
			edit: func(t *testing.T, r *validate.Result) {
				r.Security.Spec.Network.IPAllowlist.Ranges[0] = "10.0.0.0/7"
			},
			section: "security", kind: KindAllowlistWeakened, pointer: "/spec/network/ipAllowlist/ranges", risk: RiskHigh,
		},
		{
			name:    "per-client rate limit removed",
			edit:    func(t *testing.T, r *validate.Result) { r.Security.Spec.RateLimit.PerClient = nil },
			section: "security", kind: KindRateLimitWeakened, pointer: "/spec/rateLimit/perClient", risk: RiskHigh,
		},
		{
			name:    "audit level changed",
			edit:    func(t *testing.T, r *validate.Result) { r.Security.Spec.Audit.Level = "verbose" },
			section: "security", kind: KindSecurityChanged, pointer: "/spec/audit/level", risk: RiskMedium,
		},
		{
			name: "API key rotated",
			edit: func(t *testing.T, r *validate.Result) {
				r.Security.Spec.Authentication.APIKeys.Keys[0].Hash = "sha256:" + strings.Repeat("ab", 32)
			},
			section: "security", kind: KindAPIKeyRotated, pointer: "/spec/authentication/apiKeys/keys/0/hash", risk: RiskMedium,
		},
		{
			name: "approvals lowered",
			edit: func(t *testing.T, r *validate.Result) {
				r.Policy.Spec.Approvals.Required = ptr(0)
			},
			section: "policy", kind: KindApprovalsLowered, pointer: "/spec/approvals/required", risk: RiskHigh,
		},
		{
			name:    "production change window removed",
			edit:    func(t *testing.T, r *validate.Result) { delete(r.Policy.Spec.Windows, "prod") },
			section: "policy", kind: KindWindowRemoved, pointer: "/spec/windows/prod", risk: RiskHigh,
		},
		{
			name: "open-acceptor exception added",
			edit: func(t *testing.T, r *validate.Result) {
				r.Policy.Spec.Exceptions = &v1.Exceptions{OpenAcceptors: []v1.OpenAcceptorException{
					{Environment: "uat", Adapter: "client-northwind-acceptor", Reason: "venue test", Expires: "2026-12-31T00:00:00Z"}}}
			},
			section: "policy", kind: KindExceptionAdded, pointer: "/spec/exceptions/openAcceptors/0", risk: RiskHigh,
		},
		{
			name: "required check added",
			edit: func(t *testing.T, r *validate.Result) {
				r.Policy.Spec.Checks.Required = append(r.Policy.Spec.Checks.Required, "security/scan")
			},
			section: "policy", kind: KindPolicyChanged, pointer: "/spec/checks/required", risk: RiskMedium,
		},
		{
			name:    "policy removed",
			edit:    func(t *testing.T, r *validate.Result) { r.Policy = nil },
			section: "policy", kind: KindPolicyRemoved, pointer: "", risk: RiskHigh,
		},
		{
			name: "production flag cleared",
			edit: func(t *testing.T, r *validate.Result) {
				e := r.Repository.Spec.Environments["prod"]
				e.Production = false
				r.Repository.Spec.Environments["prod"] = e
			},
			section: "repository", kind: KindProductionCleared, pointer: "/spec/environments/prod/production", risk: RiskHigh,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := example(t)
			tt.edit(t, head)
			p := Compare(revision(t, "main", example(t)), revision(t, "change", head))
			c, a := findChange(p, tt.section, tt.kind)
			if c == nil {
				t.Fatalf("no %s change of kind %s; the plan has:\n%s", tt.section, tt.kind, kindsOf(p))
			}
			if c.Pointer != tt.pointer || c.Risk != tt.risk {
				t.Errorf("change at %q risk %v, want %q risk %v (%s)", c.Pointer, c.Risk, tt.pointer, tt.risk, c.Summary)
			}
			if c.Summary == "" || c.Advice == "" {
				t.Errorf("change lacks a summary or advice: %+v", c)
			}
			if p.Risk != tt.risk {
				t.Errorf("plan risk %v, want %v:\n%s", p.Risk, tt.risk, kindsOf(p))
			}
			if tt.section == "adapters" {
				if a.Key != tt.key || a.Status != tt.status {
					t.Errorf("adapter %s %s, want %s %s", a.Key, a.Status, tt.key, tt.status)
				}
				if a.Diff == nil || a.Diff.Lines == 0 {
					t.Errorf("adapter %s has no diff", a.Key)
				}
				others := 0
				for _, x := range p.Adapters {
					if x.Key != tt.key {
						others++
					}
				}
				if others > 0 {
					t.Errorf("%d other adapters reported:\n%s", others, kindsOf(p))
				}
			} else if len(p.Adapters) != 0 {
				t.Errorf("adapters reported for a %s change:\n%s", tt.section, kindsOf(p))
			}
			if !p.Changed() {
				t.Error("Changed() = false")
			}
		})
	}
}

// TestCompareCounts checks the summary and the order of a plan with several changes.
func TestCompareCounts(t *testing.T) {
	head := example(t)
	find(t, head, "prod/client-bluefin-acceptor").Spec.Listen.AllowedSources = []string{"192.0.0.0/16"}
	find(t, head, "prod/lse-fix-primary").Spec.Replicas = ptr(1)
	drop(t, head, "prod/lse-fix-dropcopy")
	find(t, head, "prod/eurex-fix-derivatives").Metadata.Environment = "uat"
	p := Compare(revision(t, "main", example(t)), revision(t, "change", head))
	want := Summary{Changed: 2, Removed: 1, Moved: 1, Unchanged: len(example(t).Adapters) - 4}
	got := p.Summary
	got.High, got.Medium, got.Low = 0, 0, 0
	if got != want {
		t.Errorf("summary %+v, want %+v\n%s", p.Summary, want, kindsOf(p))
	}
	var keys []string
	for _, a := range p.Adapters {
		keys = append(keys, a.Key+" "+string(a.Status))
	}
	wantKeys := []string{"prod/client-bluefin-acceptor changed", "prod/lse-fix-dropcopy removed",
		"prod/lse-fix-primary changed", "uat/eurex-fix-derivatives moved"}
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("adapters %v, want %v (sorted by key)", keys, wantKeys)
	}
	if p.Risk != RiskHigh {
		t.Errorf("risk %v, want high", p.Risk)
	}
	for _, a := range p.Adapters {
		if !slices.IsSortedFunc(a.Changes, func(x, y Change) int { return int(y.Risk) - int(x.Risk) }) {
			t.Errorf("%s: changes not highest risk first", a.Key)
		}
	}
}

// TestCompareAmbiguousMove: a name removed from two environments and added
// to a third is two removals and an addition, not a move.
func TestCompareAmbiguousMove(t *testing.T) {
	base, head := example(t), example(t)
	for _, r := range []*validate.Result{base, head} {
		e := r.Repository.Spec.Environments["uat"]
		e.Namespace = "connectivity-dr"
		r.Repository.Spec.Environments["dr"] = e
	}
	drop(t, head, "uat/lse-fix-primary")
	find(t, head, "prod/lse-fix-primary").Metadata.Environment = "dr"
	p := Compare(revision(t, "main", base), revision(t, "change", head))
	if p.Summary.Moved != 0 || p.Summary.Removed != 2 || p.Summary.Added != 1 {
		t.Errorf("summary %+v, want 2 removed and 1 added\n%s", p.Summary, kindsOf(p))
	}
}

// TestCompareWideningDescribed checks what the summary of a widening says.
func TestCompareWideningDescribed(t *testing.T) {
	head := example(t)
	find(t, head, "prod/client-bluefin-acceptor").Spec.Listen.AllowedSources = []string{"192.0.0.0/16"}
	p := Compare(revision(t, "main", example(t)), revision(t, "change", head))
	c, _ := findChange(p, "adapters", KindAllowedSourcesWidened)
	if c == nil {
		t.Fatal("no widening")
	}
	for _, want := range []string{"192.0.2.128/25", "192.0.0.0/16", "512 times", "65,536"} {
		if !strings.Contains(c.Summary, want) {
			t.Errorf("summary %q lacks %q", c.Summary, want)
		}
	}
	b, _ := json.Marshal(c.Before)
	a, _ := json.Marshal(c.After)
	if string(b) != `["192.0.2.128/25"]` || string(a) != `["192.0.0.0/16"]` {
		t.Errorf("before %s after %s", b, a)
	}
}

func TestRiskJSON(t *testing.T) {
	for _, r := range []Risk{RiskNone, RiskLow, RiskMedium, RiskHigh} {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Risk
		if err := json.Unmarshal(b, &back); err != nil || back != r {
			t.Errorf("%v -> %s -> %v, %v", r, b, back, err)
		}
	}
	var r Risk
	if err := json.Unmarshal([]byte(`"severe"`), &r); err == nil {
		t.Error("unknown risk accepted")
	}
}

// TestKindsDocumented: every kind has advice, once.
func TestKindsDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Kinds {
		if seen[k.Kind] {
			t.Errorf("kind %s listed twice", k.Kind)
		}
		seen[k.Kind] = true
		if k.Advice == "" || k.Risk == RiskNone {
			t.Errorf("kind %s lacks advice or risk", k.Kind)
		}
	}
}

func TestAffected(t *testing.T) {
	tests := []struct {
		name string
		edit func(t *testing.T, r *validate.Result) // the change, made to the head
		keys []string                               // the adapters to render
		all  bool                                   // whether every adapter must render
	}{
		{name: "nothing", edit: func(*testing.T, *validate.Result) {}, keys: nil},
		{name: "one manifest", edit: func(t *testing.T, r *validate.Result) { find(t, r, "prod/lse-fix-primary").Spec.Replicas = ptr(4) },
			keys: []string{"prod/lse-fix-primary"}},
		{name: "a removal", edit: func(t *testing.T, r *validate.Result) { drop(t, r, "uat/lse-fix-primary") },
			keys: []string{"uat/lse-fix-primary"}},
		{name: "a move", edit: func(t *testing.T, r *validate.Result) {
			find(t, r, "prod/tcp-marketdata-feed").Metadata.Environment = "uat"
		},
			keys: []string{"prod/tcp-marketdata-feed", "uat/tcp-marketdata-feed"}},
		{name: "security only", edit: func(t *testing.T, r *validate.Result) { r.Security.Spec.Sessions.Timeout = "1h" }, keys: nil},
		{name: "cairn.json", edit: func(t *testing.T, r *validate.Result) { r.Repository.Spec.Image.Tag = "9.9.9" }, all: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := example(t)
			tt.edit(t, head)
			keys, all := Affected(example(t), head)
			if all != tt.all {
				t.Fatalf("all = %v, want %v", all, tt.all)
			}
			var got []string
			for k := range keys {
				got = append(got, k)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.keys) {
				t.Errorf("affected %v, want %v", got, tt.keys)
			}
		})
	}
}
