package drift

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// deployment is a rendered Deployment as the chart writes it.
const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: lse-fix-primary
  labels:
    app.kubernetes.io/name: "cairn-adapter"
    venue: "lse"
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: adapter
          image: "registry.example.net/adapter:1.0.0"
          resources:
            limits:
              cpu: "1"
              memory: 512Mi
            requests:
              cpu: 250m
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
          secret: null
  paused: false
  ingress: []
`

// live returns the Deployment as the API server would return it: defaults,
// server metadata and status added, numbers as int64.
func live() map[string]any {
	return map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{
			"name": "lse-fix-primary", "namespace": "prod", "uid": "1234", "resourceVersion": "99",
			"generation": int64(3), "creationTimestamp": "2026-01-01T00:00:00Z",
			"managedFields": []any{map[string]any{"manager": "helm"}},
			"labels":        map[string]any{"app.kubernetes.io/name": "cairn-adapter", "venue": "lse", "extra": "x"},
		},
		"spec": map[string]any{
			"replicas": int64(1), "progressDeadlineSeconds": int64(600),
			"template": map[string]any{"spec": map[string]any{
				"containers": []any{map[string]any{
					"name": "adapter", "image": "registry.example.net/adapter:1.0.0",
					"terminationMessagePath": "/dev/termination-log",
					"resources": map[string]any{
						"limits":   map[string]any{"cpu": "1", "memory": "512Mi"},
						"requests": map[string]any{"cpu": "250m"},
					},
				}},
				"volumes": []any{map[string]any{"name": "tmp", "emptyDir": map[string]any{"sizeLimit": "64Mi"}}},
			}},
		},
		"status": map[string]any{"replicas": int64(1), "availableReplicas": int64(0)},
	}
}

// set changes the value at path (map keys and list indexes) of obj.
func set(obj map[string]any, value any, path ...any) map[string]any {
	var cur any = obj
	for i, p := range path {
		last := i == len(path)-1
		switch k := p.(type) {
		case string:
			m := cur.(map[string]any)
			if last {
				if value == nil {
					delete(m, k)
				} else {
					m[k] = value
				}
				return obj
			}
			cur = m[k]
		case int:
			l := cur.([]any)
			if last {
				l[k] = value
				return obj
			}
			cur = l[k]
		}
	}
	return obj
}

func TestCompare(t *testing.T) {
	container := func(o map[string]any) map[string]any {
		return o["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	}
	tests := []struct {
		name string
		// live is the live object.
		live map[string]any
		// want are the expected changes; none means in sync.
		want []Change
	}{
		{"in sync despite defaults, status and server metadata", live(), nil},
		{"scaled by hand", set(live(), int64(3), "spec", "replicas"),
			[]Change{{Pointer: "/spec/replicas", Want: json.Number("1"), Got: int64(3), Kind: Changed}}},
		{"number as float", set(live(), 1.0, "spec", "replicas"), nil},
		{"quantities written otherwise", func() map[string]any {
			o := live()
			container(o)["resources"] = map[string]any{
				"limits":   map[string]any{"cpu": "1000m", "memory": "536870912"},
				"requests": map[string]any{"cpu": "0.25"},
			}
			return o
		}(), nil},
		{"quantity changed", func() map[string]any {
			o := live()
			container(o)["resources"].(map[string]any)["limits"].(map[string]any)["cpu"] = "2"
			return o
		}(), []Change{{Pointer: "/spec/template/spec/containers/0/resources/limits/cpu", Want: "1", Got: "2", Kind: Changed}}},
		{"label changed", set(live(), "xlse", "metadata", "labels", "venue"),
			[]Change{{Pointer: "/metadata/labels/venue", Want: "lse", Got: "xlse", Kind: Changed}}},
		{"label with a slash removed", set(live(), nil, "metadata", "labels", "app.kubernetes.io/name"),
			[]Change{{Pointer: "/metadata/labels/app.kubernetes.io~1name", Want: "cairn-adapter", Kind: MissingField}}},
		{"list grew", func() map[string]any {
			o := live()
			spec := o["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
			spec["volumes"] = append(spec["volumes"].([]any), map[string]any{"name": "extra"})
			return o
		}(), []Change{{Pointer: "/spec/template/spec/volumes", Kind: Changed}}},
		{"type changed", set(live(), "one", "spec", "template", "spec", "volumes"),
			[]Change{{Pointer: "/spec/template/spec/volumes", Kind: Changed}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compare([]byte(deployment), tt.live)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Changes) != len(tt.want) {
				t.Fatalf("changes = %+v, want %+v", r.Changes, tt.want)
			}
			for i, w := range tt.want {
				g := r.Changes[i]
				if g.Pointer != w.Pointer || g.Kind != w.Kind {
					t.Errorf("change %d = %s %s, want %s %s", i, g.Pointer, g.Kind, w.Pointer, w.Kind)
				}
				if w.Want != nil && (!reflect.DeepEqual(g.Want, w.Want) || !reflect.DeepEqual(g.Got, w.Got)) {
					t.Errorf("change %d = %#v -> %#v, want %#v -> %#v", i, g.Want, g.Got, w.Want, w.Got)
				}
			}
			if r.InSync() != (r.Diff == "") {
				t.Errorf("InSync %v but diff %q", r.InSync(), r.Diff)
			}
		})
	}
}

// TestDiff checks that the diff shows the changed field only, not the
// defaults of the live object.
func TestDiff(t *testing.T) {
	r, err := Compare([]byte(deployment), set(live(), int64(3), "spec", "replicas"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--- rendered", "+++ live", "-  replicas: 1", "+  replicas: 3"} {
		if !strings.Contains(r.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, r.Diff)
		}
	}
	for _, unwanted := range []string{"terminationMessagePath", "progressDeadlineSeconds", "uid", "status"} {
		if strings.Contains(r.Diff, unwanted) {
			t.Errorf("diff shows %q, which the rendered object does not set:\n%s", unwanted, r.Diff)
		}
	}
}

func TestSecretRedacted(t *testing.T) {
	const rendered = `apiVersion: v1
kind: Secret
metadata:
  name: creds
data:
  username: ` + "YWNtZQ==" + `
stringData:
  password: hunter2-rendered
`
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name string
		// data is the live Secret's data.
		data map[string]any
		// pointers are the expected changes.
		pointers []string
	}{
		{"in sync (stringData compared as data)", map[string]any{"username": b64("acme"), "password": b64("hunter2-rendered")}, nil},
		{"password changed", map[string]any{"username": b64("acme"), "password": b64("hunter2-live-value")}, []string{"/data/password"}},
		{"username gone", map[string]any{"password": b64("hunter2-rendered")}, []string{"/data/username"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			liveObj := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "creds"}, "data": tt.data}
			r, err := Compare([]byte(rendered), liveObj)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range r.Changes {
				got = append(got, c.Pointer)
			}
			if !reflect.DeepEqual(got, tt.pointers) {
				t.Errorf("pointers = %v, want %v", got, tt.pointers)
			}
			all, _ := json.Marshal(r)
			for _, secret := range []string{"hunter2", b64("hunter2-rendered"), b64("hunter2-live-value"), "YWNtZQ==", "acme"} {
				if strings.Contains(string(all), secret) {
					t.Errorf("report shows a secret value %q: %s", secret, all)
				}
			}
			if len(tt.pointers) > 0 && !strings.Contains(r.Diff, Redacted) {
				t.Errorf("diff does not show the redacted key:\n%s", r.Diff)
			}
		})
	}
}

func TestEqualScalar(t *testing.T) {
	tests := []struct {
		want, live any
		equal      bool
	}{
		{"1000m", "1", true},
		{"0.1", "100m", true},
		{"1Gi", "1073741824", true},
		{"1Gi", "1G", false},
		{json.Number("1"), "1", true},
		{json.Number("2"), int64(2), true},
		{json.Number("2.5"), 2.5, true},
		{json.Number("2"), "two", false},
		{"a", "a", true},
		{"a", "b", false},
		{true, true, true},
		{true, "true", false},
		{json.Number("1"), true, false},
	}
	for _, tt := range tests {
		if got := equalScalar(tt.want, tt.live); got != tt.equal {
			t.Errorf("equalScalar(%#v, %#v) = %v, want %v", tt.want, tt.live, got, tt.equal)
		}
	}
}

func TestCompareRejectsNonObjects(t *testing.T) {
	for _, doc := range []string{"- a list", "null", "key: [unclosed"} {
		if _, err := Compare([]byte(doc), map[string]any{}); err == nil {
			t.Errorf("Compare(%q) accepted a document that is not an object", doc)
		}
	}
}

// FuzzCompare checks that any object compares in sync with itself and that
// comparing it with an empty live object never panics.
func FuzzCompare(f *testing.F) {
	f.Add([]byte(deployment))
	f.Add([]byte(`{"kind":"Secret","apiVersion":"v1","data":{"a":"b"},"stringData":{"c":"d"}}`))
	f.Add([]byte(`{"a":[1,2,{"b":"1000m"}],"c":null,"d":1e400}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		obj, err := Decode(doc)
		if err != nil {
			return
		}
		if isSecret(obj) {
			obj = stringDataAsData(obj)
		}
		r := CompareObjects(obj, obj)
		if !r.InSync() {
			t.Fatalf("an object differs from itself: %+v", r.Changes)
		}
		_ = CompareObjects(obj, map[string]any{})
	})
}
