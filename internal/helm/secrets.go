package helm

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SecretRef names a Secret and the keys a release reads from it.
type SecretRef struct {
	Name string
	Keys []string
}

// MissingSecret is a referenced Secret that is absent or lacks keys.
type MissingSecret struct {
	Name string
	// Missing are the absent keys, sorted; nil when the whole Secret is
	// absent.
	Missing []string
	// Reason is for a person: `Secret prod/x not found`,
	// `Secret prod/x has no key "password"`.
	Reason string
}

// CheckSecrets reads each referenced Secret of namespace and returns what
// is missing, in the order of refs (refs to one Secret are merged). Only
// the names of the keys are looked at; no value is logged or returned. A
// Secret that cannot be read for another reason (forbidden, no connection)
// is an error, not a missing Secret.
func (c *Client) CheckSecrets(ctx context.Context, namespace string, refs []SecretRef) ([]MissingSecret, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var out []MissingSecret
	for _, ref := range mergeRefs(refs) {
		s, err := c.kube.CoreV1().Secrets(namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			out = append(out, MissingSecret{Name: ref.Name, Reason: fmt.Sprintf("Secret %s/%s not found", namespace, ref.Name)})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("helm: read Secret %s/%s: %w", namespace, ref.Name, err)
		}
		var missing []string
		for _, k := range ref.Keys {
			_, inData := s.Data[k]
			_, inString := s.StringData[k]
			if !inData && !inString {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			out = append(out, MissingSecret{Name: ref.Name, Missing: missing, Reason: missingKeys(namespace, ref.Name, missing)})
		}
	}
	return out, nil
}

// mergeRefs merges refs to the same Secret, keeping first appearance order
// and sorting each Secret's keys without duplicates.
func mergeRefs(refs []SecretRef) []SecretRef {
	var out []SecretRef
	index := map[string]int{}
	for _, r := range refs {
		i, ok := index[r.Name]
		if !ok {
			i = len(out)
			index[r.Name] = i
			out = append(out, SecretRef{Name: r.Name})
		}
		out[i].Keys = append(out[i].Keys, r.Keys...)
	}
	for i := range out {
		keys := out[i].Keys
		sort.Strings(keys)
		uniq := keys[:0]
		for j, k := range keys {
			if j == 0 || k != keys[j-1] {
				uniq = append(uniq, k)
			}
		}
		out[i].Keys = uniq
	}
	return out
}

func missingKeys(namespace, name string, keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = fmt.Sprintf("%q", k)
	}
	noun := "key"
	if len(keys) > 1 {
		noun = "keys"
	}
	return fmt.Sprintf("Secret %s/%s has no %s %s", namespace, name, noun, strings.Join(q, ", "))
}
