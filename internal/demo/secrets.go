// Package demo runs cairn's demonstration: a local control plane, a Git
// repository made from examples/config-repo, the Secrets its adapters
// reference (with random placeholder values), and `cairn serve` following
// the repository. Tests use SeedSecrets too.
package demo

import (
	"context"
	"crypto/rand"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cairn-gitops/cairn/internal/manifest"
	"github.com/cairn-gitops/cairn/internal/validate"
)

// SeedSecrets creates the namespaces of the repository in dir and every
// Secret its adapters reference, each key holding a random placeholder
// (never a real credential). Existing Secrets are left alone. It returns
// how many Secrets it created.
func SeedSecrets(ctx context.Context, cs kubernetes.Interface, dir string) (int, error) {
	v, err := validate.New(validate.Options{})
	if err != nil {
		return 0, err
	}
	res, err := v.Validate(ctx, manifest.DirFS(dir))
	if err != nil {
		return 0, err
	}
	if !res.Valid() {
		f := res.Findings[0]
		return 0, fmt.Errorf("%s is not valid: %d findings; first: %s:%d %s", dir, len(res.Findings), f.File, f.Line, f.Message)
	}
	for _, env := range res.Repository.Spec.Environments {
		if err := ensureNamespace(ctx, cs, env.Namespace); err != nil {
			return 0, err
		}
	}
	n := 0
	for _, a := range res.Adapters {
		ns := res.Repository.Spec.Environments[a.Metadata.Environment].Namespace
		for _, ref := range a.SecretRefs() {
			created, err := ensureSecret(ctx, cs, ns, ref.Name, ref.Keys)
			if err != nil {
				return n, err
			}
			if created {
				n++
			}
		}
	}
	return n, nil
}

func ensureNamespace(ctx context.Context, cs kubernetes.Interface, name string) error {
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("namespace %s: %w", name, err)
	}
	return nil
}

func ensureSecret(ctx context.Context, cs kubernetes.Interface, ns, name string, keys []string) (bool, error) {
	data := map[string][]byte{}
	for _, k := range keys {
		data[k] = []byte("placeholder-" + rand.Text())
	}
	_, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"cairn.dev/demo": "true"}},
		Data:       data,
	}, metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("secret %s/%s: %w", ns, name, err)
	}
	return true, nil
}
