package validate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/diag"
	"github.com/cairn-gitops/cairn/internal/jsonptr"
	"github.com/cairn-gitops/cairn/internal/manifest"
)

// securityRules check what the SecurityConfig schema cannot: unique names,
// roles that exist, valid ranges, keys that have expired.
func (e ruleEnv) securityRules(d *manifest.Document, sc *v1.SecurityConfig) []diag.Finding {
	var out []diag.Finding
	s := sc.Spec
	if a := s.Authentication; a != nil && a.APIKeys != nil {
		ids, names := map[string]int{}, map[string]int{}
		for i, k := range a.APIKeys.Keys {
			ptr := fmt.Sprintf("/spec/authentication/apiKeys/keys/%d", i)
			out = append(out, unique(d, ids, k.ID, i, ptr+"/id", "API key id")...)
			out = append(out, unique(d, names, k.Name, i, ptr+"/name", "API key name")...)
			if exp, expired := e.expired(k.Expires); expired && !k.IsDisabled() {
				out = append(out, at(d, ptr+"/expires", diag.RuleExpired,
					fmt.Sprintf("API key %q expired on %s; remove it or issue a new one", k.Name, day(exp))))
			}
		}
	}
	if r := s.RBAC; r != nil {
		out = append(out, rbacRules(d, r)...)
	}
	if n := s.Network; n != nil && n.IPAllowlist != nil {
		out = append(out, checkCIDRs(d, "/spec/network/ipAllowlist/ranges", n.IPAllowlist.Ranges)...)
	}
	return out
}

func rbacRules(d *manifest.Document, r *v1.RBAC) []diag.Finding {
	var out []diag.Finding
	roles := map[string]int{}
	for i, role := range r.Roles {
		out = append(out, unique(d, roles, role.Name, i, fmt.Sprintf("/spec/rbac/roles/%d/name", i), "role")...)
	}
	known := func(name string) bool {
		_, custom := roles[name]
		return custom || slices.Contains(v1.BuiltinRoles, name)
	}
	if r.DefaultRole != "" && !known(r.DefaultRole) {
		out = append(out, at(d, "/spec/rbac/defaultRole", diag.RuleUnknownRole, unknownRole(r.DefaultRole)))
	}
	for i, b := range r.Bindings {
		if !known(b.Role) {
			out = append(out, at(d, fmt.Sprintf("/spec/rbac/bindings/%d/role", i), diag.RuleUnknownRole, unknownRole(b.Role)))
		}
	}
	return out
}

func unknownRole(name string) string {
	return fmt.Sprintf("role %q is neither built in (admin, operator, developer, viewer) nor declared under rbac.roles", name)
}

// unique records name at index i in seen and reports it if it was there.
func unique(d *manifest.Document, seen map[string]int, name string, i int, ptr, what string) []diag.Finding {
	if first, dup := seen[name]; dup {
		return []diag.Finding{at(d, ptr, diag.RuleDuplicateName, fmt.Sprintf("%s %q is already used by entry %d", what, name, first))}
	}
	seen[name] = i
	return nil
}

// policyRules check a ChangePolicy's time zones and stale exceptions.
func (e ruleEnv) policyRules(d *manifest.Document, p *v1.ChangePolicy) []diag.Finding {
	var out []diag.Finding
	for _, env := range sortedKeys(p.Spec.Windows) {
		out = append(out, e.checkTimezone(d, "/spec/windows/"+jsonptr.Escape(env)+"/timezone", p.Spec.Windows[env].Timezone)...)
	}
	if ex := p.Spec.Exceptions; ex != nil {
		for i, x := range ex.OpenAcceptors {
			if exp, expired := e.expired(x.Expires); expired {
				out = append(out, at(d, fmt.Sprintf("/spec/exceptions/openAcceptors/%d/expires", i), diag.RuleExpired,
					fmt.Sprintf("the exception for %s/%s expired on %s and no longer applies", x.Environment, x.Adapter, day(exp))))
			}
		}
	}
	return out
}

// day formats an expiry for a message.
func day(t time.Time) string {
	if t.IsZero() {
		return "an unreadable date"
	}
	return t.UTC().Format(time.DateOnly)
}

// expired reports whether an RFC 3339 expiry ("" for none) has passed. A
// value that does not parse counts as expired: a grant must never outlive
// its date because the date was written oddly.
func (e ruleEnv) expired(expires string) (time.Time, bool) {
	if expires == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(expires))
	if err != nil {
		return time.Time{}, true
	}
	return t, !t.After(e.now)
}

// openAllowed reports whether the policy grants an acceptor a current
// exception to admit any source; note explains a refusal when every
// matching exception has expired.
func (e ruleEnv) openAllowed(p *v1.ChangePolicy, a *v1.Adapter) (bool, string) {
	if p == nil || p.Spec.Exceptions == nil {
		return false, ""
	}
	note := ""
	for _, x := range p.Spec.Exceptions.OpenAcceptors {
		if x.Environment != a.Metadata.Environment || x.Adapter != a.Metadata.Name {
			continue
		}
		exp, expired := e.expired(x.Expires)
		if !expired {
			return true, ""
		}
		note = fmt.Sprintf(" (its exception expired on %s)", day(exp))
	}
	return false, note
}

// referenceRules check that names in security.json and policy.json refer to
// environments and adapters that exist.
func referenceRules(r *Result) []diag.Finding {
	if r.Repository == nil {
		return nil
	}
	envs := r.Repository.Spec.Environments
	adapters := map[[2]string]bool{}
	envsOf := map[string][]string{} // adapter name -> its environments
	for _, a := range r.Adapters {
		adapters[[2]string{a.Metadata.Environment, a.Metadata.Name}] = true
		envsOf[a.Metadata.Name] = append(envsOf[a.Metadata.Name], a.Metadata.Environment)
	}
	var out []diag.Finding
	envMissing := func(d *manifest.Document, ptr, env string) {
		if _, ok := envs[env]; !ok {
			out = append(out, at(d, ptr, diag.RuleUnknownReference, fmt.Sprintf("environment %q is not declared in cairn.json", env)))
		}
	}
	if p := r.Policy; p != nil {
		for _, env := range sortedKeys(p.Spec.Windows) {
			envMissing(r.PolicyDoc, "/spec/windows/"+jsonptr.Escape(env), env)
		}
		if ex := p.Spec.Exceptions; ex != nil {
			for i, x := range ex.OpenAcceptors {
				ptr := fmt.Sprintf("/spec/exceptions/openAcceptors/%d", i)
				if !adapters[[2]string{x.Environment, x.Adapter}] {
					out = append(out, at(r.PolicyDoc, ptr+"/adapter", diag.RuleUnknownReference,
						fmt.Sprintf("no adapter %q in environment %q; remove the stale exception", x.Adapter, x.Environment)))
				}
			}
		}
	}
	if s := r.Security; s != nil && s.Spec.RBAC != nil {
		for i, b := range s.Spec.RBAC.Bindings {
			if b.Scope == nil {
				continue
			}
			ptr := fmt.Sprintf("/spec/rbac/bindings/%d/scope", i)
			for j, env := range b.Scope.Environments {
				envMissing(r.SecurityDoc, fmt.Sprintf("%s/environments/%d", ptr, j), env)
			}
			for j, name := range b.Scope.Adapters {
				if msg := scopedAdapterMissing(envsOf[name], b.Scope.Environments, name); msg != "" {
					out = append(out, at(r.SecurityDoc, fmt.Sprintf("%s/adapters/%d", ptr, j), diag.RuleUnknownReference, msg))
				}
			}
		}
	}
	return out
}

// scopedAdapterMissing says why a binding's adapter matches nothing: no
// adapter has the name, or none in the binding's environments.
func scopedAdapterMissing(has []string, scope []string, name string) string {
	switch {
	case len(has) == 0:
		return fmt.Sprintf("no adapter is named %q", name)
	case len(scope) == 0:
		return ""
	}
	for _, env := range has {
		if slices.Contains(scope, env) {
			return ""
		}
	}
	return fmt.Sprintf("adapter %q is not in the binding's environments (%s), so the binding matches nothing", name, strings.Join(scope, ", "))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
