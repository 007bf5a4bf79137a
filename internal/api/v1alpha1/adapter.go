package v1alpha1

// Protocols and roles of an Adapter.
const (
	ProtocolFIX   = "fix"
	ProtocolKafka = "kafka"
	ProtocolTCP   = "tcp"

	RoleInitiator = "initiator"
	RoleAcceptor  = "acceptor"
)

// Adapter is one connectivity adapter; cairn renders one Helm release per Adapter.
type Adapter struct {
	TypeMeta
	Metadata AdapterMeta `json:"metadata"`
	Spec     AdapterSpec `json:"spec"`
}

// AdapterMeta names an adapter and the environment it runs in.
type AdapterMeta struct {
	Name        string            `json:"name"`
	Environment string            `json:"environment"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// AdapterSpec is the body of an Adapter.
type AdapterSpec struct {
	Protocol    string       `json:"protocol"`
	Role        string       `json:"role"`
	Description string       `json:"description,omitempty"`
	Suspended   bool         `json:"suspended,omitempty"`
	FIX         *FIXSession  `json:"fix,omitempty"`
	Kafka       *Kafka       `json:"kafka,omitempty"`
	TCP         *TCP         `json:"tcp,omitempty"`
	Connect     *Connect     `json:"connect,omitempty"`
	Listen      *Listen      `json:"listen,omitempty"`
	TLS         *TLS         `json:"tls,omitempty"`
	Egress      *Egress      `json:"egress,omitempty"`
	Credentials *Credentials `json:"credentials,omitempty"`
	Env         []EnvVar     `json:"env,omitempty"`
	Replicas    *int         `json:"replicas,omitempty"`
	Resources   *Resources   `json:"resources,omitempty"`
	Image       *Image       `json:"image,omitempty"`
}

// FIXSession configures a FIX session.
type FIXSession struct {
	Version           string    `json:"version"`
	DefaultApplVerID  string    `json:"defaultApplVerID,omitempty"`
	SenderCompID      string    `json:"senderCompID"`
	TargetCompID      string    `json:"targetCompID"`
	SenderSubID       string    `json:"senderSubID,omitempty"`
	TargetSubID       string    `json:"targetSubID,omitempty"`
	HeartbeatSeconds  int       `json:"heartbeatSeconds,omitempty"`
	ResetOnLogon      bool      `json:"resetOnLogon,omitempty"`
	ResetOnLogout     bool      `json:"resetOnLogout,omitempty"`
	ResetOnDisconnect bool      `json:"resetOnDisconnect,omitempty"`
	ValidateIncoming  *bool     `json:"validateIncoming,omitempty"`
	Schedule          *Schedule `json:"schedule,omitempty"`
}

// Schedule is when a session is up, in its own time zone.
type Schedule struct {
	Timezone string   `json:"timezone"`
	Start    string   `json:"start"`
	End      string   `json:"end"`
	Days     []string `json:"days,omitempty"`
}

// Kafka configures a Kafka client.
type Kafka struct {
	BootstrapServers []string    `json:"bootstrapServers"`
	Topics           KafkaTopics `json:"topics"`
	ConsumerGroup    string      `json:"consumerGroup,omitempty"`
	SecurityProtocol string      `json:"securityProtocol,omitempty"`
	SASLMechanism    string      `json:"saslMechanism,omitempty"`
	Acks             string      `json:"acks,omitempty"`
}

// KafkaTopics are the topics an adapter consumes and produces.
type KafkaTopics struct {
	Inbound  string `json:"inbound,omitempty"`
	Outbound string `json:"outbound,omitempty"`
}

// TCP configures a plain TCP stream.
type TCP struct {
	Framing            string `json:"framing,omitempty"`
	MaxMessageBytes    int    `json:"maxMessageBytes,omitempty"`
	IdleTimeoutSeconds int    `json:"idleTimeoutSeconds,omitempty"`
}

// Endpoint is a host and port.
type Endpoint struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

// Connect is where an initiator connects to.
type Connect struct {
	Host                     string     `json:"host"`
	Port                     int        `json:"port"`
	TLS                      bool       `json:"tls,omitempty"`
	Backup                   []Endpoint `json:"backup,omitempty"`
	ReconnectIntervalSeconds int        `json:"reconnectIntervalSeconds,omitempty"`
}

// Listen is where an acceptor listens, and who may connect.
type Listen struct {
	Port           int      `json:"port"`
	TLS            bool     `json:"tls,omitempty"`
	AllowedSources []string `json:"allowedSources"`
	ServiceType    string   `json:"serviceType,omitempty"`
	NodePort       int      `json:"nodePort,omitempty"`
}

// TLS holds references to TLS material and its settings.
type TLS struct {
	SecretRef  *SecretRef `json:"secretRef,omitempty"`
	MinVersion string     `json:"minVersion,omitempty"`
	ServerName string     `json:"serverName,omitempty"`
	VerifyPeer *bool      `json:"verifyPeer,omitempty"`
}

// Egress lists the counterparty IP ranges an adapter may reach.
type Egress struct {
	CIDRs []string `json:"cidrs,omitempty"`
}

// Credentials reference the Secret holding session credentials.
type Credentials struct {
	SecretRef SecretRef `json:"secretRef"`
}

// EnvVar is an environment variable: a literal non-secret value or a Secret key.
type EnvVar struct {
	Name         string        `json:"name"`
	Value        string        `json:"value,omitempty"`
	SecretKeyRef *SecretKeyRef `json:"secretKeyRef,omitempty"`
}

// SecretRefs returns every Secret the adapter references, in a stable order.
func (a *Adapter) SecretRefs() []SecretRef {
	var refs []SecretRef
	if a.Spec.Credentials != nil {
		refs = append(refs, a.Spec.Credentials.SecretRef)
	}
	if a.Spec.TLS != nil && a.Spec.TLS.SecretRef != nil {
		refs = append(refs, *a.Spec.TLS.SecretRef)
	}
	for _, e := range a.Spec.Env {
		if e.SecretKeyRef != nil {
			refs = append(refs, SecretRef{Name: e.SecretKeyRef.Name, Keys: []string{e.SecretKeyRef.Key}})
		}
	}
	return refs
}

// ImageFrom returns the image the adapter runs: the repository's image with
// each field the adapter sets overriding it.
func (a *Adapter) ImageFrom(repo *Repository) Image {
	var img Image
	if repo != nil && repo.Spec.Image != nil {
		img = *repo.Spec.Image
	}
	if o := a.Spec.Image; o != nil {
		if o.Repository != "" {
			img.Repository = o.Repository
		}
		if o.Tag != "" {
			img.Tag = o.Tag
		}
		if o.Digest != "" {
			img.Digest = o.Digest
		}
		if o.PullPolicy != "" {
			img.PullPolicy = o.PullPolicy
		}
	}
	return img
}
