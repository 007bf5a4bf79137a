package rbac

import (
	"fmt"
	"maps"
	"slices"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth/identity"
)

// Resource is what a request acts on. The zero Resource is cairn as a
// whole (the overall status, the security configuration): only bindings
// without a scope cover it.
type Resource struct {
	Environment string
	Adapter     string
	Labels      map[string]string
}

// Reason says why a decision went the way it did; stable, safe to log and
// to put in an audit record.
type Reason string

// Reasons of a Decision.
const (
	Granted         Reason = "granted"      // a binding's role grants it
	GrantedDefault  Reason = "default-role" // the default role grants it
	GrantedDisabled Reason = "rbac-disabled"
	// DeniedAnonymous: the principal names nobody.
	DeniedAnonymous Reason = "anonymous"
	// DeniedNoPolicy: security.json has no rbac block.
	DeniedNoPolicy Reason = "no-rbac"
	// DeniedNoBinding: no binding names the principal and there is no
	// default role.
	DeniedNoBinding Reason = "no-binding"
	// DeniedOutOfScope: bindings name the principal, none covers the resource.
	DeniedOutOfScope Reason = "out-of-scope"
	// DeniedNotPermitted: the roles that apply do not grant the permission.
	DeniedNotPermitted Reason = "not-permitted"
	// DeniedKeyScope: the roles grant it but the API key's scopes do not.
	DeniedKeyScope Reason = "key-scope"
)

// Decision is the answer to one question.
type Decision struct {
	Allowed    bool
	Permission Permission
	// Role granted the permission (allowed), or applied and lacked it
	// (denied); empty when no role applied.
	Role   string
	Reason Reason
	// Binding is the index in rbac.bindings of the binding that granted
	// the permission, or -1.
	Binding int
}

type mode int

const (
	modeMissing mode = iota
	modeDisabled
	modeEnabled
)

// binding is a compiled binding.
type binding struct {
	index    int
	role     *role
	envs     []string
	adapters []string
	labels   map[string]string
}

// covers reports whether every field of the binding's scope matches r.
func (b *binding) covers(r Resource) bool {
	if len(b.envs) > 0 && !slices.Contains(b.envs, r.Environment) {
		return false
	}
	if len(b.adapters) > 0 && (r.Adapter == "" || !slices.Contains(b.adapters, r.Adapter)) {
		return false
	}
	for k, v := range b.labels {
		if got, ok := r.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// Authorizer answers for one security.json. It is immutable and safe for
// concurrent use; a nil *Authorizer denies everything.
type Authorizer struct {
	mode        mode
	defaultRole *role
	bindings    []binding
	// subjects maps "type/name" to the indices of the bindings naming it.
	subjects map[string][]int
}

// New compiles cfg's rbac block. A binding or default role naming a role
// that does not exist, or a custom role taking a built-in name, is an error:
// the previous configuration should stay in force.
func New(cfg *v1.SecurityConfig) (*Authorizer, error) {
	a := &Authorizer{subjects: map[string][]int{}}
	if cfg == nil || cfg.Spec.RBAC == nil {
		return a, nil
	}
	r := cfg.Spec.RBAC
	if !r.On() {
		a.mode = modeDisabled
		return a, nil
	}
	a.mode = modeEnabled
	roles, err := compileRoles(r.Roles)
	if err != nil {
		return nil, err
	}
	if r.DefaultRole != "" {
		if a.defaultRole = roles[r.DefaultRole]; a.defaultRole == nil {
			return nil, fmt.Errorf("rbac: default role %q does not exist", r.DefaultRole)
		}
	}
	for i, b := range r.Bindings {
		if err := a.addBinding(i, b, roles); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func compileRoles(custom []v1.Role) (map[string]*role, error) {
	roles := map[string]*role{}
	for name, perms := range builtin() {
		roles[name] = compileBuiltin(name, perms)
	}
	for _, c := range custom {
		if _, taken := roles[c.Name]; taken {
			return nil, fmt.Errorf("rbac: role %q is built in or declared twice", c.Name)
		}
		for _, p := range c.Permissions {
			if err := checkGrant(p); err != nil {
				return nil, fmt.Errorf("rbac: role %q: %w", c.Name, err)
			}
		}
		roles[c.Name] = compileCustom(c)
	}
	return roles, nil
}

func checkGrant(p v1.Permission) error {
	if p.Resource != v1.ResourceAll && !slices.Contains(resources, p.Resource) {
		return fmt.Errorf("unknown resource %q", p.Resource)
	}
	for _, a := range p.Actions {
		if a != v1.ActionAll && !slices.Contains(actions, a) {
			return fmt.Errorf("unknown action %q on %s", a, p.Resource)
		}
	}
	return nil
}

func (a *Authorizer) addBinding(i int, b v1.Binding, roles map[string]*role) error {
	r := roles[b.Role]
	if r == nil {
		return fmt.Errorf("rbac: binding %d: role %q does not exist", i, b.Role)
	}
	switch b.Subject.Type {
	case v1.SubjectUser, v1.SubjectGroup, v1.SubjectServiceAccount:
	default:
		return fmt.Errorf("rbac: binding %d: unknown subject type %q", i, b.Subject.Type)
	}
	cb := binding{index: i, role: r}
	if s := b.Scope; s != nil {
		cb.envs, cb.adapters = slices.Clone(s.Environments), slices.Clone(s.Adapters)
		if s.AdapterSelector != nil {
			cb.labels = maps.Clone(s.AdapterSelector.MatchLabels)
		}
	}
	a.bindings = append(a.bindings, cb)
	key := subjectKey(b.Subject.Type, b.Subject.Name)
	a.subjects[key] = append(a.subjects[key], len(a.bindings)-1)
	return nil
}

func subjectKey(typ, name string) string { return typ + "/" + name }

// Decide answers whether p may do perm on res.
func (a *Authorizer) Decide(p identity.Principal, perm Permission, res Resource) Decision {
	return a.view(p).decide(perm, &res)
}

// DecideAny answers whether p may do perm on at least one resource,
// ignoring binding scopes: a route-level check, to be followed by Decide or
// Filter on what the request touches.
func (a *Authorizer) DecideAny(p identity.Principal, perm Permission) Decision {
	return a.view(p).decide(perm, nil)
}

// Subject is one principal's view of the policy, worked out once, for
// deciding about many resources in one request.
type Subject struct{ v view }

// For returns p's view of the policy.
func (a *Authorizer) For(p identity.Principal) Subject { return Subject{v: a.view(p)} }

// Decide answers whether the subject may do perm on res.
func (s Subject) Decide(perm Permission, res Resource) Decision { return s.v.decide(perm, &res) }

// Filter keeps the items p may do perm on, in order; resource says what
// each item is.
func Filter[T any](a *Authorizer, p identity.Principal, perm Permission, items []T, resource func(T) Resource) []T {
	v := a.view(p)
	var out []T
	for _, it := range items {
		res := resource(it)
		if v.decide(perm, &res).Allowed {
			out = append(out, it)
		}
	}
	return out
}

// Visible keeps the adapters p may read.
func Visible[T any](a *Authorizer, p identity.Principal, adapters []T, resource func(T) Resource) []T {
	return Filter(a, p, ReadAdapters, adapters, resource)
}
