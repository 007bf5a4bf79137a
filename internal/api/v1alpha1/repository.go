package v1alpha1

// Repository is cairn.json: the environments of a config repository, the
// chart, and defaults for every adapter.
type Repository struct {
	TypeMeta
	Metadata ObjectMeta     `json:"metadata"`
	Spec     RepositorySpec `json:"spec"`
}

// RepositorySpec is the body of a Repository.
type RepositorySpec struct {
	Environments map[string]Environment `json:"environments"`
	Chart        *Chart                 `json:"chart,omitempty"`
	Image        *Image                 `json:"image,omitempty"`
	Orchestrator *Orchestrator          `json:"orchestrator,omitempty"`
	Defaults     *Defaults              `json:"defaults,omitempty"`
}

// Environment says where an environment's adapters are installed.
type Environment struct {
	Description string            `json:"description,omitempty"`
	Namespace   string            `json:"namespace"`
	Production  bool              `json:"production,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
}

// Chart selects the chart adapters are deployed with; an empty Path means
// the chart embedded in cairn.
type Chart struct {
	Path string `json:"path,omitempty"`
}

// Orchestrator locates the platform orchestrator that every adapter's
// NetworkPolicy admits as an egress destination.
type Orchestrator struct {
	Namespace string            `json:"namespace"`
	PodLabels map[string]string `json:"podLabels"`
	Port      int               `json:"port"`
}

// Defaults are values an adapter inherits unless it sets its own.
type Defaults struct {
	Replicas         *int              `json:"replicas,omitempty"`
	Resources        *Resources        `json:"resources,omitempty"`
	HeartbeatSeconds int               `json:"heartbeatSeconds,omitempty"`
	Labels           map[string]string `json:"labels,omitempty"`
}
