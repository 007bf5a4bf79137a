package render_test

// Review tests: valid manifests at the edges of the schemas must render, and
// rendering must stay deterministic and keep revisions and chart
// documentation out of the digests.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cairn-gitops/cairn/charts"
	"github.com/cairn-gitops/cairn/internal/manifest"
	"github.com/cairn-gitops/cairn/internal/validate"
	"github.com/cairn-gitops/cairn/render"
)

// reviewRepo is the cairn.json of the review repositories.
func reviewRepo() map[string]any {
	return map[string]any{
		"apiVersion": "cairn.dev/v1alpha1", "kind": "Repository", "metadata": map[string]any{"name": "review"},
		"spec": map[string]any{
			"environments": map[string]any{"uat": map[string]any{"namespace": "connectivity-uat"}},
			"image":        map[string]any{"repository": "registry.acme.example/adapter", "tag": "1.2.3"},
			"orchestrator": map[string]any{"namespace": "connectivity-system",
				"podLabels": map[string]any{"app.kubernetes.io/name": "orchestrator"}, "port": 8443},
		},
	}
}

func reviewInitiator(name string) map[string]any {
	return map[string]any{
		"apiVersion": "cairn.dev/v1alpha1", "kind": "Adapter",
		"metadata": map[string]any{"name": name, "environment": "uat"},
		"spec": map[string]any{"protocol": "fix", "role": "initiator",
			"fix":     map[string]any{"version": "FIX.4.4", "senderCompID": "ACME", "targetCompID": "VENUE"},
			"connect": map[string]any{"host": "fix.venue.example.net", "port": 9876}},
	}
}

func reviewAcceptor(name string) map[string]any {
	return map[string]any{
		"apiVersion": "cairn.dev/v1alpha1", "kind": "Adapter",
		"metadata": map[string]any{"name": name, "environment": "uat"},
		"spec": map[string]any{"protocol": "fix", "role": "acceptor",
			"fix":    map[string]any{"version": "FIX.4.4", "senderCompID": "ACME", "targetCompID": "CLIENT"},
			"listen": map[string]any{"port": 9880, "allowedSources": []any{"203.0.113.0/24"}}},
	}
}

func reviewKafka(name string, servers []any, protocol string) map[string]any {
	k := map[string]any{"bootstrapServers": servers, "topics": map[string]any{"inbound": "orders.in", "outbound": "orders.out"}}
	if protocol != "" {
		k["securityProtocol"] = protocol
	}
	return map[string]any{
		"apiVersion": "cairn.dev/v1alpha1", "kind": "Adapter",
		"metadata": map[string]any{"name": name, "environment": "uat"},
		"spec":     map[string]any{"protocol": "kafka", "role": "initiator", "kafka": k},
	}
}

// reviewValidate writes cairn.json and one file per adapter into a new
// directory, validates it, and returns the render input; invalid
// repositories fail the test.
func reviewValidate(t *testing.T, repo map[string]any, adapters ...map[string]any) render.Input {
	t.Helper()
	dir := t.TempDir()
	write := func(p string, v any) {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		p = filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("cairn.json", repo)
	for i, a := range adapters {
		write(fmt.Sprintf("adapters/a%03d.json", i), a)
	}
	v, err := validate.New(validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Validate(context.Background(), manifest.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Valid() {
		t.Fatalf("the review repository does not validate: %+v", res.Findings)
	}
	in := render.Input{Repository: res.Repository}
	for _, a := range res.Adapters {
		in.Adapters = append(in.Adapters, a.Adapter)
	}
	return in
}

func spec(a map[string]any) map[string]any { return a["spec"].(map[string]any) }

// renderOne renders a repository holding one adapter and returns its
// release as YAML.
func renderOne(t *testing.T, repo map[string]any, a map[string]any) (render.Release, string) {
	t.Helper()
	rels, err := renderer(t).Render(context.Background(), reviewValidate(t, repo, a))
	if err != nil {
		t.Fatalf("a valid adapter does not render: %v", err)
	}
	if len(rels) != 1 {
		t.Fatalf("%d releases, want 1", len(rels))
	}
	var b bytes.Buffer
	if err := render.WriteYAML(&b, rels); err != nil {
		t.Fatal(err)
	}
	return rels[0], b.String()
}

func kinds(r render.Release) string {
	var ks []string
	for _, o := range r.Objects {
		ks = append(ks, o.Kind)
	}
	return strings.Join(ks, ",")
}

// TestReviewValidEdgesRender renders valid manifests at the edges of the
// schemas (each accepted by cairn validate) and checks what they produce.
func TestReviewValidEdgesRender(t *testing.T) {
	manyLabels := map[string]any{}
	for i := range 64 {
		manyLabels[fmt.Sprintf("team.example.com/k_%02d", i)] = fmt.Sprintf("v.%02d_x-y", i)
	}
	manyAnnotations := map[string]any{}
	for i := range 64 {
		manyAnnotations[fmt.Sprintf("review.example.com/note-%02d", i)] = strings.Repeat("n", 200)
	}
	var env []any
	for i := range 64 {
		if i%2 == 0 {
			env = append(env, map[string]any{"name": fmt.Sprintf("LIT_%02d", i), "value": fmt.Sprintf("v%d", i)})
		} else {
			env = append(env, map[string]any{"name": fmt.Sprintf("REF_%02d", i), "secretKeyRef": map[string]any{"name": "env-secrets", "key": fmt.Sprintf("key-%d", i)}})
		}
	}
	var sixteen []any
	for i := range 16 {
		sixteen = append(sixteen, fmt.Sprintf("broker-%d.kafka.example.net:%d", i, 9092+i))
	}
	digest := "sha256:" + strings.Repeat("ab", 32)

	tests := []struct {
		name  string
		edit  func(repo, a map[string]any) map[string]any // returns the adapter
		kinds string                                      // kinds of the rendered objects
		want  []string                                    // in the YAML
		not   []string                                    // not in the YAML
	}{
		{name: "replicas 0", edit: func(_, a map[string]any) map[string]any { spec(a)["replicas"] = 0; return a },
			kinds: "NetworkPolicy,ServiceAccount,ConfigMap,Deployment", want: []string{"  replicas: 0\n", "type: Recreate"}},
		{name: "replicas 16", edit: func(_, a map[string]any) map[string]any { spec(a)["replicas"] = 16; return a },
			kinds: "NetworkPolicy,PodDisruptionBudget,ServiceAccount,ConfigMap,Deployment",
			want:  []string{"  replicas: 16\n", "maxSurge: 0", "maxUnavailable: 1"}},
		{name: "suspended keeps objects and budget", edit: func(_, a map[string]any) map[string]any {
			spec(a)["suspended"], spec(a)["replicas"] = true, 3
			return a
		}, kinds: "NetworkPolicy,PodDisruptionBudget,ServiceAccount,ConfigMap,Deployment", want: []string{"  replicas: 0\n"}},
		{name: "acceptor NodePort with a node port", edit: func(_, _ map[string]any) map[string]any {
			a := reviewAcceptor("np-acceptor")
			l := spec(a)["listen"].(map[string]any)
			l["serviceType"], l["nodePort"] = "NodePort", 32767
			return a
		}, kinds: "NetworkPolicy,ServiceAccount,ConfigMap,Service,Deployment",
			want: []string{"type: NodePort", "nodePort: 32767", "externalTrafficPolicy: Local"}, not: []string{"loadBalancerSourceRanges"}},
		{name: "acceptor ClusterIP", edit: func(_, _ map[string]any) map[string]any {
			a := reviewAcceptor("cip-acceptor")
			spec(a)["listen"].(map[string]any)["serviceType"] = "ClusterIP"
			return a
		}, kinds: "NetworkPolicy,ServiceAccount,ConfigMap,Service,Deployment",
			want: []string{"type: ClusterIP"}, not: []string{"externalTrafficPolicy", "loadBalancerSourceRanges"}},
		{name: "acceptor with IPv6 ranges", edit: func(_, _ map[string]any) map[string]any {
			a := reviewAcceptor("v6-acceptor")
			spec(a)["listen"].(map[string]any)["allowedSources"] = []any{"2001:db8:100::/48", "198.51.100.0/26"}
			return a
		}, want: []string{`cidr: "2001:db8:100::/48"`, `cidr: "198.51.100.0/26"`, "- 2001:db8:100::/48", "port: 9880"}},
		{name: "acceptor on a privileged port", edit: func(_, _ map[string]any) map[string]any {
			a := reviewAcceptor("low-port")
			spec(a)["listen"].(map[string]any)["port"] = 443
			return a
		}, want: []string{"net.ipv4.ip_unprivileged_port_start", `value: "443"`}},
		{name: "IPv4 and IPv6 literal endpoints pin egress", edit: func(_, a map[string]any) map[string]any {
			spec(a)["connect"] = map[string]any{"host": "192.0.2.10", "port": 9876,
				"backup": []any{map[string]any{"host": "2001:db8::10", "port": 9877}}}
			return a
		}, want: []string{`cidr: "192.0.2.10/32"`, `cidr: "2001:db8::10/128"`, "port: 9877"}},
		{name: "DNS endpoint: egress by port only", edit: func(_, a map[string]any) map[string]any { return a },
			want: []string{"port: 9876"}, not: []string{"ipBlock"}},
		{name: "kafka with 16 bootstrap servers", edit: func(_, _ map[string]any) map[string]any {
			return reviewKafka("kafka-16", sixteen, "SASL_SSL")
		}, want: []string{"port: 9092", "port: 9107", "maxSurge: 1"}},
		{name: "tcp without a protocol block", edit: func(_, a map[string]any) map[string]any {
			spec(a)["protocol"] = "tcp"
			delete(spec(a), "fix")
			return a
		}, want: []string{`"protocol": "tcp"`}},
		{name: "FIXT.1.1", edit: func(_, a map[string]any) map[string]any {
			spec(a)["fix"] = map[string]any{"version": "FIXT.1.1", "defaultApplVerID": "FIX.5.0SP2",
				"senderCompID": `AC"ME{{x}}\`, "targetCompID": "VENUE"}
			return a
		}, want: []string{`"defaultApplVerID": "FIX.5.0SP2"`, `"senderCompID": "AC\"ME{{x}}\\"`}},
		{name: "64 env vars mixing literals and Secret keys", edit: func(_, a map[string]any) map[string]any {
			spec(a)["env"] = env
			return a
		}, want: []string{`name: "LIT_62"`, `value: "v62"`, `name: "REF_63"`, `key: "key-63"`}},
		{name: "TLS Secret with several keys and credentials", edit: func(_, a map[string]any) map[string]any {
			spec(a)["tls"] = map[string]any{"secretRef": map[string]any{"name": "venue.tls", "keys": []any{"tls.crt", "tls.key", "ca.crt", "client_chain-1.pem"}}}
			spec(a)["credentials"] = map[string]any{"secretRef": map[string]any{"name": "venue-credentials", "keys": []any{"username", "password"}}}
			return a
		}, want: []string{`secretName: "venue.tls"`, `key: "client_chain-1.pem"`, "mountPath: /etc/cairn/tls", `secretName: "venue-credentials"`}},
		{name: "64 labels with dots and underscores", edit: func(_, a map[string]any) map[string]any {
			a["metadata"].(map[string]any)["labels"] = manyLabels
			return a
		}, want: []string{`team.example.com/k_63: "v.63_x-y"`}},
		{name: "64 prefixed annotations", edit: func(_, a map[string]any) map[string]any {
			a["metadata"].(map[string]any)["annotations"] = manyAnnotations
			return a
		}, want: []string{"review.example.com/note-63: \"nnnn"}},
		{name: "53-character acceptor name", edit: func(_, _ map[string]any) map[string]any {
			return reviewAcceptor("a" + strings.Repeat("b", 51) + "c")
		}, want: []string{`name: "a` + strings.Repeat("b", 51) + `c"`}},
		{name: "63-character namespace", edit: func(repo, a map[string]any) map[string]any {
			repo["spec"].(map[string]any)["environments"] = map[string]any{"uat": map[string]any{"namespace": strings.Repeat("n", 63)}}
			return a
		}},
		{name: "orchestrator with several pod labels", edit: func(repo, a map[string]any) map[string]any {
			repo["spec"].(map[string]any)["orchestrator"] = map[string]any{"namespace": "platform",
				"podLabels": map[string]any{"tier": "control", "example.com/component": "orchestrator"}, "port": 9443}
			return a
		}, want: []string{"tier: control", "example.com/component: orchestrator", `kubernetes.io/metadata.name: "platform"`, "port: 9443"},
			not: []string{"app.kubernetes.io/name: orchestrator"}},
		{name: "image by digest only", edit: func(_, a map[string]any) map[string]any {
			spec(a)["image"] = map[string]any{"digest": digest}
			return a
		}, want: []string{`image: "registry.acme.example/adapter@` + digest + `"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := reviewRepo()
			a := tt.edit(repo, reviewInitiator("edge"))
			rel, y := renderOne(t, repo, a)
			if tt.kinds != "" && kinds(rel) != tt.kinds {
				t.Errorf("objects %s, want %s", kinds(rel), tt.kinds)
			}
			for _, w := range tt.want {
				if !strings.Contains(y, w) {
					t.Errorf("rendered YAML lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(y, n) {
					t.Errorf("rendered YAML holds %q", n)
				}
			}
			if t.Failed() {
				t.Logf("rendered:\n%s", y)
			}
		})
	}
}

// TestReviewKafkaSecurityProtocols renders each security protocol.
func TestReviewKafkaSecurityProtocols(t *testing.T) {
	for _, p := range []string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"} {
		t.Run(p, func(t *testing.T) {
			_, y := renderOne(t, reviewRepo(), reviewKafka("kafka-"+strings.ToLower(strings.ReplaceAll(p, "_", "-")), []any{"k.example.net:9093"}, p))
			if !strings.Contains(y, `"securityProtocol": "`+p+`"`) {
				t.Errorf("session config lacks securityProtocol %s", p)
			}
		})
	}
}

// TestReviewTCPFramings renders each framing at the limits of the tcp block.
func TestReviewTCPFramings(t *testing.T) {
	for _, f := range []string{"length-prefixed", "newline", "fixed-length"} {
		t.Run(f, func(t *testing.T) {
			a := reviewInitiator("tcp-" + f)
			spec(a)["protocol"] = "tcp"
			delete(spec(a), "fix")
			spec(a)["tcp"] = map[string]any{"framing": f, "maxMessageBytes": 16777216, "idleTimeoutSeconds": 86400}
			_, y := renderOne(t, reviewRepo(), a)
			if !strings.Contains(y, `"framing": "`+f+`"`) || !strings.Contains(y, "16777216") {
				t.Errorf("session config lacks the tcp block:\n%s", y)
			}
		})
	}
}

// TestReviewOrderIndependent renders the example with its adapters in a
// shuffled order: the same bytes.
func TestReviewOrderIndependent(t *testing.T) {
	r := renderer(t)
	in := example(t)
	want, err := r.Render(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var wb bytes.Buffer
	if err := render.WriteYAML(&wb, want); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(7))
	for range 5 {
		shuffled := in
		shuffled.Adapters = append(shuffled.Adapters[:0:0], in.Adapters...)
		rng.Shuffle(len(shuffled.Adapters), func(i, j int) {
			shuffled.Adapters[i], shuffled.Adapters[j] = shuffled.Adapters[j], shuffled.Adapters[i]
		})
		got, err := r.Render(context.Background(), shuffled)
		if err != nil {
			t.Fatal(err)
		}
		var gb bytes.Buffer
		if err := render.WriteYAML(&gb, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gb.Bytes(), wb.Bytes()) {
			t.Fatal("a shuffled input renders other bytes")
		}
	}
}

// TestReviewRevisionOutsideDigests stamps other revisions: the digests stay,
// and only the revision annotation changes.
func TestReviewRevisionOutsideDigests(t *testing.T) {
	r := renderer(t)
	in := example(t)
	a, err := r.Render(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	in2 := in
	in2.Revisions = map[string]string{}
	for k := range in.Revisions {
		in2.Revisions[k] = "fedcba9876543210fedcba9876543210fedcba98"
	}
	b, err := r.Render(context.Background(), in2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i].Digest != b[i].Digest || a[i].ValuesDigest != b[i].ValuesDigest {
			t.Errorf("%s: a revision-only change changed the digests", a[i].Key())
		}
		for j := range a[i].Objects {
			ya := strings.ReplaceAll(a[i].Objects[j].YAML, "0123456789abcdef0123456789abcdef01234567", "REV")
			yb := strings.ReplaceAll(b[i].Objects[j].YAML, "fedcba9876543210fedcba9876543210fedcba98", "REV")
			if ya != yb {
				t.Errorf("%s %s: objects differ beyond the revision", a[i].Key(), a[i].Objects[j].Kind)
			}
		}
		for _, o := range b[i].Objects {
			if !strings.Contains(o.YAML, `cairn.dev/revision: "fedcba9876543210fedcba9876543210fedcba98"`) {
				t.Errorf("%s %s lacks the revision annotation", b[i].Key(), o.Kind)
			}
			if !strings.Contains(o.YAML, `cairn.dev/values-digest: "`+b[i].ValuesDigest+`"`) {
				t.Errorf("%s %s lacks the values digest annotation", b[i].Key(), o.Kind)
			}
		}
	}
}

// chartFiles copies the embedded chart into a MapFS to be edited.
func chartFiles(t *testing.T) fstest.MapFS {
	t.Helper()
	src, err := charts.Adapter()
	if err != nil {
		t.Fatal(err)
	}
	out := fstest.MapFS{}
	err = fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(src, p)
		out[p] = &fstest.MapFile{Data: b, Mode: 0o644}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReviewChartDigest: the chart's README does not change the digest of
// any release; a template does.
func TestReviewChartDigest(t *testing.T) {
	ctx := context.Background()
	in := example(t)
	base := renderer(t)
	want, err := base.Render(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	readme := chartFiles(t)
	readme["README.md"] = &fstest.MapFile{Data: []byte("# another README\n")}
	readme["docs/notes.txt"] = &fstest.MapFile{Data: []byte("notes\n")}
	r1, err := render.New(readme)
	if err != nil {
		t.Fatal(err)
	}
	if r1.ChartDigest() != base.ChartDigest() {
		t.Errorf("a README change changed the chart digest")
	}
	got, err := r1.Render(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i].Digest != want[i].Digest {
			t.Errorf("%s: a README change changed the release digest", want[i].Key())
		}
	}
	tpl := chartFiles(t)
	f := tpl["templates/serviceaccount.yaml"]
	tpl["templates/serviceaccount.yaml"] = &fstest.MapFile{Data: append(append([]byte{}, f.Data...), "\n# changed\n"...)}
	r2, err := render.New(tpl)
	if err != nil {
		t.Fatal(err)
	}
	if r2.ChartDigest() == base.ChartDigest() {
		t.Errorf("a template change kept the chart digest")
	}
}

// TestReviewRenderFailureNamesAdapter: a chart that fails to render for one
// adapter fails the whole render, naming that adapter, with no releases.
func TestReviewRenderFailureNamesAdapter(t *testing.T) {
	files := chartFiles(t)
	files["templates/boom.yaml"] = &fstest.MapFile{Data: []byte(`{{ if eq .Values.adapter.name "lse-fix-dropcopy" }}{{ fail "boom" }}{{ end }}`)}
	r, err := render.New(files)
	if err != nil {
		t.Fatal(err)
	}
	rels, err := r.Render(context.Background(), example(t))
	if err == nil || rels != nil {
		t.Fatalf("want an error and no releases, got %v and %d releases", err, len(rels))
	}
	if !strings.Contains(err.Error(), "prod/lse-fix-dropcopy") || !strings.Contains(err.Error(), "boom") {
		t.Errorf("the error does not name the adapter and the failure: %v", err)
	}
}

// TestReviewNoSecretValuesInJSON: the JSON of every release holds the
// Secret names and keys of the example, and "password" only as a key name.
func TestReviewNoSecretValuesInJSON(t *testing.T) {
	rels, err := renderer(t).Render(context.Background(), example(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rels)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ToLower(string(b))
	for i := 0; ; {
		j := strings.Index(s[i:], "password")
		if j < 0 {
			break
		}
		i += j
		ctx := s[max(0, i-40):min(len(s), i+40)]
		// As a Secret key (a list item, key: "...", path: "...") or part of
		// an env var name: never a value of its own.
		if !strings.Contains(ctx, `key`) && !strings.Contains(ctx, `path`) && !strings.Contains(ctx, `"password"`) && !strings.Contains(ctx, `_password`) {
			t.Errorf("password outside a reference: %q", ctx)
		}
		i += len("password")
	}
}
