package rbac

import (
	"fmt"
	"slices"
	"strings"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// Permission is resource:action, such as "sync:create". Route tables name
// the permission each route needs.
type Permission string

// Permissions of cairn's API and portal. Reading a list is the same
// permission as reading one item: the list is filtered (Filter).
const (
	ReadStatus           Permission = "status:read"
	ReadAdapters         Permission = "adapters:read"
	SyncAdapters         Permission = "adapters:sync"
	ReadHistory          Permission = "history:read"
	ExportHistory        Permission = "history:export"
	ReadChangeRequests   Permission = "changerequests:read"
	ApproveChangeRequest Permission = "changerequests:approve"
	ReadSync             Permission = "sync:read"
	// CreateSync is the manual sync of an adapter or an environment.
	CreateSync     Permission = "sync:create"
	ReadSecurity   Permission = "security:read"
	UpdateSecurity Permission = "security:update"
	ReadWebhooks   Permission = "webhooks:read"
)

var (
	resources = []string{v1.ResourceAdapters, v1.ResourceHistory, v1.ResourceChangeRequests, v1.ResourceSync,
		v1.ResourceStatus, v1.ResourceSecurity, v1.ResourceWebhooks}
	actions = []string{v1.ActionRead, v1.ActionCreate, v1.ActionUpdate, v1.ActionDelete, v1.ActionSync,
		v1.ActionExport, v1.ActionApprove}
)

// ParsePermission reads "resource:action" and checks both against the
// schema's vocabulary (no wildcards: a request needs one concrete thing).
func ParsePermission(s string) (Permission, error) {
	r, a, ok := strings.Cut(s, ":")
	if !ok || !slices.Contains(resources, r) || !slices.Contains(actions, a) {
		return "", fmt.Errorf("permission %q: want resource:action (resources %s; actions %s)",
			s, strings.Join(resources, ", "), strings.Join(actions, ", "))
	}
	return Permission(s), nil
}

// Resource is the part before the colon.
func (p Permission) Resource() string {
	r, _, _ := strings.Cut(string(p), ":")
	return r
}

// Action is the part after the colon.
func (p Permission) Action() string {
	_, a, _ := strings.Cut(string(p), ":")
	return a
}

// grant is one resource and action a role allows; either may be "*".
type grant struct{ resource, action string }

func (g grant) allows(p Permission) bool {
	r, a, _ := strings.Cut(string(p), ":")
	return (g.resource == v1.ResourceAll || g.resource == r) && (g.action == v1.ActionAll || g.action == a)
}

// role is a compiled role: its name and grants.
type role struct {
	name   string
	grants []grant
}

func (r *role) allows(p Permission) bool {
	for _, g := range r.grants {
		if g.allows(p) {
			return true
		}
	}
	return false
}

// builtin lists the built-in roles' permissions; each role holds the ones
// of the roles below it.
func builtin() map[string][]Permission {
	viewer := []Permission{ReadStatus, ReadAdapters, ReadHistory}
	developer := append(slices.Clone(viewer), ReadChangeRequests, ReadSync)
	operator := append(slices.Clone(developer), CreateSync, SyncAdapters, ReadWebhooks)
	return map[string][]Permission{
		v1.RoleViewer:    viewer,
		v1.RoleDeveloper: developer,
		v1.RoleOperator:  operator,
		// admin: every action on every resource, the security configuration included.
		v1.RoleAdmin: {Permission(v1.ResourceAll + ":" + v1.ActionAll)},
	}
}

// BuiltinPermissions returns the permissions of a built-in role, for
// documentation and the portal; nil for any other name.
func BuiltinPermissions(name string) []Permission {
	return builtin()[name]
}

func compileBuiltin(name string, perms []Permission) *role {
	r := &role{name: name}
	for _, p := range perms {
		r.grants = append(r.grants, grant{p.Resource(), p.Action()})
	}
	return r
}

func compileCustom(c v1.Role) *role {
	r := &role{name: c.Name}
	for _, p := range c.Permissions {
		for _, a := range p.Actions {
			r.grants = append(r.grants, grant{p.Resource, a})
		}
	}
	return r
}

// scopesCover reports whether an API key's scopes include p.
func scopesCover(scopes []string, p Permission) bool {
	for _, s := range scopes {
		if s == v1.ScopeAdmin || s == string(p) {
			return true
		}
	}
	return false
}
