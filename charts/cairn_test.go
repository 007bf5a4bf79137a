package charts_test

// Tests of the cairn chart (cairn itself): Helm's lint and engine on the
// chart's files, the rendered objects decoded strictly into the Kubernetes
// API types, and an install into a real control plane (TestCairnInstall).

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/big"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/cairn-gitops/cairn/charts"
	"github.com/cairn-gitops/cairn/internal/cli"
	"github.com/cairn-gitops/cairn/internal/health"
	"github.com/cairn-gitops/cairn/internal/helm"
	"github.com/cairn-gitops/cairn/internal/testcluster"
)

const (
	cairnDir       = "cairn" // the chart, relative to this package's directory
	cairnRelease   = "cairn"
	cairnNamespace = "cairn-system"
	cairnRepo      = "https://git.example.net/platform/connectivity-config.git"
)

// inlineSecrets stand for credentials someone might try to put in values.
// The schema refuses every such field; no error may repeat them.
var inlineSecrets = []string{"hunter2-Tr0ub4dor", "ghp_0123456789abcdefghijklmnopqrstuvwxyz", "whsec-5up3r-s3cr3t"}

// cairnValues returns the smallest values an install needs (git.repo is
// the one required value) with patches applied; keys are dotted paths.
func cairnValues(patches map[string]any) map[string]any {
	v := map[string]any{"git": map[string]any{"repo": cairnRepo}}
	for _, path := range slices.Sorted(maps.Keys(patches)) {
		setPath(v, path, patches[path])
	}
	return v
}

// setPath sets a dotted path in nested maps, creating the maps on the way.
func setPath(v map[string]any, path string, value any) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := v[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			v[k] = next
		}
		v = next
	}
	v[keys[len(keys)-1]] = value
}

// Value sets that must lint clean and render; each call returns fresh maps.
var cairnSets = []struct {
	name   string
	values func() map[string]any
}{
	// The chart's defaults; git.repo is the one value without a default.
	{"defaults", func() map[string]any { return cairnValues(nil) }},
	{"persistence-off", func() map[string]any {
		return cairnValues(map[string]any{"persistence.enabled": false, "replicas": 1})
	}},
	{"rbac-namespaced", func() map[string]any {
		return cairnValues(map[string]any{"rbac.namespaced": true, "rbac.namespaces": []any{"connectivity-prod", "connectivity-uat"}})
	}},
	{"network-sources", func() map[string]any {
		return cairnValues(map[string]any{
			"networkPolicy.ingress.from": []any{
				map[string]any{
					"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "ingress-nginx"}},
					"podSelector":       map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "ingress-nginx"}},
				},
				map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "monitoring"}}},
				map[string]any{"ipBlock": map[string]any{"cidr": "10.20.0.0/16", "except": []any{"10.20.99.0/24"}}},
			},
			"networkPolicy.ingress.webhookCIDRs":   []any{"192.30.252.0/22", "2a0a:a440::/29"},
			"networkPolicy.egress.apiServer":       map[string]any{"cidrs": []any{"172.16.0.10/32"}, "ports": []any{6443}},
			"networkPolicy.egress.git":             map[string]any{"cidrs": []any{"140.82.112.0/20"}, "ports": []any{443}},
			"networkPolicy.egress.postgresql.to":   []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.30.0.5/32"}}},
			"networkPolicy.egress.additional":      []any{map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "203.0.113.0/24"}}}, "ports": []any{443}}},
			"networkPolicy.egress.dns.podLabels":   map[string]any{"k8s-app": "kube-dns"},
			"networkPolicy.egress.dns.namespace":   "kube-system",
			"networkPolicy.egress.postgresql.port": 5433,
		})
	}},
	{"ssh-credentials", func() map[string]any {
		return cairnValues(map[string]any{
			"git.repo":        "git@github.com:acme/connectivity-config.git",
			"git.credentials": map[string]any{"existingSecret": "cairn-git", "sshKeyKey": "identity", "knownHostsKey": "known_hosts"},
		})
	}},
	{"token-webhook-digest", func() map[string]any {
		return cairnValues(map[string]any{
			"git.credentials": map[string]any{"existingSecret": "cairn-git", "usernameKey": "user", "tokenKey": "token"},
			"webhook":         map[string]any{"existingSecret": "cairn-webhook", "key": "hmac"},
			"image.digest":    "sha256:" + strings.Repeat("ab", 32),
			"reconcile":       map[string]any{"interval": "30s", "driftInterval": "1h", "drift": "correct"},
		})
	}},
	{"password-existing-claim", func() map[string]any {
		return cairnValues(map[string]any{
			"git.credentials":           map[string]any{"existingSecret": "cairn-git", "usernameKey": "username", "passwordKey": "password"},
			"persistence.existingClaim": "cairn-history",
			"replicas":                  1,
			"leaderElection.enabled":    false,
			"serviceAccount":            map[string]any{"create": false, "name": "platform-cairn"},
		})
	}},
	// One history in PostgreSQL for three replicas, signed with one key.
	{"audit-shared-store", func() map[string]any {
		return cairnValues(map[string]any{
			"replicas":                  3,
			"audit.postgresql":          map[string]any{"existingSecret": "cairn-audit-db", "key": "dsn"},
			"audit.signingKey":          map[string]any{"existingSecret": "cairn-audit-signing", "key": "ed25519"},
			"audit.logVolume.sizeLimit": "256Mi",
			"networkPolicy.egress.postgresql.to": []any{map[string]any{
				"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "databases"}},
				"podSelector":       map[string]any{"matchLabels": map[string]any{"cnpg.io/cluster": "cairn-audit"}},
			}},
		})
	}},
	// HTTP destinations' header Secrets, file destinations on a claim.
	{"audit-destinations", func() map[string]any {
		return cairnValues(map[string]any{
			"audit.secrets":                 []any{"siem-headers", "splunk.hec-token"},
			"audit.logVolume.existingClaim": "cairn-audit-logs",
		})
	}},
	{"audit-log-off", func() map[string]any {
		return cairnValues(map[string]any{"audit.logVolume.enabled": false})
	}},
	// HTTPS from a kubernetes.io/tls Secret with its usual keys, behind an
	// ingress controller admitted to the port by number.
	{"tls", func() map[string]any {
		return cairnValues(map[string]any{
			"tls.existingSecret": "cairn-tls",
			"networkPolicy.ingress.from": []any{map[string]any{
				"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "ingress-nginx"}},
			}},
		})
	}},
	// Mutual TLS, every key name overridden.
	{"mtls", func() map[string]any {
		return cairnValues(map[string]any{
			"tls": map[string]any{
				"existingSecret": "cairn-server-tls", "certKey": "server.pem", "keyKey": "server-key.pem",
				"clientCA": map[string]any{"existingSecret": "cairn-client-ca", "key": "bundle.pem"},
			},
		})
	}},
	// cert-manager's Secret holds the issuing CA as ca.crt: the client CA
	// from the same Secret, with the default key.
	{"mtls-cert-manager", func() map[string]any {
		return cairnValues(map[string]any{"tls.existingSecret": "cairn-tls", "tls.clientCA.existingSecret": "cairn-tls"})
	}},
	// The browser login over plain HTTP (TLS ends at the ingress), the
	// OpenID provider admitted by networkPolicy.egress.additional.
	{"oidc", func() map[string]any {
		return cairnValues(map[string]any{
			"oidc.clientSecret": map[string]any{"existingSecret": "cairn-oidc", "key": "client-secret"},
			"networkPolicy.egress.additional": []any{map[string]any{
				"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "198.51.100.0/24"}}}, "ports": []any{443},
			}},
		})
	}},
}

func TestCairnLint(t *testing.T) {
	for _, set := range cairnSets {
		t.Run(set.name, func(t *testing.T) {
			l := lint.All(cairnDir, set.values(), cairnNamespace, false)
			for _, m := range l.Messages {
				t.Errorf("lint: %s", m)
			}
			if l.HighestSeverity != support.UnknownSev {
				t.Errorf("lint: highest severity %d, want none", l.HighestSeverity)
			}
		})
	}
}

// TestCairnLintNeedsRepo: the chart's defaults alone are refused, with one
// error that names git.repo: there is no pretend default repository.
func TestCairnLintNeedsRepo(t *testing.T) {
	l := lint.All(cairnDir, nil, cairnNamespace, false)
	var errs []string
	for _, m := range l.Messages {
		if m.Severity == support.ErrorSev {
			errs = append(errs, m.Error())
		}
	}
	if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "/git/repo") {
		t.Errorf("lint of the bare defaults: errors %q, want one naming /git/repo", errs)
	}
}

// TestCairnValuesRejected: values that break the contract fail lint with an
// error naming the field, and never echo a value given for a secret.
func TestCairnValuesRejected(t *testing.T) {
	tests := []struct {
		name    string
		patches map[string]any
		field   string // what the error must name
	}{
		// Inline credentials: there is no field for one.
		{"inline git password", map[string]any{"git.credentials.password": inlineSecrets[0]}, "password"},
		{"inline git token", map[string]any{"git.token": inlineSecrets[1]}, "token"},
		{"inline ssh key", map[string]any{"git.credentials.sshKey": "-----BEGIN OPENSSH PRIVATE KEY-----"}, "sshKey"},
		{"inline webhook secret", map[string]any{"webhook.secret": inlineSecrets[2]}, "secret"},
		{"environment variables", map[string]any{"env": []any{map[string]any{"name": "GIT_PASSWORD", "value": inlineSecrets[0]}}}, "env"},
		{"extra arguments", map[string]any{"extraArgs": []any{"--git-password=" + inlineSecrets[0]}}, "extraArgs"},
		{"password in the repository URL", map[string]any{"git.repo": "https://cairn-bot:" + inlineSecrets[1] + "@github.com/acme/config.git"}, "/git/repo"},
		{"password with @ and a space in the URL", map[string]any{"git.repo": "https://cairn-bot:" + inlineSecrets[0] + "@x @github.com/acme/config.git"}, "/git/repo"},
		// Numbers and enums.
		{"replicas negative", map[string]any{"replicas": -1}, "/replicas"},
		{"replicas not a number", map[string]any{"replicas": "two"}, "/replicas"},
		{"bad drift mode", map[string]any{"reconcile.drift": "fix"}, "/reconcile/drift"},
		{"interval not a duration", map[string]any{"reconcile.interval": "1 minute"}, "/reconcile/interval"},
		{"branch like a flag", map[string]any{"git.branch": "--upload-pack=x"}, "/git/branch"},
		{"no repository", map[string]any{"git.repo": ""}, "/git/repo"},
		{"read-only volume", map[string]any{"persistence.accessModes": []any{"ReadOnlyMany"}}, "/persistence/accessModes/0"},
		// Combinations.
		{"replicas without leader election", map[string]any{"leaderElection.enabled": false}, "/leaderElection/enabled"},
		{"existing claim shared by two replicas", map[string]any{"persistence.existingClaim": "cairn-history"}, "/replicas"},
		{"keys without a Secret", map[string]any{"git.credentials.tokenKey": "token"}, "/git/credentials/tokenKey"},
		{"Secret without a method", map[string]any{"git.credentials.existingSecret": "cairn-git"}, "/git/credentials"},
		{"password without username", map[string]any{"git.credentials": map[string]any{"existingSecret": "cairn-git", "passwordKey": "password"}}, "/git/credentials/usernameKey"},
		{"ssh key without known_hosts", map[string]any{"git.credentials": map[string]any{"existingSecret": "cairn-git", "sshKeyKey": "identity"}}, "/git/credentials/knownHostsKey"},
		{"token and password", map[string]any{"git.credentials": map[string]any{"existingSecret": "cairn-git", "usernameKey": "u", "passwordKey": "p", "tokenKey": "t"}}, "/git/credentials"},
		{"webhook Secret without key", map[string]any{"webhook.existingSecret": "cairn-webhook"}, "/webhook/key"},
		{"namespaced without namespaces", map[string]any{"rbac.namespaced": true}, "/rbac/namespaces"},
		{"namespaces without namespaced", map[string]any{"rbac.namespaces": []any{"connectivity-prod"}}, "/rbac/namespaces"},
		{"no ServiceAccount name", map[string]any{"serviceAccount.create": false}, "/serviceAccount/name"},
		{"empty peer admits all", map[string]any{"networkPolicy.ingress.from": []any{map[string]any{}}}, "/networkPolicy/ingress/from/0"},
		{"empty selector", map[string]any{"networkPolicy.ingress.from": []any{map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{}}}}}, "/networkPolicy/ingress/from/0"},
		{"not a CIDR", map[string]any{"networkPolicy.ingress.webhookCIDRs": []any{"hooks.github.com"}}, "/networkPolicy/ingress/webhookCIDRs/0"},
		{"additional egress without ports", map[string]any{"networkPolicy.egress.additional": []any{map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "203.0.113.0/24"}}}, "ports": []any{}}}}, "/networkPolicy/egress/additional/0/ports"},
		{"null wipes a key", map[string]any{"persistence.size": nil}, "size"},
		// The audit trail: references only, and a reachable shared store.
		{"inline DSN", map[string]any{"audit.postgresql.dsn": "postgres://cairn:" + inlineSecrets[0] + "@db.example.net/cairn"}, "dsn"},
		{"inline signing key", map[string]any{"audit.signingKey.privateKey": "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI" + inlineSecrets[1]}, "privateKey"},
		{"inline audit header", map[string]any{"audit.secrets": []any{map[string]any{"name": "siem", "Authorization": "Bearer " + inlineSecrets[1]}}}, "/audit/secrets/0"},
		{"audit headers map", map[string]any{"audit.headers": map[string]any{"Authorization": "Bearer " + inlineSecrets[1]}}, "headers"},
		{"DSN Secret without key", map[string]any{"audit.postgresql.existingSecret": "cairn-audit-db"}, "/audit/postgresql/key"},
		{"DSN key without Secret", map[string]any{"audit.postgresql.key": "dsn"}, "/audit/postgresql/key"},
		{"signing key Secret without key", map[string]any{"audit.signingKey.existingSecret": "cairn-audit-signing"}, "/audit/signingKey/key"},
		{"shared store unreachable through the policy", map[string]any{"audit.postgresql": map[string]any{"existingSecret": "cairn-audit-db", "key": "dsn"}}, "/networkPolicy/egress/postgresql/to"},
		{"audit Secret not a name", map[string]any{"audit.secrets": []any{"../git"}}, "/audit/secrets/0"},
		{"audit Secret twice", map[string]any{"audit.secrets": []any{"siem", "siem"}}, "/audit/secrets"},
		{"log claim without the volume", map[string]any{"audit.logVolume": map[string]any{"enabled": false, "sizeLimit": "1Gi", "existingClaim": "cairn-audit-logs"}}, "/audit/logVolume/existingClaim"},
		{"log size not a quantity", map[string]any{"audit.logVolume.sizeLimit": "1 GB"}, "/audit/logVolume/sizeLimit"},
		// TLS and the browser login: references only, whole references.
		{"inline certificate", map[string]any{"tls.cert": testPEM("CERTIFICATE", inlineSecrets[1])}, "cert"},
		{"inline TLS private key", map[string]any{"tls.key": testPEM("PRIVATE KEY", inlineSecrets[0])}, "'key'"},
		{"inline TLS Secret data", map[string]any{"tls.data": map[string]any{"tls.key": testPEM("PRIVATE KEY", inlineSecrets[0])}}, "data"},
		{"inline client CA", map[string]any{"tls.clientCA.caBundle": testPEM("CERTIFICATE", inlineSecrets[1])}, "caBundle"},
		{"inline OpenID client secret", map[string]any{"oidc.clientSecret.value": inlineSecrets[0]}, "value"},
		{"OpenID client secret as a string", map[string]any{"oidc.clientSecret": inlineSecrets[0]}, "/oidc/clientSecret"},
		{"OpenID client secret beside the reference", map[string]any{"oidc.clientSecret": map[string]any{"existingSecret": "cairn-oidc", "key": "client-secret", "clientSecret": inlineSecrets[0]}}, "clientSecret"},
		{"client CA without TLS", map[string]any{"tls.clientCA.existingSecret": "cairn-client-ca"}, "/tls/existingSecret"},
		{"TLS Secret without its certificate key", map[string]any{"tls.existingSecret": "cairn-tls", "tls.certKey": ""}, "/tls/certKey"},
		{"TLS Secret without its private key key", map[string]any{"tls.existingSecret": "cairn-tls", "tls.keyKey": ""}, "/tls/keyKey"},
		{"client CA Secret without key", map[string]any{"tls.existingSecret": "cairn-tls", "tls.clientCA": map[string]any{"existingSecret": "cairn-client-ca", "key": ""}}, "/tls/clientCA/key"},
		{"OpenID Secret without key", map[string]any{"oidc.clientSecret.existingSecret": "cairn-oidc"}, "/oidc/clientSecret/key"},
		{"OpenID key without Secret", map[string]any{"oidc.clientSecret.key": "client-secret"}, "/oidc/clientSecret/key"},
		{"TLS key name a path", map[string]any{"tls.existingSecret": "cairn-tls", "tls.certKey": "../tls.crt"}, "/tls/certKey"},
		{"TLS Secret not a name", map[string]any{"tls.existingSecret": "Cairn_TLS"}, "/tls/existingSecret"},
		{"private key for the TLS Secret's name", map[string]any{"tls.existingSecret": testPEM("PRIVATE KEY", inlineSecrets[0])}, "/tls/existingSecret"},
		{"certificate for its key's name", map[string]any{"tls.existingSecret": "cairn-tls", "tls.certKey": testPEM("CERTIFICATE", inlineSecrets[1])}, "/tls/certKey"},
		{"token for the OpenID Secret's name", map[string]any{"oidc.clientSecret": map[string]any{"existingSecret": inlineSecrets[1], "key": "client-secret"}}, "/oidc/clientSecret/existingSecret"},
		{"client CA for the Secret's name", map[string]any{"tls.existingSecret": "cairn-tls", "tls.clientCA.existingSecret": testPEM("CERTIFICATE", inlineSecrets[1])}, "/tls/clientCA/existingSecret"},
		{"null wipes the client CA", map[string]any{"tls.clientCA": nil}, "clientCA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := lint.All(cairnDir, cairnValues(tt.patches), cairnNamespace, false)
			if l.HighestSeverity != support.ErrorSev {
				t.Fatalf("lint: highest severity %d, want an error naming %s", l.HighestSeverity, tt.field)
			}
			var all []string
			for _, m := range l.Messages {
				all = append(all, m.Error())
			}
			msg := strings.Join(all, "\n")
			t.Log(msg)
			if !strings.Contains(msg, tt.field) {
				t.Errorf("lint does not name %s:\n%s", tt.field, msg)
			}
			for _, secret := range inlineSecrets {
				if strings.Contains(msg, secret) {
					t.Errorf("lint echoes a secret value:\n%s", msg)
				}
			}
		})
	}
}

// cairnObjects are the rendered objects by kind, decoded strictly.
type cairnObjects struct {
	keys                []string // "Kind namespace/name", sorted
	labels              map[string]map[string]string
	serviceAccount      *corev1.ServiceAccount
	service             *corev1.Service
	statefulSet         *appsv1.StatefulSet
	pdb                 *policyv1.PodDisruptionBudget
	networkPolicy       *networkingv1.NetworkPolicy
	clusterRoles        map[string]*rbacv1.ClusterRole
	clusterRoleBindings map[string]*rbacv1.ClusterRoleBinding
	roles               map[string]*rbacv1.Role // "namespace/name"; "" is the release namespace
	roleBindings        map[string]*rbacv1.RoleBinding
}

func loadCairn(t testing.TB) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(cairnDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	return ch
}

// renderCairn renders vals as `helm install cairn -n cairn-system` would,
// in strict mode (a reference to an undefined value is an error). NOTES.txt
// and helpers are left out.
func renderCairn(ch *chart.Chart, vals map[string]any) (map[string]string, error) {
	rv, err := chartutil.ToRenderValues(ch, vals,
		chartutil.ReleaseOptions{Name: cairnRelease, Namespace: cairnNamespace, Revision: 1, IsInstall: true},
		chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	files, err := engine.Engine{Strict: true}.Render(ch, rv)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for name, content := range files {
		base := name[strings.LastIndex(name, "/")+1:]
		if strings.HasPrefix(base, "_") || base == "NOTES.txt" || strings.TrimSpace(content) == "" {
			continue
		}
		out[name] = content
	}
	return out, nil
}

// documents splits a rendered file into its YAML documents.
func documents(content string) []string {
	var docs []string
	for _, doc := range strings.Split("\n"+content, "\n---\n") {
		if strings.TrimSpace(doc) != "" {
			docs = append(docs, doc)
		}
	}
	return docs
}

func decodeCairn(t *testing.T, files map[string]string) cairnObjects {
	t.Helper()
	o := cairnObjects{
		labels:              map[string]map[string]string{},
		clusterRoles:        map[string]*rbacv1.ClusterRole{},
		clusterRoleBindings: map[string]*rbacv1.ClusterRoleBinding{},
		roles:               map[string]*rbacv1.Role{},
		roleBindings:        map[string]*rbacv1.RoleBinding{},
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		for _, doc := range documents(files[name]) {
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name      string            `json:"name"`
					Namespace string            `json:"namespace"`
					Labels    map[string]string `json:"labels"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("%s is not YAML: %v\n%s", name, err, doc)
			}
			nsName := head.Metadata.Namespace + "/" + head.Metadata.Name
			var obj any
			switch head.APIVersion + " " + head.Kind {
			case "v1 ServiceAccount":
				o.serviceAccount = new(corev1.ServiceAccount)
				obj = o.serviceAccount
			case "v1 Service":
				o.service = new(corev1.Service)
				obj = o.service
			case "apps/v1 StatefulSet":
				o.statefulSet = new(appsv1.StatefulSet)
				obj = o.statefulSet
			case "policy/v1 PodDisruptionBudget":
				o.pdb = new(policyv1.PodDisruptionBudget)
				obj = o.pdb
			case "networking.k8s.io/v1 NetworkPolicy":
				o.networkPolicy = new(networkingv1.NetworkPolicy)
				obj = o.networkPolicy
			case "rbac.authorization.k8s.io/v1 ClusterRole":
				r := new(rbacv1.ClusterRole)
				o.clusterRoles[head.Metadata.Name], obj = r, r
			case "rbac.authorization.k8s.io/v1 ClusterRoleBinding":
				r := new(rbacv1.ClusterRoleBinding)
				o.clusterRoleBindings[head.Metadata.Name], obj = r, r
			case "rbac.authorization.k8s.io/v1 Role":
				r := new(rbacv1.Role)
				o.roles[nsName], obj = r, r
			case "rbac.authorization.k8s.io/v1 RoleBinding":
				r := new(rbacv1.RoleBinding)
				o.roleBindings[nsName], obj = r, r
			default:
				// A Secret above all: the chart never renders one.
				t.Fatalf("%s renders an unexpected object %s %s", name, head.APIVersion, head.Kind)
			}
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Fatalf("%s: not a valid %s: %v\n%s", name, head.Kind, err, doc)
			}
			key := head.Kind + " " + nsName
			if _, dup := o.labels[key]; dup {
				t.Fatalf("%s rendered twice", key)
			}
			o.labels[key] = head.Metadata.Labels
			o.keys = append(o.keys, key)
		}
	}
	slices.Sort(o.keys)
	return o
}

// expectation of a values set, beyond what every set shares.
type cairnExpectation struct {
	objects []string // "Kind namespace/name"; the release namespace is ""
	args    []string // the container's args after the common ones
	image   string
	// state is the store's volume: "template" (volumeClaimTemplates),
	// "emptyDir", or the name of an existing claim.
	state    string
	replicas int32
	sa       string                 // the ServiceAccount the pods run as
	secrets  map[string]secretMount // volume name -> what it mounts
	// auditLog is the volume at /var/log/cairn: "emptyDir:<sizeLimit>", the
	// name of an existing claim, or "" for none.
	auditLog  string
	ingress   []networkingv1.NetworkPolicyIngressRule
	egress    []networkingv1.NetworkPolicyEgressRule
	leaseRole bool // the leader-election Role and RoleBinding
	// tls: cairn serves HTTPS: port 8080 is named https on the container
	// and the Service, and the probes use HTTPS.
	tls bool
}

type secretMount struct {
	secret string
	items  []corev1.KeyToPath
	path   string
}

var (
	tcp, udp = corev1.ProtocolTCP, corev1.ProtocolUDP
	allVerbs = []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	readOnly = []string{"get", "list", "watch"}
)

func npPort(proto *corev1.Protocol, n int) networkingv1.NetworkPolicyPort {
	p := intstr.FromInt32(int32(n))
	return networkingv1.NetworkPolicyPort{Protocol: proto, Port: &p}
}

func tcpPorts(ns ...int) []networkingv1.NetworkPolicyPort {
	var out []networkingv1.NetworkPolicyPort
	for _, n := range ns {
		out = append(out, npPort(&tcp, n))
	}
	return out
}

func ipPeer(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
}

func labelSel(k, v string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{k: v}}
}

// dnsRule is the DNS egress rule of the default values.
var dnsRule = networkingv1.NetworkPolicyEgressRule{
	To: []networkingv1.NetworkPolicyPeer{{
		NamespaceSelector: labelSel("kubernetes.io/metadata.name", "kube-system"),
		PodSelector:       labelSel("k8s-app", "kube-dns"),
	}},
	Ports: []networkingv1.NetworkPolicyPort{npPort(&udp, 53), npPort(&tcp, 53)},
}

// defaultEgress: DNS, then the API server and the Git host by port only.
var defaultEgress = []networkingv1.NetworkPolicyEgressRule{
	dnsRule,
	{Ports: tcpPorts(443, 6443)},
	{Ports: tcpPorts(443, 22)},
}

// adapterRules are the rules of the namespaces cairn applies adapters to;
// cairn gets exactly these, nothing more.
var adapterRules = []rbacv1.PolicyRule{
	{APIGroups: []string{""}, Resources: []string{"configmaps", "secrets", "serviceaccounts", "services"}, Verbs: allVerbs},
	{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: allVerbs},
	{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: allVerbs},
	{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: allVerbs},
	{APIGroups: []string{""}, Resources: []string{"events", "pods"}, Verbs: readOnly},
	{APIGroups: []string{"apps"}, Resources: []string{"replicasets"}, Verbs: readOnly},
}

// clusterRules: the adapter rules anywhere, and namespaces get/create.
var clusterRules = append(slices.Clone(adapterRules),
	rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"create", "get"}})

// leaseRules: get and update the one Lease, create a Lease.
var leaseRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: []string{"cairn"}, Verbs: []string{"get", "update"}},
	{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"create"}},
}

// commonObjects are rendered by the defaults.
var commonObjects = []string{
	"ClusterRole /cairn-system-cairn",
	"ClusterRoleBinding /cairn-system-cairn",
	"NetworkPolicy /cairn",
	"PodDisruptionBudget /cairn",
	"Role /cairn-leader-election",
	"RoleBinding /cairn-leader-election",
	"Service /cairn",
	"ServiceAccount /cairn",
	"StatefulSet /cairn",
}

// defaultAuditLog is the file destinations' volume of the defaults.
const defaultAuditLog = "emptyDir:1Gi"

var leaderArgs = []string{"--leader-elect", "--lease-namespace=$(POD_NAMESPACE)", "--lease-name=cairn"}

func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return slices.Contains(drop, s) })
}

func withObjects(list []string, add ...string) []string {
	out := append(slices.Clone(list), add...)
	slices.Sort(out)
	return out
}

var cairnExpectations = map[string]cairnExpectation{
	"defaults": {
		objects: commonObjects, args: leaderArgs, image: "ghcr.io/cairn-gitops/cairn:0.1.0",
		state: "template", replicas: 2, sa: "cairn", auditLog: defaultAuditLog, egress: defaultEgress, leaseRole: true,
	},
	"persistence-off": {
		objects: without(commonObjects, "PodDisruptionBudget /cairn"), args: leaderArgs, image: "ghcr.io/cairn-gitops/cairn:0.1.0",
		state: "emptyDir", replicas: 1, sa: "cairn", auditLog: defaultAuditLog, egress: defaultEgress, leaseRole: true,
	},
	"rbac-namespaced": {
		objects: withObjects(commonObjects,
			"Role connectivity-prod/cairn", "RoleBinding connectivity-prod/cairn",
			"Role connectivity-uat/cairn", "RoleBinding connectivity-uat/cairn"),
		args: leaderArgs, image: "ghcr.io/cairn-gitops/cairn:0.1.0",
		state: "template", replicas: 2, sa: "cairn", auditLog: defaultAuditLog, egress: defaultEgress, leaseRole: true,
	},
	"network-sources": {
		objects: commonObjects, args: leaderArgs, image: "ghcr.io/cairn-gitops/cairn:0.1.0",
		state: "template", replicas: 2, sa: "cairn", auditLog: defaultAuditLog, leaseRole: true,
		ingress: []networkingv1.NetworkPolicyIngressRule{{
			From: []networkingv1.NetworkPolicyPeer{
				{
					NamespaceSelector: labelSel("kubernetes.io/metadata.name", "ingress-nginx"),
					PodSelector:       labelSel("app.kubernetes.io/name", "ingress-nginx"),
				},
				{NamespaceSelector: labelSel("kubernetes.io/metadata.name", "monitoring")},
				ipPeer("10.20.0.0/16", "10.20.99.0/24"),
				ipPeer("192.30.252.0/22"),
				ipPeer("2a0a:a440::/29"),
			},
			Ports: tcpPorts(8080),
		}},
		egress: []networkingv1.NetworkPolicyEgressRule{
			dnsRule,
			{Ports: tcpPorts(6443), To: []networkingv1.NetworkPolicyPeer{ipPeer("172.16.0.10/32")}},
			{Ports: tcpPorts(443), To: []networkingv1.NetworkPolicyPeer{ipPeer("140.82.112.0/20")}},
			{Ports: tcpPorts(5433), To: []networkingv1.NetworkPolicyPeer{ipPeer("10.30.0.5/32")}},
			{Ports: tcpPorts(443), To: []networkingv1.NetworkPolicyPeer{ipPeer("203.0.113.0/24")}},
		},
	},
	"ssh-credentials": {
		objects: commonObjects,
		args:    append(slices.Clone(leaderArgs), "--ssh-key-file=/etc/cairn/git/ssh-key", "--known-hosts-file=/etc/cairn/git/known_hosts"),
		image:   "ghcr.io/cairn-gitops/cairn:0.1.0",
		state:   "template", replicas: 2, sa: "cairn", auditLog: defaultAuditLog, egress: defaultEgress, leaseRole: true,
		secrets: map[string]secretMount{"git-credentials": {secret: "cairn-git", path: "/etc/cairn/git", items: []corev1.KeyToPath{
			{Key: "identity", Path: "ssh-key"}, {Key: "known_hosts", Path: "known_hosts"},
		}}},
	},
	"token-webhook-digest": {
		objects: commonObjects,
		args: append(slices.Clone(leaderArgs), "--git-username-file=/etc/cairn/git/username", "--git-token-file=/etc/cairn/git/token",
			"--webhook-secret-file=/etc/cairn/webhook/secret"),
		image: "ghcr.io/cairn-gitops/cairn@sha256:" + strings.Repeat("ab", 32),
		state: "template", replicas: 2, sa: "cairn", auditLog: defaultAuditLog, egress: defaultEgress, leaseRole: true,
		secrets: map[string]secretMount{
			"git-credentials": {secret: "cairn-git", path: "/etc/cairn/git", items: []corev1.KeyToPath{
				{Key: "user", Path: "username"}, {Key: "token", Path: "token"},
			}},
			"webhook-secret": {secret: "cairn-webhook", path: "/etc/cairn/webhook", items: []corev1.KeyToPath{{Key: "hmac", Path: "secret"}}},
		},
	},
	"password-existing-claim": {
		objects: without(commonObjects, "PodDisruptionBudget /cairn", "ServiceAccount /cairn",
			"Role /cairn-leader-election", "RoleBinding /cairn-leader-election"),
		args:  []string{"--git-username-file=/etc/cairn/git/username", "--git-password-file=/etc/cairn/git/password"},
		image: "ghcr.io/cairn-gitops/cairn:0.1.0",
		state: "cairn-history", replicas: 1, sa: "platform-cairn", auditLog: defaultAuditLog, egress: defaultEgress,
		secrets: map[string]secretMount{"git-credentials": {secret: "cairn-git", path: "/etc/cairn/git", items: []corev1.KeyToPath{
			{Key: "username", Path: "username"}, {Key: "password", Path: "password"},
		}}},
	},
	"audit-shared-store": {
		objects: commonObjects,
		args: append(slices.Clone(leaderArgs), "--history-dsn-file=/etc/cairn/history/dsn",
			"--audit-signing-key-file=/etc/cairn/audit-signing/key.pem"),
		image: "ghcr.io/cairn-gitops/cairn:0.1.0",
		state: "template", replicas: 3, sa: "cairn", auditLog: "emptyDir:256Mi", leaseRole: true,
		secrets: map[string]secretMount{
			"history-dsn": {secret: "cairn-audit-db", path: "/etc/cairn/history", items: []corev1.KeyToPath{{Key: "dsn", Path: "dsn"}}},
			"audit-signing-key": {secret: "cairn-audit-signing", path: "/etc/cairn/audit-signing", items: []corev1.KeyToPath{
				{Key: "ed25519", Path: "key.pem"},
			}},
		},
		egress: append(slices.Clone(defaultEgress), networkingv1.NetworkPolicyEgressRule{
			Ports: tcpPorts(5432),
			To: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: labelSel("kubernetes.io/metadata.name", "databases"),
				PodSelector:       labelSel("cnpg.io/cluster", "cairn-audit"),
			}},
		}),
	},
	"audit-destinations": {
		objects: commonObjects,
		args:    append(slices.Clone(leaderArgs), "--audit-secrets-dir=/etc/cairn/audit-secrets"),
		image:   "ghcr.io/cairn-gitops/cairn:0.1.0",
		state:   "template", replicas: 2, sa: "cairn", auditLog: "cairn-audit-logs", egress: defaultEgress, leaseRole: true,
		// Whole Secrets (no items): their keys are the header names.
		secrets: map[string]secretMount{
			"audit-secret-0": {secret: "siem-headers", path: "/etc/cairn/audit-secrets/siem-headers"},
			"audit-secret-1": {secret: "splunk.hec-token", path: "/etc/cairn/audit-secrets/splunk.hec-token"},
		},
	},
	"audit-log-off": {
		objects: commonObjects, args: leaderArgs, image: "ghcr.io/cairn-gitops/cairn:0.1.0",
		state: "template", replicas: 2, sa: "cairn", egress: defaultEgress, leaseRole: true,
	},
	"tls": {
		objects: commonObjects,
		args:    append(slices.Clone(leaderArgs), "--tls-cert-file=/etc/cairn/tls/tls.crt", "--tls-key-file=/etc/cairn/tls/tls.key"),
		image:   "ghcr.io/cairn-gitops/cairn:0.1.0",
		state:   "template", replicas: 2, sa: "cairn", auditLog: defaultAuditLog, egress: defaultEgress, leaseRole: true, tls: true,
		secrets: map[string]secretMount{"tls": {secret: "cairn-tls", path: "/etc/cairn/tls", items: []corev1.KeyToPath{
			{Key: "tls.crt", Path: "tls.crt"}, {Key: "tls.key", Path: "tls.key"},
		}}},
		// The port by number: the same rule whatever the port's name.
		ingress: []networkingv1.NetworkPolicyIngressRule{{
			From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: labelSel("kubernetes.io/metadata.name", "ingress-nginx")}},
			Ports: tcpPorts(8080),
		}},
	},
	"mtls": {
		objects: commonObjects,
		args: append(slices.Clone(leaderArgs), "--tls-cert-file=/etc/cairn/tls/tls.crt", "--tls-key-file=/etc/cairn/tls/tls.key",
			"--client-ca-file=/etc/cairn/client-ca/ca.crt"),
		image: "ghcr.io/cairn-gitops/cairn:0.1.0",
		state: "template", replicas: 2, sa: "cairn", auditLog: defaultAuditLog, egress: defaultEgress, leaseRole: true, tls: true,
		secrets: map[string]secretMount{
			"tls": {secret: "cairn-server-tls", path: "/etc/cairn/tls", items: []corev1.KeyToPath{
				{Key: "server.pem", Path: "tls.crt"}, {Key: "server-key.pem", Path: "tls.key"},
			}},
			"client-ca": {secret: "cairn-client-ca", path: "/etc/cairn/client-ca", items: []corev1.KeyToPath{{Key: "bundle.pem", Path: "ca.crt"}}},
		},
	},
	"mtls-cert-manager": {
		objects: commonObjects,
		args: append(slices.Clone(leaderArgs), "--tls-cert-file=/etc/cairn/tls/tls.crt", "--tls-key-file=/etc/cairn/tls/tls.key",
			"--client-ca-file=/etc/cairn/client-ca/ca.crt"),
		image: "ghcr.io/cairn-gitops/cairn:0.1.0",
		state: "template", replicas: 2, sa: "cairn", auditLog: defaultAuditLog, egress: defaultEgress, leaseRole: true, tls: true,
		secrets: map[string]secretMount{
			"tls": {secret: "cairn-tls", path: "/etc/cairn/tls", items: []corev1.KeyToPath{
				{Key: "tls.crt", Path: "tls.crt"}, {Key: "tls.key", Path: "tls.key"},
			}},
			"client-ca": {secret: "cairn-tls", path: "/etc/cairn/client-ca", items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}},
		},
	},
	"oidc": {
		objects: commonObjects,
		args:    append(slices.Clone(leaderArgs), "--oidc-client-secret-file=/etc/cairn/oidc/client-secret"),
		image:   "ghcr.io/cairn-gitops/cairn:0.1.0",
		state:   "template", replicas: 2, sa: "cairn", auditLog: defaultAuditLog, leaseRole: true,
		secrets: map[string]secretMount{"oidc-client-secret": {secret: "cairn-oidc", path: "/etc/cairn/oidc", items: []corev1.KeyToPath{
			{Key: "client-secret", Path: "client-secret"},
		}}},
		egress: append(slices.Clone(defaultEgress), networkingv1.NetworkPolicyEgressRule{
			Ports: tcpPorts(443), To: []networkingv1.NetworkPolicyPeer{ipPeer("198.51.100.0/24")},
		}),
	},
}

func TestCairnRender(t *testing.T) {
	ch := loadCairn(t)
	for _, set := range cairnSets {
		t.Run(set.name, func(t *testing.T) {
			want, ok := cairnExpectations[set.name]
			if !ok {
				t.Fatalf("no expectation for %s", set.name)
			}
			vals := set.values()
			files, err := renderCairn(ch, vals)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			o := decodeCairn(t, files)
			if !slices.Equal(o.keys, want.objects) {
				t.Fatalf("objects\n %v, want\n %v", o.keys, want.objects)
			}
			checkCairnLabels(t, ch, o)
			checkCairnStatefulSet(t, want, vals, o.statefulSet)
			checkCairnRBAC(t, want, vals, o)
			checkCairnNetworkPolicy(t, want, o)
			checkCairnService(t, want, o)
			if o.pdb != nil {
				if o.pdb.Spec.MinAvailable == nil || *o.pdb.Spec.MinAvailable != intstr.FromInt32(1) || o.pdb.Spec.MaxUnavailable != nil {
					t.Errorf("PDB minAvailable %v maxUnavailable %v, want minAvailable 1", o.pdb.Spec.MinAvailable, o.pdb.Spec.MaxUnavailable)
				}
				if !maps.Equal(o.pdb.Spec.Selector.MatchLabels, cairnSelector) {
					t.Errorf("PDB selector %v", o.pdb.Spec.Selector)
				}
			}
			if sa := o.serviceAccount; sa != nil && (sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken) {
				t.Error("ServiceAccount: automountServiceAccountToken is not false (only cairn's pods ask for the token)")
			}
			all := stream(files)
			for _, s := range []string{"kind: Secret\n", "stringData", "\ndata:"} {
				if strings.Contains(all, s) {
					t.Errorf("a rendered manifest contains %q", s)
				}
			}
		})
	}
}

var cairnSelector = map[string]string{"app.kubernetes.io/name": "cairn", "app.kubernetes.io/instance": cairnRelease}

// checkCairnLabels: every object carries the standard labels.
func checkCairnLabels(t *testing.T, ch *chart.Chart, o cairnObjects) {
	t.Helper()
	want := map[string]string{
		"app.kubernetes.io/name":       "cairn",
		"app.kubernetes.io/instance":   cairnRelease,
		"app.kubernetes.io/component":  "controller",
		"app.kubernetes.io/part-of":    "cairn",
		"app.kubernetes.io/managed-by": "Helm",
		"app.kubernetes.io/version":    ch.Metadata.AppVersion,
		"helm.sh/chart":                "cairn-" + ch.Metadata.Version,
	}
	for key, got := range o.labels {
		if !maps.Equal(got, want) {
			t.Errorf("%s labels\n %v, want\n %v", key, got, want)
		}
	}
	pod := maps.Clone(want)
	delete(pod, "app.kubernetes.io/version")
	delete(pod, "helm.sh/chart")
	if got := o.statefulSet.Spec.Template.Labels; !maps.Equal(got, pod) {
		t.Errorf("pod labels %v, want %v (no version labels)", got, pod)
	}
}

func checkCairnStatefulSet(t *testing.T, want cairnExpectation, vals map[string]any, s *appsv1.StatefulSet) {
	t.Helper()
	if s.Spec.Replicas == nil || *s.Spec.Replicas != want.replicas {
		t.Errorf("replicas %v, want %d", s.Spec.Replicas, want.replicas)
	}
	if !maps.Equal(s.Spec.Selector.MatchLabels, cairnSelector) || len(s.Spec.Selector.MatchExpressions) != 0 {
		t.Errorf("selector %v, want %v", s.Spec.Selector, cairnSelector)
	}
	if s.Spec.PodManagementPolicy != appsv1.ParallelPodManagement || s.Spec.ServiceName != "" {
		t.Errorf("podManagementPolicy %q serviceName %q, want Parallel and none", s.Spec.PodManagementPolicy, s.Spec.ServiceName)
	}
	ps := s.Spec.Template.Spec
	if ps.ServiceAccountName != want.sa || ps.AutomountServiceAccountToken == nil || !*ps.AutomountServiceAccountToken {
		t.Errorf("pod serviceAccountName %q automount %v, want %q and true", ps.ServiceAccountName, ps.AutomountServiceAccountToken, want.sa)
	}
	if sc := ps.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.FSGroup == nil || *sc.FSGroup != 65532 || sc.RunAsUser == nil || *sc.RunAsUser == 0 ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v", sc)
	}
	if len(ps.Containers) != 1 || len(ps.InitContainers) != 0 {
		t.Fatalf("%d containers, %d init containers, want 1 and 0", len(ps.Containers), len(ps.InitContainers))
	}
	c := ps.Containers[0]
	if c.Image != want.image {
		t.Errorf("image %q, want %q", c.Image, want.image)
	}
	if len(c.Command) != 0 {
		t.Errorf("command %v: the image's entrypoint is cairn", c.Command)
	}

	// Arguments: `cairn serve` with the flags from values, each one token.
	git := vals["git"].(map[string]any)
	reconcile := map[string]any{"interval": "1m", "driftInterval": "10m", "drift": "warn"}
	if r, ok := vals["reconcile"].(map[string]any); ok {
		reconcile = r
	}
	branch := "main"
	if b, ok := git["branch"].(string); ok {
		branch = b
	}
	wantArgs := append([]string{"serve",
		"--repo=" + git["repo"].(string), "--branch=" + branch, "--state-dir=/var/lib/cairn", "--listen=:8080",
		"--interval=" + reconcile["interval"].(string), "--drift-interval=" + reconcile["driftInterval"].(string),
		"--drift=" + reconcile["drift"].(string),
	}, want.args...)
	if !slices.Equal(c.Args, wantArgs) {
		t.Errorf("args\n %q, want\n %q", c.Args, wantArgs)
	}
	// cairn itself accepts them: its serve command parses every flag.
	serve, rest, err := cli.NewRoot("test", cli.Streams{Out: io.Discard, Err: io.Discard}).Find(c.Args)
	if err != nil || serve.Name() != "serve" {
		t.Errorf("args %q do not name cairn's serve command: %v", c.Args, err)
	} else if err := serve.ParseFlags(rest); err != nil {
		t.Errorf("cairn serve refuses the chart's args %q: %v", rest, err)
	}
	wantEnv := []corev1.EnvVar{{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}
	if !reflect.DeepEqual(c.Env, wantEnv) || len(c.EnvFrom) != 0 {
		t.Errorf("env %+v envFrom %+v, want POD_NAMESPACE only", c.Env, c.EnvFrom)
	}

	// Port 8080, http or https, and the probes on it with the same scheme.
	port, scheme := cairnPort(want.tls)
	if want := []corev1.ContainerPort{{Name: port, ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}; !reflect.DeepEqual(c.Ports, want) {
		t.Errorf("ports %+v, want %+v", c.Ports, want)
	}
	for name, p := range map[string]struct {
		probe *corev1.Probe
		path  string
	}{"readiness": {c.ReadinessProbe, "/readyz"}, "liveness": {c.LivenessProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path ||
			p.probe.HTTPGet.Port != intstr.FromString(port) || p.probe.HTTPGet.Scheme != scheme {
			t.Errorf("%s probe %+v, want %s GET %s on port %s", name, p.probe, scheme, p.path, port)
		}
	}
	if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("resources %+v", c.Resources)
	}
	sc := c.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Privileged == nil || *sc.Privileged ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container securityContext %+v", sc)
	}

	// Volumes: the store, /tmp, and each referenced Secret with exactly its
	// keys, read-only, mode 0400.
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m
		// Whole folders only: a subPath mount never sees a Secret's update
		// (a renewed certificate would not reach cairn).
		if m.SubPath != "" || m.SubPathExpr != "" {
			t.Errorf("mount %s uses subPath %q%q", m.Name, m.SubPath, m.SubPathExpr)
		}
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range ps.Volumes {
		volumes[v.Name] = v
	}
	wantVolumes := []string{"tmp"}
	if m := mounts["tmp"]; m.MountPath != "/tmp" || volumes["tmp"].EmptyDir == nil {
		t.Errorf("tmp mount %+v volume %+v", mounts["tmp"], volumes["tmp"])
	}
	if m := mounts["state"]; m.MountPath != "/var/lib/cairn" || m.ReadOnly {
		t.Errorf("state mount %+v, want /var/lib/cairn, writable", m)
	}
	switch want.state {
	case "template":
		if _, ok := volumes["state"]; ok {
			t.Errorf("a state volume besides the claim template: %+v", volumes["state"])
		}
		checkClaimTemplate(t, vals, s)
	case "emptyDir":
		wantVolumes = append(wantVolumes, "state")
		if volumes["state"].EmptyDir == nil || len(s.Spec.VolumeClaimTemplates) != 0 {
			t.Errorf("state volume %+v, claim templates %d, want an emptyDir only", volumes["state"], len(s.Spec.VolumeClaimTemplates))
		}
	default:
		wantVolumes = append(wantVolumes, "state")
		if pvc := volumes["state"].PersistentVolumeClaim; pvc == nil || pvc.ClaimName != want.state || len(s.Spec.VolumeClaimTemplates) != 0 {
			t.Errorf("state volume %+v, claim templates %d, want the claim %s only", volumes["state"], len(s.Spec.VolumeClaimTemplates), want.state)
		}
	}
	// The file destinations' folder: writable, an emptyDir of a bounded
	// size or an existing claim, or nothing.
	if log := want.auditLog; log != "" {
		size, isEmptyDir := strings.CutPrefix(log, "emptyDir:")
		wantVolumes = append(wantVolumes, "audit-log")
		if m := mounts["audit-log"]; m.MountPath != "/var/log/cairn" || m.ReadOnly {
			t.Errorf("audit-log mount %+v, want /var/log/cairn, writable", m)
		}
		v := volumes["audit-log"]
		if isEmptyDir {
			if v.EmptyDir == nil || v.EmptyDir.SizeLimit == nil || !v.EmptyDir.SizeLimit.Equal(resource.MustParse(size)) || v.PersistentVolumeClaim != nil {
				t.Errorf("audit-log volume %+v, want an emptyDir of %s", v, size)
			}
		} else if v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != log || v.PersistentVolumeClaim.ReadOnly || v.EmptyDir != nil {
			t.Errorf("audit-log volume %+v, want the claim %s, writable", v, log)
		}
	}
	for name, sm := range want.secrets {
		wantVolumes = append(wantVolumes, name)
		sec := volumes[name].Secret
		if sec == nil || sec.SecretName != sm.secret || !reflect.DeepEqual(sec.Items, sm.items) {
			t.Errorf("%s volume %+v, want Secret %s with items %+v", name, volumes[name], sm.secret, sm.items)
			continue
		}
		if sec.DefaultMode == nil || *sec.DefaultMode != 0o400 || (sec.Optional != nil && *sec.Optional) {
			t.Errorf("%s volume mode %v optional %v, want 0400 and required", name, sec.DefaultMode, sec.Optional)
		}
		if m := mounts[name]; m.MountPath != sm.path || !m.ReadOnly {
			t.Errorf("%s mount %+v, want %s read-only", name, m, sm.path)
		}
	}
	slices.Sort(wantVolumes)
	if got := slices.Sorted(maps.Keys(volumes)); !slices.Equal(got, wantVolumes) {
		t.Errorf("volumes %v, want %v", got, wantVolumes)
	}
	wantMounts := append(without(wantVolumes, "state"), "state")
	slices.Sort(wantMounts)
	if got := slices.Sorted(maps.Keys(mounts)); !slices.Equal(got, wantMounts) {
		t.Errorf("mounts %v, want %v", got, wantMounts)
	}
}

// checkClaimTemplate: one claim per replica, from persistence.*, labelled
// with the selector only (the template is immutable: a version label would
// break every upgrade), kept when the release goes.
func checkClaimTemplate(t *testing.T, vals map[string]any, s *appsv1.StatefulSet) {
	t.Helper()
	if len(s.Spec.VolumeClaimTemplates) != 1 {
		t.Fatalf("%d claim templates, want 1", len(s.Spec.VolumeClaimTemplates))
	}
	pvc := s.Spec.VolumeClaimTemplates[0]
	if pvc.Name != "state" || !maps.Equal(pvc.Labels, cairnSelector) {
		t.Errorf("claim template %s labels %v, want state with the selector labels only", pvc.Name, pvc.Labels)
	}
	if !slices.Equal(pvc.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}) ||
		!pvc.Spec.Resources.Requests.Storage().Equal(resource.MustParse("1Gi")) || pvc.Spec.StorageClassName != nil {
		t.Errorf("claim template spec %+v, want ReadWriteOnce, 1Gi, the default class", pvc.Spec)
	}
	if r := s.Spec.PersistentVolumeClaimRetentionPolicy; r == nil ||
		r.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType || r.WhenScaled != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
		t.Errorf("claim retention %+v, want Retain on delete and scale", r)
	}
}

// checkCairnRBAC: the rules are exactly the minimal set, bound to cairn's
// ServiceAccount only.
func checkCairnRBAC(t *testing.T, want cairnExpectation, vals map[string]any, o cairnObjects) {
	t.Helper()
	subjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: want.sa, Namespace: cairnNamespace}}
	rbac, _ := vals["rbac"].(map[string]any)
	namespaced, _ := rbac["namespaced"].(bool)

	cr := o.clusterRoles["cairn-system-cairn"]
	wantCluster := clusterRules
	if namespaced {
		// Nothing cluster-wide but get on exactly the listed namespaces.
		wantCluster = []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"},
			ResourceNames: stringsOf(rbac["namespaces"]), Verbs: []string{"get"}}}
	}
	if !reflect.DeepEqual(cr.Rules, wantCluster) {
		t.Errorf("ClusterRole rules\n %+v, want\n %+v", cr.Rules, wantCluster)
	}
	crb := o.clusterRoleBindings["cairn-system-cairn"]
	if crb.RoleRef != (rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cairn-system-cairn"}) ||
		!reflect.DeepEqual(crb.Subjects, subjects) {
		t.Errorf("ClusterRoleBinding %+v %+v", crb.RoleRef, crb.Subjects)
	}
	for key, role := range o.roles {
		binding := o.roleBindings[key]
		if binding == nil || !reflect.DeepEqual(binding.Subjects, subjects) ||
			binding.RoleRef != (rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name}) {
			t.Errorf("Role %s: binding %+v", key, binding)
		}
		switch key {
		case "/cairn-leader-election":
			if !reflect.DeepEqual(role.Rules, leaseRules) {
				t.Errorf("leader-election rules\n %+v, want\n %+v", role.Rules, leaseRules)
			}
		default:
			if !namespaced || !reflect.DeepEqual(role.Rules, adapterRules) {
				t.Errorf("Role %s rules\n %+v, want\n %+v", key, role.Rules, adapterRules)
			}
		}
	}
}

func checkCairnNetworkPolicy(t *testing.T, want cairnExpectation, o cairnObjects) {
	t.Helper()
	p := o.networkPolicy.Spec
	if !maps.Equal(p.PodSelector.MatchLabels, cairnSelector) {
		t.Errorf("podSelector %v", p.PodSelector)
	}
	if !slices.Equal(p.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
		t.Errorf("policyTypes %v", p.PolicyTypes)
	}
	ingress := want.ingress
	if ingress == nil {
		ingress = []networkingv1.NetworkPolicyIngressRule{}
	}
	if !reflect.DeepEqual(p.Ingress, ingress) {
		t.Errorf("ingress\n %+v, want\n %+v", p.Ingress, ingress)
	}
	if !reflect.DeepEqual(p.Egress, want.egress) {
		t.Errorf("egress\n %+v, want\n %+v", p.Egress, want.egress)
	}
	for _, r := range p.Egress {
		if len(r.Ports) == 0 {
			t.Errorf("egress rule %+v admits every port", r)
		}
	}
}

func checkCairnService(t *testing.T, want cairnExpectation, o cairnObjects) {
	t.Helper()
	s := o.service.Spec
	port, _ := cairnPort(want.tls)
	ports := []corev1.ServicePort{{Name: port, Protocol: corev1.ProtocolTCP, Port: 8080, TargetPort: intstr.FromString(port)}}
	if s.Type != corev1.ServiceTypeClusterIP || !maps.Equal(s.Selector, cairnSelector) || !reflect.DeepEqual(s.Ports, ports) {
		t.Errorf("Service type %s selector %v ports %+v, want %+v", s.Type, s.Selector, s.Ports, ports)
	}
	// The Service's target is the container's port, by the same name, and
	// the NetworkPolicy admits that port's number.
	c := o.statefulSet.Spec.Template.Spec.Containers[0]
	if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == s.Ports[0].TargetPort.StrVal }) {
		t.Errorf("Service targets port %s, the container has %+v", s.Ports[0].TargetPort.StrVal, c.Ports)
	}
	if o.networkPolicy != nil {
		for _, r := range o.networkPolicy.Spec.Ingress {
			for _, p := range r.Ports {
				if p.Port == nil || p.Port.IntVal != c.Ports[0].ContainerPort {
					t.Errorf("NetworkPolicy ingress port %v, the container listens on %d", p.Port, c.Ports[0].ContainerPort)
				}
			}
		}
	}
}

// cairnPort is the name of port 8080 and the probes' scheme.
func cairnPort(https bool) (string, corev1.URIScheme) {
	if https {
		return "https", corev1.URISchemeHTTPS
	}
	return "http", corev1.URISchemeHTTP
}

// TestCairnStorageClass: "" leaves the class to the cluster's default, "-"
// asks for no class, a name is passed through.
func TestCairnStorageClass(t *testing.T) {
	ch := loadCairn(t)
	for value, want := range map[string]*string{"": nil, "-": ptr(""), "fast-ssd": ptr("fast-ssd")} {
		files, err := renderCairn(ch, cairnValues(map[string]any{"persistence.storageClassName": value, "persistence.size": "5Gi"}))
		if err != nil {
			t.Fatal(err)
		}
		pvc := decodeCairn(t, files).statefulSet.Spec.VolumeClaimTemplates[0].Spec
		if !reflect.DeepEqual(pvc.StorageClassName, want) || !pvc.Resources.Requests.Storage().Equal(resource.MustParse("5Gi")) {
			t.Errorf("storageClassName %q: class %v size %v, want %v and 5Gi", value, pvc.StorageClassName, pvc.Resources.Requests.Storage(), want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestCairnDeterministic: two renders of the same values give the same bytes.
func TestCairnDeterministic(t *testing.T) {
	for _, set := range cairnSets {
		a, err := renderCairn(loadCairn(t), set.values())
		if err != nil {
			t.Fatal(err)
		}
		b, err := renderCairn(loadCairn(t), set.values())
		if err != nil {
			t.Fatal(err)
		}
		if stream(a) != stream(b) {
			t.Errorf("%s: two renders differ", set.name)
		}
	}
}

// TestCairnNotes: NOTES.txt renders strictly for every set and warns where
// an operator should know something.
func TestCairnNotes(t *testing.T) {
	ch := loadCairn(t)
	tests := map[string]struct{ has, hasNot []string }{
		"defaults": {
			has: []string{"2 replicas with the embedded store", "anonymously", "admits nobody to port 8080", "open to any address", "write under /var/log/cairn (an emptyDir of 1Gi",
				"NOTE: no tls.existingSecret: cairn serves plain HTTP on port 8080", "curl -s localhost:8080/readyz"},
			hasNot: []string{"PostgreSQL, DSN", "audit.signingKey", "Audit destinations' headers", "HTTPS", "Browser login"},
		},
		"persistence-off":      {has: []string{"WARNING: persistence is disabled: the audit history is in an emptyDir"}, hasNot: []string{"embedded store"}},
		"rbac-namespaced":      {has: []string{"only to connectivity-prod, connectivity-uat (they must exist)"}},
		"network-sources":      {hasNot: []string{"admits nobody", "open to any address"}},
		"ssh-credentials":      {hasNot: []string{"anonymously", "/api/v1/webhooks/github"}},
		"token-webhook-digest": {has: []string{"/api/v1/webhooks/github", "Secret cairn-webhook (key hmac)"}},
		"audit-shared-store": {
			has:    []string{"Audit store: PostgreSQL, DSN from Secret cairn-audit-db (key dsn); every replica shares one history", "(an emptyDir of 256Mi"},
			hasNot: []string{"embedded store", "WARNING"},
		},
		"audit-destinations": {has: []string{
			"Audit destinations' headers: Secrets siem-headers, splunk.hec-token under /etc/cairn/audit-secrets/<name>/",
			"write under /var/log/cairn (claim cairn-audit-logs)",
		}},
		"audit-log-off": {has: []string{"audit.logVolume is disabled: a file destination of security.json cannot write"}, hasNot: []string{"Audit files"}},
		"tls": {
			has: []string{"HTTPS on port 8080 (Service port 8080, named https): certificate and key from Secret cairn-tls\n(keys tls.crt, tls.key), read again when the Secret is renewed",
				"curl -sk https://localhost:8080/readyz"},
			hasNot: []string{"plain HTTP", "Client certificates", "curl -s localhost"},
		},
		"mtls": {has: []string{
			"Secret cairn-server-tls\n(keys server.pem, server-key.pem)",
			"Client certificates are verified against Secret cairn-client-ca (key bundle.pem); security.json's\nmtls.clientAuth says whether the API requires one.",
		}},
		"mtls-cert-manager": {has: []string{"Client certificates are verified against Secret cairn-tls (key ca.crt)"}},
		"oidc": {
			has: []string{"Browser login: the OpenID client secret from Secret cairn-oidc (key client-secret), read when a pod starts:\nafter rotating it, kubectl -n cairn-system rollout restart statefulset/cairn",
				"plain HTTP"},
			hasNot: []string{"egress.additional is empty"},
		},
	}
	for _, set := range cairnSets {
		notes := renderNotes(t, ch, set.values())
		if !strings.Contains(notes, "rollout status statefulset/cairn") {
			t.Errorf("%s: NOTES.txt\n%s", set.name, notes)
		}
		for _, s := range tests[set.name].has {
			if !strings.Contains(notes, s) {
				t.Errorf("%s: NOTES.txt lacks %q:\n%s", set.name, s, notes)
			}
		}
		for _, s := range tests[set.name].hasNot {
			if strings.Contains(notes, s) {
				t.Errorf("%s: NOTES.txt has %q:\n%s", set.name, s, notes)
			}
		}
	}
}

// renderNotes renders NOTES.txt strictly.
func renderNotes(t *testing.T, ch *chart.Chart, vals map[string]any) string {
	t.Helper()
	rv, err := chartutil.ToRenderValues(ch, vals,
		chartutil.ReleaseOptions{Name: cairnRelease, Namespace: cairnNamespace, Revision: 1, IsInstall: true},
		chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	files, err := engine.Engine{Strict: true}.Render(ch, rv)
	if err != nil {
		t.Fatalf("NOTES.txt: %v", err)
	}
	return files["cairn/templates/NOTES.txt"]
}

// TestCairnSharedStoreWithoutPolicyOrKey: a DSN needs no egress peers when
// the chart renders no NetworkPolicy; without audit.signingKey each replica
// signs with a key of its own, which the notes warn about (all the more
// when the state directory is an emptyDir).
func TestCairnSharedStoreWithoutPolicyOrKey(t *testing.T) {
	vals := func() map[string]any {
		return cairnValues(map[string]any{
			"audit.postgresql":      map[string]any{"existingSecret": "cairn-audit-db", "key": "dsn"},
			"networkPolicy.enabled": false,
			"persistence.enabled":   false,
		})
	}
	l := lint.All(cairnDir, vals(), cairnNamespace, false)
	for _, m := range l.Messages {
		t.Errorf("lint: %s", m)
	}
	ch := loadCairn(t)
	files, err := renderCairn(ch, vals())
	if err != nil {
		t.Fatal(err)
	}
	o := decodeCairn(t, files)
	if o.networkPolicy != nil {
		t.Error("a NetworkPolicy with networkPolicy.enabled false")
	}
	args := o.statefulSet.Spec.Template.Spec.Containers[0].Args
	if !slices.Contains(args, "--history-dsn-file=/etc/cairn/history/dsn") ||
		slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--audit-signing-key-file") }) {
		t.Errorf("args %q, want --history-dsn-file and no --audit-signing-key-file", args)
	}
	notes := renderNotes(t, ch, vals())
	for _, s := range []string{
		"WARNING: no audit.signingKey: retention checkpoints are signed with a key cairn creates in each pod's",
		"(an emptyDir: a new key with every pod)",
		"cairn history verify --public-key",
		"NOTE: persistence is disabled: the history is in PostgreSQL",
	} {
		if !strings.Contains(notes, s) {
			t.Errorf("NOTES.txt lacks %q:\n%s", s, notes)
		}
	}
	if strings.Contains(notes, "audit history is in an emptyDir") {
		t.Errorf("NOTES.txt says the history is in an emptyDir with PostgreSQL:\n%s", notes)
	}
}

// TestCairnNotesSigningKey: with a shared store and no audit.signingKey,
// the notes warn when more than one key can sign: several replicas, or a
// state directory that goes with the pod; one persistent replica keeps one.
func TestCairnNotesSigningKey(t *testing.T) {
	ch := loadCairn(t)
	pg := map[string]any{"existingSecret": "cairn-audit-db", "key": "dsn"}
	peers := []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.30.0.5/32"}}}
	for _, tt := range []struct {
		name    string
		patches map[string]any
		want    string // "" = no warning
	}{
		{"replicas", map[string]any{}, "(one key per replica)"},
		{"emptyDir", map[string]any{"replicas": 1, "persistence.enabled": false}, "(an emptyDir: a new key with every pod)"},
		{"one persistent replica", map[string]any{"replicas": 1}, ""},
		{"one key", map[string]any{"audit.signingKey": map[string]any{"existingSecret": "cairn-audit-signing", "key": "ed25519"}}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			patches := maps.Clone(tt.patches)
			patches["audit.postgresql"], patches["networkPolicy.egress.postgresql.to"] = pg, peers
			notes := renderNotes(t, ch, cairnValues(patches))
			warned := strings.Contains(notes, "WARNING: no audit.signingKey")
			if warned != (tt.want != "") || !strings.Contains(notes, tt.want) {
				t.Errorf("NOTES.txt: warned %v, want %q:\n%s", warned, tt.want, notes)
			}
		})
	}
}

// TestCairnNotesOIDCEgress: the browser login needs the OpenID provider;
// with the NetworkPolicy on and nothing in networkPolicy.egress.additional,
// the notes say whether port 443 is open to any address anyway (the API
// server's and the Git host's rules without cidrs) or not at all.
func TestCairnNotesOIDCEgress(t *testing.T) {
	ch := loadCairn(t)
	const (
		note    = "NOTE: networkPolicy.egress.additional is empty: the OpenID provider is reachable only because port 443 is open"
		warning = "WARNING: networkPolicy.egress.additional is empty and no egress rule admits port 443 to any address"
	)
	closed := map[string]any{"cidrs": []any{"172.16.0.10/32"}, "ports": []any{443, 6443}}
	for _, tt := range []struct {
		name    string
		patches map[string]any
		want    string // "" = neither
	}{
		{"open by default", map[string]any{}, note},
		{"open through the Git host's rule", map[string]any{"networkPolicy.egress.apiServer": closed}, note},
		{"closed by cidrs", map[string]any{"networkPolicy.egress.apiServer": closed,
			"networkPolicy.egress.git": map[string]any{"cidrs": []any{"140.82.112.0/20"}, "ports": []any{443, 22}}}, warning},
		{"closed by ports", map[string]any{"networkPolicy.egress.apiServer.ports": []any{6443}, "networkPolicy.egress.git.ports": []any{22}}, warning},
		{"no policy", map[string]any{"networkPolicy.enabled": false, "networkPolicy.egress.git.ports": []any{22}}, ""},
		{"admitted", map[string]any{"networkPolicy.egress.git.ports": []any{22}, "networkPolicy.egress.additional": []any{map[string]any{
			"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "198.51.100.0/24"}}}, "ports": []any{443}}}}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			patches := maps.Clone(tt.patches)
			patches["oidc.clientSecret"] = map[string]any{"existingSecret": "cairn-oidc", "key": "client-secret"}
			l := lint.All(cairnDir, cairnValues(patches), cairnNamespace, false)
			for _, m := range l.Messages {
				t.Errorf("lint: %s", m)
			}
			notes := renderNotes(t, ch, cairnValues(patches))
			for _, s := range []string{note, warning} {
				if strings.Contains(notes, s) != (s == tt.want) {
					t.Errorf("NOTES.txt: has %q: %v, want %v:\n%s", s, !(s == tt.want), s == tt.want, notes)
				}
			}
		})
	}
}

// TestCairnEmbedded: the embedded chart is the chart in this directory.
func TestCairnEmbedded(t *testing.T) {
	ch := embeddedCairn(t)
	disk := loadCairn(t)
	if ch.Metadata.Name != "cairn" || ch.Metadata.Version != disk.Metadata.Version || len(ch.Templates) != len(disk.Templates) || ch.Schema == nil {
		t.Errorf("embedded chart %s %s with %d templates, on disk %s with %d", ch.Metadata.Name, ch.Metadata.Version, len(ch.Templates), disk.Metadata.Version, len(disk.Templates))
	}
}

// embeddedCairn loads the chart from charts.Cairn(), as cairn's binary would.
func embeddedCairn(t testing.TB) *chart.Chart {
	t.Helper()
	fsys, err := charts.Cairn()
	if err != nil {
		t.Fatal(err)
	}
	var files []*loader.BufferedFile
	err = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		files = append(files, &loader.BufferedFile{Name: path, Data: data})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		t.Fatalf("load the embedded chart: %v", err)
	}
	return ch
}

// The control plane TestCairnInstall installs into: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok (fake nodes that run any
// image), started on first use.
var cairnCluster = &testcluster.Shared{Options: testcluster.Options{
	Nodes: 1, ControllerManager: true, Scheduler: true, Kwok: true,
}}

func TestMain(m *testing.M) {
	code := m.Run()
	if err := cairnCluster.Stop(code != 0); err != nil {
		fmt.Fprintln(os.Stderr, "stop the test cluster:", err)
	}
	os.Exit(code)
}

// TestCairnInstall installs the embedded chart into a real control plane
// through internal/helm, twice:
//
//   - "cairn" in cairn-system: the defaults (two replicas, a ClusterRole),
//     persistence off so that the pods schedule without a storage
//     provisioner, token and webhook Secrets; in a namespace that enforces
//     the restricted Pod Security Standard, so the API server itself judges
//     the securityContext. Then an upgrade to a new chart version and new
//     values, which a StatefulSet's immutable fields must not refuse,
//     among them HTTPS (tls.existingSecret): the port renamed https on the
//     pods and the Service, the probes switched to HTTPS.
//   - "cairn-ns" in cairn-ns-system: rbac.namespaced for adapters-a and
//     persistence on a class that two hand-made PersistentVolumes serve:
//     the StatefulSet's claims are created, bind and the pods run; after an
//     uninstall the claims (the audit history) remain. Installed with TLS
//     from a kubernetes.io/tls Secret (a self-signed certificate made by
//     the test), mutual TLS from the same Secret's ca.crt and the browser
//     login's OpenID client secret.
//
// The pods run on kwok's nodes, which run no container: the probes are
// checked in the pod spec the API server admitted, not by a kubelet.
//
// For each, SubjectAccessReviews check what the ServiceAccount may and may
// not do, and impersonated calls confirm a few for real.
func TestCairnInstall(t *testing.T) {
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip("starts a control plane (seconds); skipped in -short mode")
	}
	c := cairnCluster.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cs := kubernetes.NewForConfigOrDie(c.RESTConfig())
	hc, err := helm.New(helm.Options{REST: c.RESTConfig()})
	if err != nil {
		t.Fatal(err)
	}
	restricted := map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}
	for ns, labels := range map[string]map[string]string{
		"cairn-system": restricted, "cairn-ns-system": restricted, "adapters-a": nil, "adapters-b": nil,
	} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The Secrets the values name; the chart only references them.
	for _, s := range []struct{ ns, name, key, value string }{
		{"cairn-system", "cairn-git", "token", inlineSecrets[1]},
		{"cairn-system", "cairn-webhook", "hmac", inlineSecrets[2]},
		{"cairn-system", "cairn-audit-db", "dsn", "postgres://cairn:" + inlineSecrets[0] + "@10.30.0.5:5432/cairn?sslmode=verify-full"},
		{"cairn-system", "cairn-audit-signing", "ed25519", ed25519PEM(t)},
		{"cairn-system", "siem-headers", "Authorization", "Bearer " + inlineSecrets[1]},
		{"adapters-a", "venue-credentials", "password", inlineSecrets[0]},
		{"adapters-b", "venue-credentials", "password", inlineSecrets[0]},
	} {
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: s.name}, StringData: map[string]string{s.key: s.value}}
		if _, err := cs.CoreV1().Secrets(s.ns).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// cairn's certificate in a kubernetes.io/tls Secret (the API server
	// requires tls.crt and tls.key in one), with ca.crt as cert-manager
	// writes it: here the self-signed certificate is its own CA.
	for _, ns := range []string{"cairn-system", "cairn-ns-system"} {
		cert, key := selfSignedTLS(t, "cairn."+ns+".svc", "cairn-ns."+ns+".svc")
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cairn-tls"}, Type: corev1.SecretTypeTLS,
			StringData: map[string]string{"tls.crt": cert, "tls.key": key, "ca.crt": cert}}
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("cluster-wide", func(t *testing.T) {
		rel := helm.Release{Name: "cairn", Namespace: "cairn-system", Chart: embeddedCairn(t), Values: cairnValues(map[string]any{
			"persistence.enabled": false,
			"git.credentials":     map[string]any{"existingSecret": "cairn-git", "tokenKey": "token"},
			"webhook":             map[string]any{"existingSecret": "cairn-webhook", "key": "hmac"},
		})}
		applyCairn(ctx, t, hc, rel, helm.Installed)
		waitCairnReady(ctx, t, cs, rel.Namespace, "cairn", 2)
		checkCairnPods(ctx, t, cs, rel.Namespace, "cairn", "--git-token-file=/etc/cairn/git/token")
		checkCairnPort(ctx, t, cs, rel.Namespace, "cairn", false)
		checkCairnPermissions(ctx, t, c.RESTConfig(), cs, "cairn-system", "cairn", false)

		// An upgrade: a new chart version (new labels everywhere but on the
		// selector and the claim template) and new flags: the shared audit
		// store, its signing key, an HTTP destination's headers and TLS,
		// whose volumes the restricted namespace must admit too.
		rel.Chart = embeddedCairn(t)
		rel.Chart.Metadata.Version = "0.1.1-test"
		setPath(rel.Values, "reconcile.drift", "correct")
		setPath(rel.Values, "audit.postgresql", map[string]any{"existingSecret": "cairn-audit-db", "key": "dsn"})
		setPath(rel.Values, "audit.signingKey", map[string]any{"existingSecret": "cairn-audit-signing", "key": "ed25519"})
		setPath(rel.Values, "audit.secrets", []any{"siem-headers"})
		setPath(rel.Values, "networkPolicy.egress.postgresql.to", []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.30.0.5/32"}}})
		setPath(rel.Values, "tls.existingSecret", "cairn-tls")
		applyCairn(ctx, t, hc, rel, helm.Upgraded)
		waitCairnReady(ctx, t, cs, rel.Namespace, "cairn", 2)
		checkCairnPods(ctx, t, cs, rel.Namespace, "cairn", "--drift=correct", "--history-dsn-file=/etc/cairn/history/dsn",
			"--audit-signing-key-file=/etc/cairn/audit-signing/key.pem", "--audit-secrets-dir=/etc/cairn/audit-secrets",
			"--tls-cert-file=/etc/cairn/tls/tls.crt", "--tls-key-file=/etc/cairn/tls/tls.key")
		checkCairnPort(ctx, t, cs, rel.Namespace, "cairn", true)
	})

	t.Run("namespaced-persistent", func(t *testing.T) {
		const class = "cairn-test-manual"
		for i := range 2 {
			pv := &corev1.PersistentVolume{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cairn-test-%d", i)},
				Spec: corev1.PersistentVolumeSpec{
					StorageClassName: class,
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Capacity:         corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("2Gi")},
					PersistentVolumeSource: corev1.PersistentVolumeSource{
						HostPath: &corev1.HostPathVolumeSource{Path: fmt.Sprintf("/var/lib/cairn-test-%d", i)},
					},
				},
			}
			if _, err := cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		oidc := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cairn-oidc"}, StringData: map[string]string{"client-secret": inlineSecrets[0]}}
		if _, err := cs.CoreV1().Secrets("cairn-ns-system").Create(ctx, oidc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		rel := helm.Release{Name: "cairn-ns", Namespace: "cairn-ns-system", Chart: embeddedCairn(t), Values: cairnValues(map[string]any{
			"rbac.namespaced":              true,
			"rbac.namespaces":              []any{"adapters-a"},
			"persistence.storageClassName": class,
			"tls.existingSecret":           "cairn-tls",
			"tls.clientCA.existingSecret":  "cairn-tls",
			"oidc.clientSecret":            map[string]any{"existingSecret": "cairn-oidc", "key": "client-secret"},
		})}
		applyCairn(ctx, t, hc, rel, helm.Installed)

		// The StatefulSet controller makes one claim per replica from the
		// template; they bind to the volumes and the pods run.
		claims := []string{"state-cairn-ns-0", "state-cairn-ns-1"}
		cairnWait(ctx, t, "the claims Bound", func() error {
			for _, name := range claims {
				pvc, err := cs.CoreV1().PersistentVolumeClaims(rel.Namespace).Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return err
				}
				if pvc.Status.Phase != corev1.ClaimBound {
					return fmt.Errorf("claim %s is %s", name, pvc.Status.Phase)
				}
			}
			return nil
		})
		for _, name := range claims {
			pvc, err := cs.CoreV1().PersistentVolumeClaims(rel.Namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != class ||
				!pvc.Spec.Resources.Requests.Storage().Equal(resource.MustParse("1Gi")) ||
				!slices.Equal(pvc.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}) ||
				!maps.Equal(pvc.Labels, map[string]string{"app.kubernetes.io/name": "cairn", "app.kubernetes.io/instance": "cairn-ns"}) {
				t.Errorf("claim %s: class %v, %v, %v, labels %v", name, pvc.Spec.StorageClassName, pvc.Spec.Resources.Requests.Storage(), pvc.Spec.AccessModes, pvc.Labels)
			}
		}
		waitCairnReady(ctx, t, cs, rel.Namespace, "cairn-ns", 2)
		checkCairnPods(ctx, t, cs, rel.Namespace, "cairn-ns", "--lease-name=cairn-ns",
			"--tls-cert-file=/etc/cairn/tls/tls.crt", "--tls-key-file=/etc/cairn/tls/tls.key",
			"--client-ca-file=/etc/cairn/client-ca/ca.crt", "--oidc-client-secret-file=/etc/cairn/oidc/client-secret")
		checkCairnPort(ctx, t, cs, rel.Namespace, "cairn-ns", true)
		checkCairnPermissions(ctx, t, c.RESTConfig(), cs, "cairn-ns-system", "cairn-ns", true)

		// Uninstalling cairn keeps its history.
		out, err := hc.Uninstall(ctx, rel.Namespace, rel.Name)
		if err != nil || out.Action != helm.Uninstalled {
			t.Fatalf("uninstall: %+v, %v", out, err)
		}
		cairnWait(ctx, t, "the StatefulSet gone", func() error {
			_, err := cs.AppsV1().StatefulSets(rel.Namespace).Get(ctx, "cairn-ns", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("StatefulSet still there (%v)", err)
		})
		for _, name := range claims {
			if pvc, err := cs.CoreV1().PersistentVolumeClaims(rel.Namespace).Get(ctx, name, metav1.GetOptions{}); err != nil ||
				pvc.DeletionTimestamp != nil || len(pvc.OwnerReferences) != 0 {
				t.Errorf("claim %s after uninstall: %v (owners %v, deleting %v)", name, err, pvc.OwnerReferences, pvc.DeletionTimestamp)
			}
		}
	})
}

// testPEM is a PEM block of type typ around text, as a certificate or key
// pasted into values would look.
func testPEM(typ, text string) string {
	return "-----BEGIN " + typ + "-----\n" + text + "\n-----END " + typ + "-----\n"
}

// ed25519PEM is a new Ed25519 private key as `openssl genpkey -algorithm
// ed25519` writes it (PEM, PKCS #8), what audit.signingKey names.
func ed25519PEM(t *testing.T) string {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// applyCairn applies rel and checks what Helm did.
func applyCairn(ctx context.Context, t *testing.T, hc *helm.Client, rel helm.Release, want helm.Action) {
	t.Helper()
	out, err := hc.Apply(ctx, rel)
	if err != nil {
		t.Fatalf("apply %s: %v", rel.Key(), err)
	}
	if out.Action != want {
		t.Fatalf("apply %s: %s, want %s", rel.Key(), out.Action, want)
	}
}

// waitCairnReady waits until the StatefulSet is Healthy (package health:
// observed, every replica ready and updated), the PodDisruptionBudget too,
// and the Service has a ready endpoint per replica. (internal/helm's Health
// judges Deployments, the adapters' workload, and would call this release
// Missing; the StatefulSet is judged with package health directly.)
func waitCairnReady(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name string, replicas int) {
	t.Helper()
	cairnWait(ctx, t, "StatefulSet "+ns+"/"+name+" Healthy", func() error {
		s, err := cs.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if r := health.StatefulSet(s); r.Status != health.Healthy || s.Status.ReadyReplicas != int32(replicas) {
			return fmt.Errorf("%s, %d ready%s", r, s.Status.ReadyReplicas, failedCreate(ctx, cs, ns, name))
		}
		pdb, err := cs.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if r := health.PodDisruptionBudget(pdb); r.Status != health.Healthy || pdb.Status.DisruptionsAllowed != int32(replicas-1) {
			return fmt.Errorf("%s, %d disruptions allowed", r, pdb.Status.DisruptionsAllowed)
		}
		eps, err := cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + name})
		if err != nil {
			return err
		}
		ready := 0
		for _, sl := range eps.Items {
			for _, e := range sl.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready {
					ready++
				}
			}
		}
		if ready != replicas {
			return fmt.Errorf("Service %s: %d ready endpoints, want %d", name, ready, replicas)
		}
		return nil
	})
}

// failedCreate returns the last reason the StatefulSet controller gave for
// not creating a pod (Pod Security admission refusing it, say), or "".
func failedCreate(ctx context.Context, cs kubernetes.Interface, ns, name string) string {
	events, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.kind=StatefulSet,involvedObject.name=" + name + ",reason=FailedCreate",
	})
	if err != nil || len(events.Items) == 0 {
		return ""
	}
	return "; " + events.Items[len(events.Items)-1].Message
}

// checkCairnPods: the pods the API server admitted run as cairn's
// ServiceAccount with its token mounted (the admission plugin adds it
// because the pod asks), and carry the flags wantArgs.
func checkCairnPods(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name string, wantArgs ...string) {
	t.Helper()
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=cairn,app.kubernetes.io/instance=" + name})
	if err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		running++
		token := slices.ContainsFunc(p.Spec.Volumes, func(v corev1.Volume) bool {
			return v.Projected != nil && slices.ContainsFunc(v.Projected.Sources, func(s corev1.VolumeProjection) bool {
				return s.ServiceAccountToken != nil
			})
		})
		if p.Spec.ServiceAccountName != name || !token {
			t.Errorf("pod %s: serviceAccountName %q, token mounted %v", p.Name, p.Spec.ServiceAccountName, token)
		}
		for _, want := range wantArgs {
			if !slices.Contains(p.Spec.Containers[0].Args, want) {
				t.Errorf("pod %s: args %q lack %q", p.Name, p.Spec.Containers[0].Args, want)
			}
		}
	}
	if running != 2 {
		t.Errorf("%d pods, want 2", running)
	}
}

// checkCairnPort: the admitted pods serve port 8080 named http, or https
// with TLS, and the kubelet would probe it with that scheme (kwok's nodes
// run no probe: the spec is what is checked); with TLS the certificate's
// Secret is mounted as a folder, read-only. The Service targets the port
// by the same name.
func checkCairnPort(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name string, https bool) {
	t.Helper()
	port, scheme := cairnPort(https)
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=cairn,app.kubernetes.io/instance=" + name})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		c := p.Spec.Containers[0]
		if len(c.Ports) != 1 || c.Ports[0].Name != port || c.Ports[0].ContainerPort != 8080 {
			t.Errorf("pod %s: ports %+v, want 8080 named %s", p.Name, c.Ports, port)
		}
		for what, probe := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
			if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Scheme != scheme || probe.HTTPGet.Port != intstr.FromString(port) {
				t.Errorf("pod %s: %s probe %+v, want %s on port %s", p.Name, what, probe, scheme, port)
			}
		}
		mounted := slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
			return m.Name == "tls" && m.MountPath == "/etc/cairn/tls" && m.ReadOnly && m.SubPath == ""
		})
		volume := slices.ContainsFunc(p.Spec.Volumes, func(v corev1.Volume) bool {
			return v.Name == "tls" && v.Secret != nil && v.Secret.SecretName == "cairn-tls" && v.Secret.DefaultMode != nil && *v.Secret.DefaultMode == 0o400
		})
		if mounted != https || volume != https {
			t.Errorf("pod %s: tls mounted %v, volume %v, want %v", p.Name, mounted, volume, https)
		}
	}
	svc, err := cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != port || svc.Spec.Ports[0].TargetPort != intstr.FromString(port) {
		t.Errorf("Service %s ports %+v, want one named %s targeting %s", name, svc.Spec.Ports, port, port)
	}
}

// selfSignedTLS is a new self-signed server certificate for names and its
// ECDSA P-256 key, PEM-encoded as in a kubernetes.io/tls Secret; it can
// sign (the test uses it as the client CA too).
func selfSignedTLS(t *testing.T, names ...string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: names[0]},
		DNSNames:              names,
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	// What cairn will load from the mounted files.
	if _, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM)); err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM
}

// access is one question to the authorizer about cairn's ServiceAccount.
type access struct {
	verb, group, resource, namespace, name string
	allowed                                bool
}

// checkCairnPermissions asks the API server's authorizer
// (SubjectAccessReview) what the ServiceAccount ns/sa may do, then makes a
// few of the calls for real as that ServiceAccount.
func checkCairnPermissions(ctx context.Context, t *testing.T, admin *rest.Config, cs kubernetes.Interface, ns, sa string, namespaced bool) {
	t.Helper()
	user := "system:serviceaccount:" + ns + ":" + sa
	groups := []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}
	checks := []access{
		// Adapters in an adapter namespace, and the Secrets they reference.
		{"create", "apps", "deployments", "adapters-a", "", true},
		{"patch", "networking.k8s.io", "networkpolicies", "adapters-a", "", true},
		{"get", "", "secrets", "adapters-a", "venue-credentials", true},
		{"watch", "", "pods", "adapters-a", "", true},
		{"get", "", "namespaces", "", "adapters-a", true},
		// Leader election: its own Lease in its own namespace only.
		{"get", "coordination.k8s.io", "leases", ns, sa, true},
		{"update", "coordination.k8s.io", "leases", ns, sa, true},
		{"create", "coordination.k8s.io", "leases", ns, "", true},
		{"update", "coordination.k8s.io", "leases", ns, "kube-controller-manager", false},
		{"update", "coordination.k8s.io", "leases", "kube-system", sa, false},
		// Never: nodes, RBAC, impersonation, pods' exec, what it does not apply.
		{"delete", "", "nodes", "", "", false},
		{"create", "rbac.authorization.k8s.io", "clusterroles", "", "", false},
		{"create", "rbac.authorization.k8s.io", "rolebindings", "adapters-a", "", false},
		{"impersonate", "", "serviceaccounts", "adapters-a", "", false},
		{"create", "", "pods", "adapters-a", "", false},
		{"delete", "", "pods", "adapters-a", "", false},
		{"create", "apps", "statefulsets", "adapters-a", "", false},
		{"delete", "", "namespaces", "", "adapters-a", false},
	}
	if namespaced {
		checks = append(checks,
			access{"get", "", "secrets", "adapters-b", "venue-credentials", false},
			access{"list", "", "secrets", "", "", false}, // cluster-wide
			access{"create", "apps", "deployments", "adapters-b", "", false},
			access{"get", "", "namespaces", "", "adapters-b", false},
			access{"create", "", "namespaces", "", "", false},
		)
	} else {
		checks = append(checks,
			access{"get", "", "secrets", "adapters-b", "venue-credentials", true},
			access{"create", "apps", "deployments", "adapters-b", "", true},
			access{"create", "", "namespaces", "", "", true},
		)
	}
	for _, a := range checks {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: groups,
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Verb: a.verb, Group: a.group, Resource: a.resource, Namespace: a.namespace, Name: a.name,
			},
		}}
		res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status.Allowed != a.allowed {
			t.Errorf("%s may %s %s.%s in %q name %q: %v, want %v (%s)", user, a.verb, a.resource, a.group, a.namespace, a.name,
				res.Status.Allowed, a.allowed, res.Status.Reason)
		}
	}

	// For real, as the ServiceAccount.
	as := rest.CopyConfig(admin)
	as.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	sacs := kubernetes.NewForConfigOrDie(as)
	if _, err := sacs.CoreV1().Secrets("adapters-a").Get(ctx, "venue-credentials", metav1.GetOptions{}); err != nil {
		t.Errorf("as %s, get a Secret in adapters-a: %v", user, err)
	}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "probe-" + sa},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "probe"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "probe"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "probe", Image: "registry.invalid/probe:1"}}},
			},
		},
	}
	if _, err := sacs.AppsV1().Deployments("adapters-a").Create(ctx, dep, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("as %s, create a Deployment in adapters-a: %v", user, err)
	}
	if _, err := sacs.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("as %s, list nodes: %v, want Forbidden", user, err)
	}
	if namespaced {
		if _, err := sacs.CoreV1().Secrets("").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("as %s, list Secrets cluster-wide: %v, want Forbidden", user, err)
		}
	}
}

// cairnWait polls check every 200ms until it returns nil; it fails the test
// with the last reason when ctx ends.
func cairnWait(ctx context.Context, t *testing.T, what string, check func() error) {
	t.Helper()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last: %v)", what, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
