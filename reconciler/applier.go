package reconciler

import (
	"context"

	"github.com/cairn-gitops/cairn/internal/health"
	"github.com/cairn-gitops/cairn/internal/helm"
	"github.com/cairn-gitops/cairn/render"
)

// Applier changes and reads the cluster: Helm releases, the Secrets they
// reference, the health and drift of their objects. *helm.Client is one.
type Applier interface {
	List(ctx context.Context) ([]helm.Deployed, error)
	Apply(ctx context.Context, r helm.Release) (helm.Outcome, error)
	Uninstall(ctx context.Context, namespace, name string) (helm.Outcome, error)
	CheckSecrets(ctx context.Context, namespace string, refs []helm.SecretRef) ([]helm.MissingSecret, error)
	Health(ctx context.Context, namespaces []string) (map[string]health.Result, error)
	Drift(ctx context.Context, namespace string, objects []render.Object) ([]helm.ObjectDrift, error)
}

var _ Applier = (*helm.Client)(nil)
