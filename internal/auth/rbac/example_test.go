package rbac_test

import (
	"fmt"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth/identity"
	"github.com/cairn-gitops/cairn/internal/auth/rbac"
)

// An operator of uat is only a viewer of prod.
func ExampleAuthorizer_Decide() {
	group := func(role, env string) v1.Binding {
		return v1.Binding{Subject: v1.Subject{Type: v1.SubjectGroup, Name: "venue-connectivity"}, Role: role,
			Scope: &v1.BindingScope{Environments: []string{env}}}
	}
	a, err := rbac.New(&v1.SecurityConfig{Spec: v1.SecuritySpec{RBAC: &v1.RBAC{
		Bindings: []v1.Binding{group(v1.RoleOperator, "uat"), group(v1.RoleViewer, "prod")},
	}}})
	if err != nil {
		panic(err)
	}
	bob := identity.Principal{Kind: identity.User, Name: "bob@acme.example", Groups: []string{"venue-connectivity"}}
	for _, env := range []string{"uat", "prod"} {
		d := a.Decide(bob, rbac.CreateSync, rbac.Resource{Environment: env, Adapter: "lse-fix-primary"})
		fmt.Printf("%s: allowed=%v role=%s reason=%s\n", env, d.Allowed, d.Role, d.Reason)
	}
	// Output:
	// uat: allowed=true role=operator reason=granted
	// prod: allowed=false role=viewer reason=not-permitted
}
