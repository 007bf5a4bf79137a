package charts_test

// Tests of the cairn chart (cairn itself): Helm's lint and engine on the
// chart's files, the rendered objects decoded strictly into the Kubernetes
// API types, and an install into a real control plane (TestCairnInstall).

import (
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/cairn-gitops/cairn/charts"
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
	state     string
	replicas  int32
	sa        string                 // the ServiceAccount the pods run as
	secrets   map[string]secretMount // volume name -> what it mounts
	ingress   []networkingv1.NetworkPolicyIngressRule
	egress    []networkingv1.NetworkPolicyEgressRule
	leaseRole bool // the leader-election Role and RoleBinding
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
		state: "template", replicas: 2, sa: "cairn", egress: defaultEgress, leaseRole: true,
	},
	"persistence-off": {
		objects: without(commonObjects, "PodDisruptionBudget /cairn"), args: leaderArgs, image: "ghcr.io/cairn-gitops/cairn:0.1.0",
		state: "emptyDir", replicas: 1, sa: "cairn", egress: defaultEgress, leaseRole: true,
	},
	"rbac-namespaced": {
		objects: withObjects(commonObjects,
			"Role connectivity-prod/cairn", "RoleBinding connectivity-prod/cairn",
			"Role connectivity-uat/cairn", "RoleBinding connectivity-uat/cairn"),
		args: leaderArgs, image: "ghcr.io/cairn-gitops/cairn:0.1.0",
		state: "template", replicas: 2, sa: "cairn", egress: defaultEgress, leaseRole: true,
	},
	"network-sources": {
		objects: commonObjects, args: leaderArgs, image: "ghcr.io/cairn-gitops/cairn:0.1.0",
		state: "template", replicas: 2, sa: "cairn", leaseRole: true,
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
		state:   "template", replicas: 2, sa: "cairn", egress: defaultEgress, leaseRole: true,
		secrets: map[string]secretMount{"git-credentials": {secret: "cairn-git", path: "/etc/cairn/git", items: []corev1.KeyToPath{
			{Key: "identity", Path: "ssh-key"}, {Key: "known_hosts", Path: "known_hosts"},
		}}},
	},
	"token-webhook-digest": {
		objects: commonObjects,
		args: append(slices.Clone(leaderArgs), "--git-username-file=/etc/cairn/git/username", "--git-token-file=/etc/cairn/git/token",
			"--webhook-secret-file=/etc/cairn/webhook/secret"),
		image: "ghcr.io/cairn-gitops/cairn@sha256:" + strings.Repeat("ab", 32),
		state: "template", replicas: 2, sa: "cairn", egress: defaultEgress, leaseRole: true,
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
		state: "cairn-history", replicas: 1, sa: "platform-cairn", egress: defaultEgress,
		secrets: map[string]secretMount{"git-credentials": {secret: "cairn-git", path: "/etc/cairn/git", items: []corev1.KeyToPath{
			{Key: "username", Path: "username"}, {Key: "password", Path: "password"},
		}}},
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
			checkCairnService(t, o)
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
	wantEnv := []corev1.EnvVar{{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}
	if !reflect.DeepEqual(c.Env, wantEnv) || len(c.EnvFrom) != 0 {
		t.Errorf("env %+v envFrom %+v, want POD_NAMESPACE only", c.Env, c.EnvFrom)
	}

	// The http port and the probes on it.
	if want := []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}; !reflect.DeepEqual(c.Ports, want) {
		t.Errorf("ports %+v, want %+v", c.Ports, want)
	}
	for name, p := range map[string]struct {
		probe *corev1.Probe
		path  string
	}{"readiness": {c.ReadinessProbe, "/readyz"}, "liveness": {c.LivenessProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port != intstr.FromString("http") {
			t.Errorf("%s probe %+v, want GET %s on port http", name, p.probe, p.path)
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

func checkCairnService(t *testing.T, o cairnObjects) {
	t.Helper()
	s := o.service.Spec
	want := []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 8080, TargetPort: intstr.FromString("http")}}
	if s.Type != corev1.ServiceTypeClusterIP || !maps.Equal(s.Selector, cairnSelector) || !reflect.DeepEqual(s.Ports, want) {
		t.Errorf("Service type %s selector %v ports %+v", s.Type, s.Selector, s.Ports)
	}
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
