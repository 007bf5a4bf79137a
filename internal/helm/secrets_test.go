package helm

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestCheckSecrets(t *testing.T) {
	e := newEnv(t, Options{})
	ns := namespace("secrets")
	const password = "pa55-W0rd-never-shown"
	createSecret(t, e.kube, ns, "complete", map[string]string{"username": "acme-user", "password": password})
	createSecret(t, e.kube, ns, "partial", map[string]string{"username": "acme-user", "extra": password})
	tests := []struct {
		name string
		refs []SecretRef
		want []MissingSecret
	}{
		{"complete", []SecretRef{{Name: "complete", Keys: []string{"username", "password"}}}, nil},
		{"absent", []SecretRef{{Name: "absent", Keys: []string{"password"}}},
			[]MissingSecret{{Name: "absent", Reason: fmt.Sprintf("Secret %s/absent not found", ns)}}},
		{"missing a key", []SecretRef{{Name: "partial", Keys: []string{"username", "password"}}},
			[]MissingSecret{{Name: "partial", Missing: []string{"password"}, Reason: fmt.Sprintf("Secret %s/partial has no key \"password\"", ns)}}},
		{"refs merged", []SecretRef{{Name: "partial", Keys: []string{"tls.crt"}}, {Name: "complete", Keys: []string{"username"}}, {Name: "partial", Keys: []string{"password", "tls.crt"}}},
			[]MissingSecret{{Name: "partial", Missing: []string{"password", "tls.crt"}, Reason: fmt.Sprintf("Secret %s/partial has no keys \"password\", \"tls.crt\"", ns)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.c.CheckSecrets(context.Background(), ns, tt.refs)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CheckSecrets = %+v, want %+v", got, tt.want)
			}
			if s := fmt.Sprintf("%+v %#v", got, got); strings.Contains(s, password) || strings.Contains(s, "acme-user") {
				t.Errorf("a Secret value shows in the result: %s", s)
			}
		})
	}
}

// TestCheckSecretsForbidden checks that a Secret that cannot be read is an
// error, not a missing Secret, and that the error shows no value.
func TestCheckSecretsForbidden(t *testing.T) {
	cl := cluster.Get(t)
	cfg := cl.RESTConfig()
	cfg.BearerToken = "" // anonymous: forbidden
	c, err := New(Options{REST: cfg})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.CheckSecrets(context.Background(), "default", []SecretRef{{Name: "any", Keys: []string{"k"}}})
	if err == nil || got != nil || !strings.Contains(err.Error(), "forbidden") {
		t.Errorf("forbidden read: %+v %v, want an error", got, err)
	}
}
