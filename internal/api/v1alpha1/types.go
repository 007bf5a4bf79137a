package v1alpha1

// APIVersion is the apiVersion of every document of this package.
const APIVersion = "cairn.dev/v1alpha1"

// The document kinds of cairn.dev/v1alpha1.
const (
	KindRepository     = "Repository"
	KindAdapter        = "Adapter"
	KindSecurityConfig = "SecurityConfig"
	KindChangePolicy   = "ChangePolicy"
)

// Kinds lists every kind, in the order cairn loads and reports them.
var Kinds = []string{KindRepository, KindAdapter, KindSecurityConfig, KindChangePolicy}

// TypeMeta is the envelope every document starts with.
type TypeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// ObjectMeta names a document.
type ObjectMeta struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// SecretRef names a Kubernetes Secret and the keys it must hold. cairn only
// ever handles the reference; it reads key names from the cluster, never values.
type SecretRef struct {
	Name string   `json:"name"`
	Keys []string `json:"keys"`
}

// SecretKeyRef names one key of a Kubernetes Secret.
type SecretKeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// Resources are container requests and limits, as Kubernetes quantities.
type Resources struct {
	Requests *ResourceList `json:"requests,omitempty"`
	Limits   *ResourceList `json:"limits,omitempty"`
}

// ResourceList is a CPU and memory pair.
type ResourceList struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// Image is a container image reference.
type Image struct {
	Repository string `json:"repository,omitempty"`
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest,omitempty"`
	PullPolicy string `json:"pullPolicy,omitempty"`
}
