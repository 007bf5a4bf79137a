package rbac

import (
	"slices"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth/identity"
)

// view is one principal's side of an Authorizer: the bindings that name it,
// found once for a Decide or a whole Filter.
type view struct {
	a        *Authorizer
	p        identity.Principal
	bindings []*binding // in the order of security.json
}

func (a *Authorizer) view(p identity.Principal) view {
	v := view{a: a, p: p}
	if a == nil || a.mode != modeEnabled || !p.Valid() {
		return v
	}
	var idx []int
	switch p.Kind {
	case identity.User:
		idx = append(idx, a.subjects[subjectKey(v1.SubjectUser, p.Name)]...)
	case identity.ServiceAccount:
		idx = append(idx, a.subjects[subjectKey(v1.SubjectServiceAccount, p.Name)]...)
	}
	for _, g := range p.Groups {
		idx = append(idx, a.subjects[subjectKey(v1.SubjectGroup, g)]...)
	}
	slices.Sort(idx)
	for _, i := range slices.Compact(idx) {
		v.bindings = append(v.bindings, &a.bindings[i])
	}
	return v
}

// decide answers for res, or for anywhere when res is nil.
func (v view) decide(perm Permission, res *Resource) Decision {
	d := Decision{Permission: perm, Binding: -1}
	switch {
	case !v.p.Valid():
		return d.deny(DeniedAnonymous)
	case v.a == nil || v.a.mode == modeMissing:
		return d.deny(DeniedNoPolicy)
	case v.a.mode == modeDisabled:
		d.Allowed, d.Reason = true, GrantedDisabled
		return v.keyScope(d)
	case len(v.bindings) == 0:
		return v.byDefault(d)
	}
	for _, b := range v.bindings {
		if res != nil && !b.covers(*res) {
			continue
		}
		if b.role.allows(perm) {
			d.Allowed, d.Role, d.Reason, d.Binding = true, b.role.name, Granted, b.index
			return v.keyScope(d)
		}
		if d.Role == "" {
			d.Role = b.role.name
		}
	}
	if d.Role == "" {
		return d.deny(DeniedOutOfScope)
	}
	return d.deny(DeniedNotPermitted)
}

// byDefault answers for a principal no binding names.
func (v view) byDefault(d Decision) Decision {
	r := v.a.defaultRole
	if r == nil {
		return d.deny(DeniedNoBinding)
	}
	d.Role = r.name
	if !r.allows(d.Permission) {
		return d.deny(DeniedNotPermitted)
	}
	d.Allowed, d.Reason = true, GrantedDefault
	return v.keyScope(d)
}

// keyScope narrows an allowed decision to an API key's scopes.
func (v view) keyScope(d Decision) Decision {
	if v.p.Method == identity.APIKey && !scopesCover(v.p.Scopes, d.Permission) {
		d.Binding = -1
		return d.deny(DeniedKeyScope)
	}
	return d
}

func (d Decision) deny(r Reason) Decision {
	d.Allowed, d.Reason = false, r
	return d
}
