package helm

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/cairn-gitops/cairn/internal/health"
)

// What Helm puts on every object it applies.
const (
	managedByLabel        = "app.kubernetes.io/managed-by"
	releaseNameAnnotation = "meta.helm.sh/release-name"
	instanceLabel         = "app.kubernetes.io/instance"
)

// Health returns the health of every cairn-managed release in namespaces,
// keyed "namespace/name": the worst of its Deployments and
// PodDisruptionBudgets (see package health), Missing when it has no
// Deployment. Per namespace it makes three lists (release records,
// Deployments, PodDisruptionBudgets), whatever the number of releases.
// Objects are matched to releases by Helm's release-name annotation, or
// the chart's app.kubernetes.io/instance label.
func (c *Client) Health(ctx context.Context, namespaces []string) (map[string]health.Result, error) {
	out := map[string]health.Result{}
	for _, ns := range namespaces {
		if err := c.namespaceHealth(ctx, ns, out); err != nil {
			return nil, fmt.Errorf("helm: health of namespace %s: %w", ns, err)
		}
	}
	return out, nil
}

func (c *Client) namespaceHealth(ctx context.Context, ns string, out map[string]health.Result) error {
	recs, err := c.listRecords(ctx, ns, labels.Set{labelOwner: "helm", LabelManaged: "true"})
	if err != nil {
		return fmt.Errorf("list releases: %w", err)
	}
	byRelease := map[string][]health.Result{}
	hasDeployment := map[string]bool{}
	opts := metav1.ListOptions{LabelSelector: labels.Set{managedByLabel: "Helm"}.String()}
	deps, err := c.kube.AppsV1().Deployments(ns).List(ctx, opts)
	if err != nil {
		return fmt.Errorf("list Deployments: %w", err)
	}
	for i := range deps.Items {
		d := &deps.Items[i]
		d.Kind = "Deployment"
		name := releaseOf(d.ObjectMeta)
		byRelease[name] = append(byRelease[name], health.Deployment(d))
		hasDeployment[name] = true
	}
	pdbs, err := c.kube.PolicyV1().PodDisruptionBudgets(ns).List(ctx, opts)
	if err != nil {
		return fmt.Errorf("list PodDisruptionBudgets: %w", err)
	}
	for i := range pdbs.Items {
		p := &pdbs.Items[i]
		byRelease[releaseOf(p.ObjectMeta)] = append(byRelease[releaseOf(p.ObjectMeta)], health.PodDisruptionBudget(p))
	}
	for _, r := range latestOf(recs) {
		results := byRelease[r.Name]
		if !hasDeployment[r.Name] {
			results = append(results, health.Result{Status: health.Missing, Kind: "Deployment", Name: r.Name, Message: "no Deployment found"})
		}
		out[r.Key()] = health.Aggregate(results)
	}
	return nil
}

// releaseOf names the release an object belongs to.
func releaseOf(m metav1.ObjectMeta) string {
	if n := m.Annotations[releaseNameAnnotation]; n != "" {
		return n
	}
	return m.Labels[instanceLabel]
}
