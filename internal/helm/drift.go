package helm

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/cairn-gitops/cairn/internal/drift"
	"github.com/cairn-gitops/cairn/render"
)

// DriftState says how a live object stands against its rendered form.
type DriftState string

// Drift states.
const (
	InSync  DriftState = "in-sync"
	Changed DriftState = "changed"
	Missing DriftState = "missing"
)

// ObjectDrift is the drift of one rendered object.
type ObjectDrift struct {
	APIVersion, Kind, Name string
	State                  DriftState
	// Changes and Diff are set for Changed (see package drift); a Secret's
	// values are redacted.
	Changes []drift.Change
	Diff    string
}

// Live fetches the live object of each rendered object in namespace, in
// order, nil where it does not exist: one GET each, through the cached
// RESTMapper and a dynamic client.
func (c *Client) Live(ctx context.Context, namespace string, objects []render.Object) ([]*unstructured.Unstructured, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	out := make([]*unstructured.Unstructured, len(objects))
	for i, o := range objects {
		u, err := c.live(ctx, namespace, o)
		if err != nil {
			return nil, fmt.Errorf("helm: get %s %s/%s: %w", o.Kind, namespace, o.Name, err)
		}
		out[i] = u
	}
	return out, nil
}

func (c *Client) live(ctx context.Context, namespace string, o render.Object) (*unstructured.Unstructured, error) {
	gvk := schema.FromAPIVersionAndKind(o.APIVersion, o.Kind)
	mapping, err := c.getter.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, err
	}
	var res dynamic.ResourceInterface = c.dynamic.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		res = c.dynamic.Resource(mapping.Resource).Namespace(namespace)
	}
	u, err := res.Get(ctx, o.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return u, err
}

// Drift compares each rendered object of a release in namespace with its
// live object (Live; package drift): Missing, Changed with the changes and
// a unified diff, or InSync. The label app.kubernetes.io/managed-by, which
// Helm sets to "Helm" on every object it applies, is compared as Helm
// applied it.
func (c *Client) Drift(ctx context.Context, namespace string, objects []render.Object) ([]ObjectDrift, error) {
	wants := make([]map[string]any, len(objects))
	for i, o := range objects {
		want, err := drift.Decode([]byte(o.YAML))
		if err != nil {
			return nil, fmt.Errorf("helm: drift of %s %s/%s: %w", o.Kind, namespace, o.Name, err)
		}
		asHelmApplies(want)
		wants[i] = want
	}
	live, err := c.Live(ctx, namespace, objects)
	if err != nil {
		return nil, err
	}
	out := make([]ObjectDrift, len(objects))
	for i, o := range objects {
		d := ObjectDrift{APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, State: Missing}
		if live[i] != nil {
			rep := drift.CompareObjects(wants[i], live[i].Object)
			d.State, d.Changes, d.Diff = InSync, rep.Changes, rep.Diff
			if !rep.InSync() {
				d.State = Changed
			}
		}
		out[i] = d
	}
	return out, nil
}

// asHelmApplies sets the managed-by label as Helm overwrites it.
func asHelmApplies(obj map[string]any) {
	md, _ := obj["metadata"].(map[string]any)
	if md == nil {
		return
	}
	if l, ok := md["labels"].(map[string]any); ok {
		if _, set := l[managedByLabel]; set {
			l[managedByLabel] = "Helm"
		}
	}
}
