package charts_test

// Tests of the adapter chart through Helm's own packages (loader, chartutil,
// engine, lint), the same code paths cairn's renderer uses; no helm binary.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
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
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// chartDir is the chart, relative to this package's directory.
const chartDir = "adapter"

const namespace = "connectivity-prod"

var (
	revision = "0123456789abcdef0123456789abcdef01234567"
	digest   = "sha256:" + strings.Repeat("ab", 32)
	imageSHA = "sha256:" + strings.Repeat("0f", 32)
)

// secretContents stands for what the referenced Secrets hold in a cluster.
// The chart never sees them; no rendered byte may contain them.
var secretContents = map[string]string{
	"lse-fix-credentials/username": "acme-trader-01",
	"lse-fix-credentials/password": "Tr0ub4dor&3-lse",
	"client-a-tls/tls.key":         "-----BEGIN PRIVATE KEY-----",
	"kafka-sasl/password":          "kafka-s3cret-pw",
}

// Values sets, built as Go maps the way cairn's renderer builds them. Each
// call returns fresh maps.

func initiatorValues() map[string]any {
	return map[string]any{
		"adapter": map[string]any{
			"name": "lse-fix-primary", "environment": "prod", "protocol": "fix", "role": "initiator",
			"description": "LSE order entry", "suspended": false,
		},
		"cairn": map[string]any{"revision": revision, "valuesDigest": digest},
		// The chart's own labels and annotations win over the user's.
		"labels":      map[string]any{"venue": "lse", "team": "connectivity", "cairn.dev/environment": "dev", "app.kubernetes.io/name": "other"},
		"annotations": map[string]any{"example.com/owner": "trading-connectivity", "cairn.dev/revision": "spoofed"},
		"image":       map[string]any{"digest": imageSHA},
		"replicas":    1,
		"session": map[string]any{"fix": map[string]any{
			"version": "FIX.4.4", "senderCompID": "ACME", "targetCompID": "LSE", "heartbeatSeconds": 30,
		}},
		"connect": map[string]any{
			"host": "fix.lse.example.net", "port": 9876, "tls": true,
			"backup": []any{map[string]any{"host": "fix2.lse.example.net", "port": 9877}},
		},
		"egress": map[string]any{"cidrs": []any{"198.51.100.0/24", "203.0.113.10/32"}, "ports": []any{9876, 9877}},
		"secrets": map[string]any{
			"credentials": map[string]any{"name": "lse-fix-credentials", "keys": []any{"username", "password"}},
		},
		"env": []any{
			map[string]any{"name": "LOG_LEVEL", "value": "info"},
			map[string]any{"name": "FIX_PASSWORD", "secretKeyRef": map[string]any{"name": "lse-fix-credentials", "key": "password"}},
		},
	}
}

func acceptorValues() map[string]any {
	return map[string]any{
		"adapter": map[string]any{
			"name": "client-a-fix", "environment": "prod", "protocol": "fix", "role": "acceptor",
			"description": "", "suspended": false,
		},
		"cairn":    map[string]any{"revision": revision, "valuesDigest": digest},
		"labels":   map[string]any{"counterparty": "client-a"},
		"replicas": 1,
		"session": map[string]any{"fix": map[string]any{
			"version": "FIX.4.2", "senderCompID": "ACME", "targetCompID": "CLIENTA",
		}},
		"listen": map[string]any{
			"port": 9880, "tls": true, "serviceType": "LoadBalancer", "nodePort": 0,
			"allowedSources": []any{"203.0.113.0/24", "2001:db8:100::/48"},
		},
		"secrets": map[string]any{
			"tls": map[string]any{"name": "client-a-tls", "keys": []any{"tls.crt", "tls.key", "ca.crt"}},
		},
	}
}

func acceptorHAValues() map[string]any {
	v := acceptorValues()
	v["adapter"].(map[string]any)["name"] = "client-b-fix"
	v["replicas"] = 3
	v["listen"].(map[string]any)["allowedSources"] = []any{"192.0.2.0/28"}
	return v
}

// kafkaSuspendedValues: a suspended Kafka client with two replicas whose
// brokers are DNS names: no cidrs, egress by port only.
func kafkaSuspendedValues() map[string]any {
	return map[string]any{
		"adapter": map[string]any{
			"name": "orders-kafka", "environment": "uat", "protocol": "kafka", "role": "initiator",
			"description": "orders bridge", "suspended": true,
		},
		"cairn":    map[string]any{"revision": revision, "valuesDigest": digest},
		"replicas": 2,
		"session": map[string]any{"kafka": map[string]any{
			"bootstrapServers": []any{"kafka-1.example.net:9093", "kafka-2.example.net:9093"},
			"topics":           map[string]any{"inbound": "orders.in"},
		}},
		"egress": map[string]any{"cidrs": []any{}, "ports": []any{9093}},
		"env": []any{
			map[string]any{"name": "KAFKA_SASL_PASSWORD", "secretKeyRef": map[string]any{"name": "kafka-sasl", "key": "password"}},
		},
	}
}

// tcpNodePortValues: a TCP acceptor behind a NodePort on a privileged port,
// which admits no source yet.
func tcpNodePortValues() map[string]any {
	return map[string]any{
		"adapter": map[string]any{
			"name": "feed-tcp", "environment": "uat", "protocol": "tcp", "role": "acceptor",
			"description": "", "suspended": false,
		},
		"cairn":    map[string]any{"revision": "", "valuesDigest": ""},
		"replicas": 1,
		"session":  map[string]any{"tcp": map[string]any{"framing": "newline"}},
		"listen": map[string]any{
			"port": 700, "tls": false, "serviceType": "NodePort", "nodePort": 30700, "allowedSources": []any{},
		},
	}
}

// expectation says what a values set must render to.
type expectation struct {
	name     string
	values   func() map[string]any
	replicas int32  // effective replicas
	strategy string // Recreate or RollingUpdate
	service  corev1.ServiceType
	pdb      bool
}

var cases = []expectation{
	{name: "initiator", values: initiatorValues, replicas: 1, strategy: "Recreate"},
	{name: "acceptor", values: acceptorValues, replicas: 1, strategy: "Recreate", service: corev1.ServiceTypeLoadBalancer},
	{name: "acceptor-ha", values: acceptorHAValues, replicas: 3, strategy: "RollingUpdate", service: corev1.ServiceTypeLoadBalancer, pdb: true},
	{name: "kafka-suspended", values: kafkaSuspendedValues, replicas: 0, strategy: "RollingUpdate", pdb: true},
	{name: "tcp-nodeport", values: tcpNodePortValues, replicas: 1, strategy: "Recreate", service: corev1.ServiceTypeNodePort},
}

func loadChart(t testing.TB) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	return ch
}

// renderValues renders vals as cairn does: the release is named after the adapter.
// strict makes a reference to a value the chart does not define an error.
func renderValues(ch *chart.Chart, vals map[string]any, strict bool) (map[string]string, error) {
	name := "adapter"
	if a, ok := vals["adapter"].(map[string]any); ok {
		if n, ok := a["name"].(string); ok {
			name = n
		}
	}
	rv, err := chartutil.ToRenderValues(ch, vals,
		chartutil.ReleaseOptions{Name: name, Namespace: namespace, Revision: 1, IsInstall: true},
		chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	files, err := engine.Engine{Strict: strict}.Render(ch, rv)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for name, content := range files {
		if strings.HasPrefix(name[strings.LastIndex(name, "/")+1:], "_") || strings.TrimSpace(content) == "" {
			continue
		}
		out[name] = content
	}
	return out, nil
}

// stream joins rendered files in name order, as one YAML stream.
func stream(files map[string]string) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", name, files[name])
	}
	return b.String()
}

// objects are the rendered objects, decoded strictly into the Kubernetes API
// types: an unknown or misspelt field fails the decode.
type objects struct {
	meta       map[string]metaOf // "Kind/name" -> metadata
	sa         *corev1.ServiceAccount
	cm         *corev1.ConfigMap
	deployment *appsv1.Deployment
	service    *corev1.Service
	policy     *networkingv1.NetworkPolicy
	pdb        *policyv1.PodDisruptionBudget
}

type metaOf struct {
	labels, annotations map[string]string
	namespace           string
}

func decode(t *testing.T, files map[string]string) objects {
	t.Helper()
	o := objects{meta: map[string]metaOf{}}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		content := files[name]
		if strings.Contains(strings.TrimPrefix(content, "---"), "\n---") {
			t.Fatalf("%s renders more than one document", name)
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(content), &head); err != nil {
			t.Fatalf("%s is not YAML: %v\n%s", name, err, content)
		}
		var obj any
		switch head.APIVersion + " " + head.Kind {
		case "v1 ServiceAccount":
			o.sa = new(corev1.ServiceAccount)
			obj = o.sa
		case "v1 ConfigMap":
			o.cm = new(corev1.ConfigMap)
			obj = o.cm
		case "apps/v1 Deployment":
			o.deployment = new(appsv1.Deployment)
			obj = o.deployment
		case "v1 Service":
			o.service = new(corev1.Service)
			obj = o.service
		case "networking.k8s.io/v1 NetworkPolicy":
			o.policy = new(networkingv1.NetworkPolicy)
			obj = o.policy
		case "policy/v1 PodDisruptionBudget":
			o.pdb = new(policyv1.PodDisruptionBudget)
			obj = o.pdb
		default:
			t.Fatalf("%s renders an unexpected object %s %s", name, head.APIVersion, head.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(content), obj); err != nil {
			t.Fatalf("%s: not a valid %s: %v\n%s", name, head.Kind, err, content)
		}
		var m struct {
			Metadata struct {
				Name        string            `json:"name"`
				Namespace   string            `json:"namespace"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(content), &m); err != nil {
			t.Fatal(err)
		}
		key := head.Kind + "/" + m.Metadata.Name
		if _, dup := o.meta[key]; dup {
			t.Fatalf("%s rendered twice", key)
		}
		o.meta[key] = metaOf{labels: m.Metadata.Labels, annotations: m.Metadata.Annotations, namespace: m.Metadata.Namespace}
	}
	return o
}

// mapOf reads a map of strings out of values.
func mapOf(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, v := range m {
		out[k] = v.(string)
	}
	return out
}

func stringsOf(v any) []string {
	out := []string{}
	l, _ := v.([]any)
	for _, s := range l {
		out = append(out, s.(string))
	}
	return out
}

func intsOf(v any) []int32 {
	out := []int32{}
	l, _ := v.([]any)
	for _, p := range l {
		out = append(out, num(p))
	}
	return out
}

// num reads a number out of values: an int from Go, a float64 from YAML.
func num(v any) int32 {
	switch n := v.(type) {
	case int:
		return int32(n)
	case int64:
		return int32(n)
	case float64:
		return int32(n)
	}
	panic(fmt.Sprintf("not a number: %#v", v))
}

// coalesced returns vals merged over the chart's defaults, as the templates see them.
func coalesced(t *testing.T, ch *chart.Chart, vals map[string]any) map[string]any {
	t.Helper()
	v, err := chartutil.CoalesceValues(ch, vals)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestLint(t *testing.T) {
	sets := map[string]map[string]any{"defaults": nil}
	for _, c := range cases {
		sets[c.name] = c.values()
	}
	for _, name := range slices.Sorted(maps.Keys(sets)) {
		t.Run(name, func(t *testing.T) {
			l := lint.All(chartDir, sets[name], namespace, false)
			for _, m := range l.Messages {
				t.Errorf("lint: %s", m)
			}
			if l.HighestSeverity != support.UnknownSev {
				t.Errorf("lint: highest severity %d, want none", l.HighestSeverity)
			}
		})
	}
}

func TestRender(t *testing.T) {
	ch := loadChart(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vals := c.values()
			files, err := renderValues(ch, vals, true)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			v := coalesced(t, ch, vals)
			o := decode(t, files)
			adapter := v["adapter"].(map[string]any)
			name := adapter["name"].(string)
			acceptor := adapter["role"] == "acceptor"

			// The objects, by kind and name: all named after the adapter.
			want := []string{"ConfigMap/" + name, "Deployment/" + name, "NetworkPolicy/" + name, "ServiceAccount/" + name}
			if acceptor {
				want = append(want, "Service/"+name)
			}
			if c.pdb {
				want = append(want, "PodDisruptionBudget/"+name)
			}
			sort.Strings(want)
			if got := slices.Sorted(maps.Keys(o.meta)); !slices.Equal(got, want) {
				t.Fatalf("objects %v, want %v", got, want)
			}

			checkMetadata(t, ch, v, o)
			checkDeployment(t, c, v, o)
			checkSecretsStayOut(t, v, files, o)
			checkService(t, c, v, o)
			checkNetworkPolicy(t, v, o)
			if c.pdb {
				if o.pdb.Spec.MaxUnavailable == nil || *o.pdb.Spec.MaxUnavailable != intstr.FromInt32(1) || o.pdb.Spec.MinAvailable != nil {
					t.Errorf("PDB: maxUnavailable %v minAvailable %v, want maxUnavailable 1 only", o.pdb.Spec.MaxUnavailable, o.pdb.Spec.MinAvailable)
				}
				if !reflect.DeepEqual(o.pdb.Spec.Selector.MatchLabels, o.deployment.Spec.Selector.MatchLabels) {
					t.Errorf("PDB selector %v, Deployment selector %v", o.pdb.Spec.Selector.MatchLabels, o.deployment.Spec.Selector.MatchLabels)
				}
			}
			if o.sa.AutomountServiceAccountToken == nil || *o.sa.AutomountServiceAccountToken {
				t.Error("ServiceAccount: automountServiceAccountToken is not false")
			}
			checkConfigMap(t, v, o)
		})
	}
}

// checkMetadata: every object carries the standard and cairn.dev labels, the
// user's labels, the provenance annotations and the user's annotations; no
// object sets its own namespace (the release's applies).
func checkMetadata(t *testing.T, ch *chart.Chart, v map[string]any, o objects) {
	t.Helper()
	adapter := v["adapter"].(map[string]any)
	cairn := v["cairn"].(map[string]any)
	wantLabels := mapOf(v["labels"])
	maps.Copy(wantLabels, map[string]string{
		"app.kubernetes.io/name":       "cairn-adapter",
		"app.kubernetes.io/instance":   adapter["name"].(string),
		"app.kubernetes.io/managed-by": "cairn",
		"app.kubernetes.io/part-of":    ch.Metadata.Name,
		"app.kubernetes.io/version":    ch.Metadata.AppVersion,
		"helm.sh/chart":                ch.Metadata.Name + "-" + ch.Metadata.Version,
		"cairn.dev/adapter":            adapter["name"].(string),
		"cairn.dev/environment":        adapter["environment"].(string),
		"cairn.dev/protocol":           adapter["protocol"].(string),
		"cairn.dev/role":               adapter["role"].(string),
	})
	wantAnnotations := mapOf(v["annotations"])
	maps.Copy(wantAnnotations, map[string]string{
		"cairn.dev/revision":      cairn["revision"].(string),
		"cairn.dev/values-digest": cairn["valuesDigest"].(string),
	})
	for key, m := range o.meta {
		if !maps.Equal(m.labels, wantLabels) {
			t.Errorf("%s labels\n %v, want\n %v", key, m.labels, wantLabels)
		}
		if !maps.Equal(m.annotations, wantAnnotations) {
			t.Errorf("%s annotations\n %v, want\n %v", key, m.annotations, wantAnnotations)
		}
		if m.namespace != "" {
			t.Errorf("%s sets namespace %q", key, m.namespace)
		}
	}
	// The pods: the same labels but the chart's version labels (a new chart
	// version alone must not restart a session).
	pod := maps.Clone(wantLabels)
	delete(pod, "app.kubernetes.io/version")
	delete(pod, "helm.sh/chart")
	if got := o.deployment.Spec.Template.Labels; !maps.Equal(got, pod) {
		t.Errorf("pod labels\n %v, want\n %v", got, pod)
	}
}

func checkDeployment(t *testing.T, c expectation, v map[string]any, o objects) {
	t.Helper()
	d := o.deployment
	adapter := v["adapter"].(map[string]any)
	name := adapter["name"].(string)
	acceptor := adapter["role"] == "acceptor"
	selector := map[string]string{"app.kubernetes.io/name": "cairn-adapter", "app.kubernetes.io/instance": name}

	if d.Spec.Replicas == nil || *d.Spec.Replicas != c.replicas {
		t.Errorf("replicas %v, want %d", d.Spec.Replicas, c.replicas)
	}
	if !maps.Equal(d.Spec.Selector.MatchLabels, selector) || len(d.Spec.Selector.MatchExpressions) != 0 {
		t.Errorf("selector %v, want %v", d.Spec.Selector, selector)
	}
	if got := string(d.Spec.Strategy.Type); got != c.strategy {
		t.Errorf("strategy %s, want %s", got, c.strategy)
	}
	if ru := d.Spec.Strategy.RollingUpdate; c.strategy == "RollingUpdate" && adapter["protocol"] != "kafka" {
		// A session protocol never has more pods than replicas.
		if ru == nil || ru.MaxSurge == nil || ru.MaxSurge.IntValue() != 0 {
			t.Errorf("rolling update of a %s session: %+v, want maxSurge 0", adapter["protocol"], ru)
		}
	}

	ps := d.Spec.Template.Spec
	if ps.ServiceAccountName != name || ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
		t.Errorf("pod service account %q automount %v", ps.ServiceAccountName, ps.AutomountServiceAccountToken)
	}
	if sc := ps.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v", sc)
	}
	if len(ps.Containers) != 1 || len(ps.InitContainers) != 0 {
		t.Fatalf("%d containers, %d init containers, want 1 and 0", len(ps.Containers), len(ps.InitContainers))
	}
	ctr := ps.Containers[0]
	img := v["image"].(map[string]any)
	wantImage := img["repository"].(string) + ":" + img["tag"].(string)
	if img["digest"] != "" {
		wantImage = img["repository"].(string) + "@" + img["digest"].(string)
	}
	if ctr.Image != wantImage {
		t.Errorf("image %q, want %q", ctr.Image, wantImage)
	}
	sc := ctr.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Privileged == nil || *sc.Privileged ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container securityContext %+v", sc)
	}

	// Ports and probes.
	wantPorts := []corev1.ContainerPort{{Name: "health", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}
	if acceptor {
		port := num(v["listen"].(map[string]any)["port"])
		wantPorts = append(wantPorts, corev1.ContainerPort{Name: "session", ContainerPort: port, Protocol: corev1.ProtocolTCP})
		if port < 1024 {
			want := []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: fmt.Sprint(port)}}
			if !reflect.DeepEqual(ps.SecurityContext.Sysctls, want) {
				t.Errorf("sysctls %v, want %v", ps.SecurityContext.Sysctls, want)
			}
		}
	}
	if !reflect.DeepEqual(ctr.Ports, wantPorts) {
		t.Errorf("ports %+v, want %+v", ctr.Ports, wantPorts)
	}
	for probeName, p := range map[string]*corev1.Probe{"liveness": ctr.LivenessProbe, "readiness": ctr.ReadinessProbe} {
		if p == nil || p.TCPSocket == nil || p.TCPSocket.Port != intstr.FromString("health") {
			t.Errorf("%s probe %+v, want tcpSocket on port health", probeName, p)
		}
	}
	if ctr.Resources.Limits.Memory().IsZero() || ctr.Resources.Requests.Cpu().IsZero() {
		t.Errorf("resources %+v", ctr.Resources)
	}

	// Environment: the adapter's identity, then .Values.env in order.
	wantEnv := []corev1.EnvVar{
		{Name: "CAIRN_ADAPTER", Value: name},
		{Name: "CAIRN_ENVIRONMENT", Value: adapter["environment"].(string)},
	}
	for _, e := range v["env"].([]any) {
		e := e.(map[string]any)
		if ref, ok := e["secretKeyRef"].(map[string]any); ok {
			wantEnv = append(wantEnv, corev1.EnvVar{Name: e["name"].(string), ValueFrom: &corev1.EnvVarSource{
				SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: ref["name"].(string)},
					Key:                  ref["key"].(string),
				}}})
			continue
		}
		wantEnv = append(wantEnv, corev1.EnvVar{Name: e["name"].(string), Value: e["value"].(string)})
	}
	if !reflect.DeepEqual(ctr.Env, wantEnv) {
		t.Errorf("env\n %+v, want\n %+v", ctr.Env, wantEnv)
	}
	if len(ctr.EnvFrom) != 0 {
		t.Errorf("envFrom %+v: a whole Secret or ConfigMap in the environment", ctr.EnvFrom)
	}

	// Volumes: the session file, each referenced Secret with exactly its keys,
	// and scratch space.
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range ctr.VolumeMounts {
		mounts[m.Name] = m
	}
	volumes := map[string]corev1.Volume{}
	for _, vol := range ps.Volumes {
		volumes[vol.Name] = vol
	}
	if m := mounts["config"]; m.MountPath != "/etc/cairn/session.json" || m.SubPath != "session.json" || !m.ReadOnly {
		t.Errorf("config mount %+v", m)
	}
	if cm := volumes["config"].ConfigMap; cm == nil || cm.Name != name {
		t.Errorf("config volume %+v", volumes["config"])
	}
	if m := mounts["tmp"]; m.MountPath != "/tmp" || volumes["tmp"].EmptyDir == nil {
		t.Errorf("tmp mount %+v volume %+v", m, volumes["tmp"])
	}
	wantVolumes := []string{"config", "tmp"}
	secrets := v["secrets"].(map[string]any)
	for _, which := range []string{"credentials", "tls"} {
		ref := secrets[which].(map[string]any)
		if ref["name"] == "" {
			if _, ok := volumes[which]; ok {
				t.Errorf("%s volume without a Secret", which)
			}
			continue
		}
		wantVolumes = append(wantVolumes, which)
		s := volumes[which].Secret
		if s == nil || s.SecretName != ref["name"] {
			t.Errorf("%s volume %+v, want Secret %s", which, volumes[which], ref["name"])
			continue
		}
		var items []corev1.KeyToPath
		for _, k := range stringsOf(ref["keys"]) {
			items = append(items, corev1.KeyToPath{Key: k, Path: k})
		}
		if !reflect.DeepEqual(s.Items, items) {
			t.Errorf("%s volume items %+v, want exactly %+v", which, s.Items, items)
		}
		if s.DefaultMode == nil || *s.DefaultMode != 0o440 {
			t.Errorf("%s volume mode %v, want 0440", which, s.DefaultMode)
		}
		if m := mounts[which]; m.MountPath != "/etc/cairn/"+which || !m.ReadOnly {
			t.Errorf("%s mount %+v", which, m)
		}
	}
	sort.Strings(wantVolumes)
	if got := slices.Sorted(maps.Keys(volumes)); !slices.Equal(got, wantVolumes) {
		t.Errorf("volumes %v, want %v", got, wantVolumes)
	}
	if got := slices.Sorted(maps.Keys(mounts)); !slices.Equal(got, wantVolumes) {
		t.Errorf("mounts %v, want %v", got, wantVolumes)
	}
}

// checkSecretsStayOut: no Secret is rendered, no Secret's content appears in
// any manifest, and a variable read from a Secret has no literal value.
func checkSecretsStayOut(t *testing.T, v map[string]any, files map[string]string, o objects) {
	t.Helper()
	for key := range o.meta {
		if strings.HasPrefix(key, "Secret/") {
			t.Errorf("the chart renders %s", key)
		}
	}
	all := stream(files)
	for ref, secret := range secretContents {
		if strings.Contains(all, secret) {
			t.Errorf("a rendered manifest contains the content of Secret key %s", ref)
		}
	}
	for _, e := range o.deployment.Spec.Template.Spec.Containers[0].Env {
		if e.ValueFrom != nil && e.Value != "" {
			t.Errorf("env %s has both a Secret reference and a literal value", e.Name)
		}
	}
	// Only the chart's ConfigMap carries data.
	if n := strings.Count(all, "\ndata:"); n != 1 {
		t.Errorf("%d objects with data, want 1 (the ConfigMap)", n)
	}
}

func checkService(t *testing.T, c expectation, v map[string]any, o objects) {
	t.Helper()
	if c.service == "" {
		if o.service != nil {
			t.Errorf("an initiator renders a Service")
		}
		return
	}
	s := o.service
	listen := v["listen"].(map[string]any)
	if s.Spec.Type != c.service {
		t.Errorf("service type %s, want %s", s.Spec.Type, c.service)
	}
	if !maps.Equal(s.Spec.Selector, o.deployment.Spec.Selector.MatchLabels) {
		t.Errorf("service selector %v, Deployment selector %v", s.Spec.Selector, o.deployment.Spec.Selector.MatchLabels)
	}
	want := corev1.ServicePort{Name: "session", Protocol: corev1.ProtocolTCP, Port: num(listen["port"]), TargetPort: intstr.FromString("session")}
	if c.service == corev1.ServiceTypeNodePort {
		want.NodePort = num(listen["nodePort"])
	}
	if len(s.Spec.Ports) != 1 || s.Spec.Ports[0] != want {
		t.Errorf("service ports %+v, want %+v", s.Spec.Ports, want)
	}
	sources := stringsOf(listen["allowedSources"])
	if c.service == corev1.ServiceTypeLoadBalancer {
		if len(sources) == 0 || !slices.Equal(s.Spec.LoadBalancerSourceRanges, sources) {
			t.Errorf("loadBalancerSourceRanges %v, want allowedSources %v", s.Spec.LoadBalancerSourceRanges, sources)
		}
	} else if len(s.Spec.LoadBalancerSourceRanges) != 0 {
		t.Errorf("loadBalancerSourceRanges on a %s Service", c.service)
	}
	if c.service != corev1.ServiceTypeClusterIP && s.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
		t.Errorf("externalTrafficPolicy %q: the source address would be lost before the NetworkPolicy", s.Spec.ExternalTrafficPolicy)
	}
}

// checkNetworkPolicy: ingress only from allowedSources on the session port;
// egress exactly to the orchestrator, DNS and the adapter's endpoints.
func checkNetworkPolicy(t *testing.T, v map[string]any, o objects) {
	t.Helper()
	p := o.policy.Spec
	adapter := v["adapter"].(map[string]any)
	listen := v["listen"].(map[string]any)
	egress := v["egress"].(map[string]any)
	orch := v["orchestrator"].(map[string]any)
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	port := func(proto *corev1.Protocol, n int32) networkingv1.NetworkPolicyPort {
		p := intstr.FromInt32(n)
		return networkingv1.NetworkPolicyPort{Protocol: proto, Port: &p}
	}

	if !maps.Equal(p.PodSelector.MatchLabels, o.deployment.Spec.Selector.MatchLabels) || len(p.PodSelector.MatchExpressions) != 0 {
		t.Errorf("podSelector %v, Deployment selector %v", p.PodSelector, o.deployment.Spec.Selector.MatchLabels)
	}
	if !slices.Equal(p.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
		t.Errorf("policyTypes %v", p.PolicyTypes)
	}

	sources := stringsOf(listen["allowedSources"])
	if adapter["role"] == "acceptor" && len(sources) > 0 {
		if len(p.Ingress) != 1 {
			t.Fatalf("%d ingress rules, want 1", len(p.Ingress))
		}
		var got []string
		for _, peer := range p.Ingress[0].From {
			if peer.IPBlock == nil || peer.PodSelector != nil || peer.NamespaceSelector != nil || len(peer.IPBlock.Except) != 0 {
				t.Errorf("ingress peer %+v is not a plain ipBlock", peer)
				continue
			}
			got = append(got, peer.IPBlock.CIDR)
		}
		if !slices.Equal(got, sources) {
			t.Errorf("ingress ipBlocks %v, want allowedSources %v", got, sources)
		}
		want := []networkingv1.NetworkPolicyPort{port(&tcp, num(listen["port"]))}
		if !reflect.DeepEqual(p.Ingress[0].Ports, want) {
			t.Errorf("ingress ports %+v, want the session port only", p.Ingress[0].Ports)
		}
	} else if len(p.Ingress) != 0 {
		t.Errorf("ingress %+v, want none (deny all)", p.Ingress)
	}

	// Egress: classify every rule; each kind exactly once, nothing else.
	kinds := map[string]int{}
	for _, r := range p.Egress {
		if len(r.Ports) == 0 {
			t.Errorf("egress rule %+v admits every port", r)
		}
		switch {
		case len(r.To) == 1 && r.To[0].NamespaceSelector != nil &&
			r.To[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] == orch["namespace"]:
			kinds["orchestrator"]++
			if !maps.Equal(r.To[0].PodSelector.MatchLabels, mapOf(orch["podLabels"])) {
				t.Errorf("orchestrator podSelector %v, want %v", r.To[0].PodSelector, orch["podLabels"])
			}
			if want := []networkingv1.NetworkPolicyPort{port(&tcp, num(orch["port"]))}; !reflect.DeepEqual(r.Ports, want) {
				t.Errorf("orchestrator ports %+v", r.Ports)
			}
		case len(r.To) == 1 && r.To[0].NamespaceSelector != nil &&
			r.To[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] == "kube-system":
			kinds["dns"]++
			if !maps.Equal(r.To[0].PodSelector.MatchLabels, map[string]string{"k8s-app": "kube-dns"}) {
				t.Errorf("DNS podSelector %v", r.To[0].PodSelector)
			}
			if want := []networkingv1.NetworkPolicyPort{port(&udp, 53), port(&tcp, 53)}; !reflect.DeepEqual(r.Ports, want) {
				t.Errorf("DNS ports %+v", r.Ports)
			}
		default:
			kinds["endpoints"]++
			var got []string
			for _, peer := range r.To {
				if peer.IPBlock == nil || peer.PodSelector != nil || peer.NamespaceSelector != nil {
					t.Errorf("endpoint peer %+v is not a plain ipBlock", peer)
					continue
				}
				got = append(got, peer.IPBlock.CIDR)
			}
			if cidrs := stringsOf(egress["cidrs"]); !slices.Equal(got, cidrs) && !(len(got) == 0 && len(cidrs) == 0) {
				t.Errorf("endpoint ipBlocks %v, want egress.cidrs %v", got, cidrs)
			}
			var want []networkingv1.NetworkPolicyPort
			for _, n := range intsOf(egress["ports"]) {
				want = append(want, port(&tcp, n))
			}
			if !reflect.DeepEqual(r.Ports, want) {
				t.Errorf("endpoint ports %+v, want egress.ports %v", r.Ports, egress["ports"])
			}
		}
	}
	want := map[string]int{"orchestrator": 1, "dns": 1}
	if len(intsOf(egress["ports"])) > 0 {
		want["endpoints"] = 1
	}
	if !maps.Equal(kinds, want) {
		t.Errorf("egress rules %v, want %v", kinds, want)
	}
}

// checkConfigMap: session.json is JSON holding exactly the adapter's identity,
// its session, connect and listen blocks, and the pod carries its checksum.
func checkConfigMap(t *testing.T, v map[string]any, o objects) {
	t.Helper()
	doc := o.cm.Data["session.json"]
	if len(o.cm.Data) != 1 || len(o.cm.BinaryData) != 0 {
		t.Errorf("ConfigMap keys %v, want session.json only", slices.Sorted(maps.Keys(o.cm.Data)))
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatalf("session.json: %v\n%s", err, doc)
	}
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, []string{"adapter", "connect", "listen", "session"}) {
		t.Errorf("session.json keys %v", keys)
	}
	adapter := v["adapter"].(map[string]any)
	for _, k := range []string{"name", "environment", "protocol", "role"} {
		if got["adapter"].(map[string]any)[k] != adapter[k] {
			t.Errorf("session.json adapter.%s = %v, want %v", k, got["adapter"].(map[string]any)[k], adapter[k])
		}
	}
	wantSession, _ := json.Marshal(v["session"])
	if gotSession, _ := json.Marshal(got["session"]); !bytes.Equal(gotSession, wantSession) {
		t.Errorf("session.json session %s, want %s", gotSession, wantSession)
	}
	sum := sha256.Sum256([]byte(doc))
	if got := o.deployment.Spec.Template.Annotations["cairn.dev/config-checksum"]; got != hex.EncodeToString(sum[:]) {
		t.Errorf("config checksum %q, want sha256 of session.json", got)
	}
}

// TestDeterministic: the same values render the same bytes, whatever the
// chart instance, and Helm's strict mode finds no undefined value.
func TestDeterministic(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			first, err := renderValues(loadChart(t), c.values(), true)
			if err != nil {
				t.Fatal(err)
			}
			second, err := renderValues(loadChart(t), c.values(), false)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := stream(first), stream(second); a != b {
				t.Errorf("two renders differ:\n%s\n----\n%s", a, b)
			}
		})
	}
}

// TestPodRestarts: a change the adapter process does not read (allowed
// sources, labels, description, provenance) leaves the pod template alone;
// a change of the session rolls the pods.
func TestPodRestarts(t *testing.T) {
	ch := loadChart(t)
	podOf := func(vals map[string]any) string {
		t.Helper()
		files, err := renderValues(ch, vals, true)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(decode(t, files).deployment.Spec.Template)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	base := podOf(acceptorValues())

	same := acceptorValues()
	same["listen"].(map[string]any)["allowedSources"] = []any{"203.0.113.0/24", "198.51.100.0/24"}
	same["adapter"].(map[string]any)["description"] = "client A, widened"
	same["cairn"] = map[string]any{"revision": strings.Repeat("f", 40), "valuesDigest": "sha256:" + strings.Repeat("cd", 32)}
	same["annotations"] = map[string]any{"example.com/ticket": "CHG-1234"}
	if podOf(same) != base {
		t.Error("a change the adapter does not read changed the pod template (the session would restart)")
	}

	changed := acceptorValues()
	changed["session"].(map[string]any)["fix"].(map[string]any)["heartbeatSeconds"] = 60
	if podOf(changed) == base {
		t.Error("a change of the session configuration left the pod template alone (the pods would not pick it up)")
	}
}

// TestValuesRejected: values that break the contract fail to render with an
// error naming the field, and never echo a value given for a secret.
func TestValuesRejected(t *testing.T) {
	ch := loadChart(t)
	tests := []struct {
		name  string
		patch func(v map[string]any)
		field string
	}{
		{"replicas not a number", func(v map[string]any) { v["replicas"] = "two" }, "/replicas"},
		{"replicas negative", func(v map[string]any) { v["replicas"] = -1 }, "/replicas"},
		{"port out of range", func(v map[string]any) { v["listen"].(map[string]any)["port"] = 70000 }, "/listen/port"},
		{"acceptor without a port", func(v map[string]any) { v["listen"].(map[string]any)["port"] = 0 }, "/listen/port"},
		{"session port is the health port", func(v map[string]any) { v["listen"].(map[string]any)["port"] = 8080 }, "/listen/port"},
		{"acceptor named with a digit first", func(v map[string]any) { v["adapter"].(map[string]any)["name"] = "1client" }, "/adapter/name"},
		{"unknown protocol", func(v map[string]any) { v["adapter"].(map[string]any)["protocol"] = "fixt" }, "/adapter/protocol"},
		{"unknown role", func(v map[string]any) { v["adapter"].(map[string]any)["role"] = "both" }, "/adapter/role"},
		{"unknown service type", func(v map[string]any) { v["listen"].(map[string]any)["serviceType"] = "ExternalName" }, "/listen/serviceType"},
		{"node port out of range", func(v map[string]any) { v["listen"].(map[string]any)["nodePort"] = 8080 }, "/listen/nodePort"},
		{"unknown pull policy", func(v map[string]any) { v["image"] = map[string]any{"pullPolicy": "Sometimes"} }, "/image/pullPolicy"},
		{"not a CIDR", func(v map[string]any) { v["listen"].(map[string]any)["allowedSources"] = []any{"client-a.example.net"} }, "/listen/allowedSources/0"},
		{"unknown key", func(v map[string]any) { v["replica"] = 2 }, "replica"},
		{"unknown nested key", func(v map[string]any) { v["listen"].(map[string]any)["hostPort"] = 9880 }, "hostPort"},
		{"Secret without keys", func(v map[string]any) { v["secrets"].(map[string]any)["tls"].(map[string]any)["keys"] = []any{} }, "/secrets/tls/keys"},
		{"label value too long", func(v map[string]any) { v["labels"] = map[string]any{"venue": strings.Repeat("x", 64)} }, "/labels/venue"},
		{"value and secretKeyRef", func(v map[string]any) {
			v["env"] = []any{map[string]any{"name": "FIX_PASSWORD", "value": "Tr0ub4dor&3-lse",
				"secretKeyRef": map[string]any{"name": "lse-fix-credentials", "key": "password"}}}
		}, "/env/0"},
		{"reserved variable", func(v map[string]any) { v["env"] = []any{map[string]any{"name": "CAIRN_ADAPTER", "value": "x"}} }, "/env/0/name"},
		{"null wipes a key", func(v map[string]any) { v["orchestrator"] = map[string]any{"port": nil} }, "port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals := acceptorValues()
			tt.patch(vals)
			_, err := renderValues(ch, vals, true)
			if err == nil {
				t.Fatalf("rendered; want an error naming %s", tt.field)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error does not name %s:\n%v", tt.field, err)
			}
			for _, secret := range secretContents {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error echoes a secret value:\n%v", err)
				}
			}
		})
	}
}
