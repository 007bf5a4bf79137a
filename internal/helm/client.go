package helm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

// Defaults of Options.
const (
	DefaultTimeout    = 2 * time.Minute
	DefaultMaxHistory = 10
	DefaultQPS        = 500
	DefaultBurst      = 1000
)

// Options configure a Client.
type Options struct {
	// REST is the client configuration of the cluster; required. It is
	// copied, never modified.
	REST *rest.Config
	// Logger receives Helm's log lines at Debug. Nil discards them.
	Logger *slog.Logger
	// Timeout bounds each action and each request (default 2m).
	Timeout time.Duration
	// MaxHistory is how many revisions of each release Helm keeps (default
	// 10).
	MaxHistory int
	// QPS and Burst limit the requests of the whole Client (default 500 and
	// 1000); client-go's own default (5 and 10) would throttle every action.
	QPS   float32
	Burst int
	// ValidateValues has Helm validate each release's values against the
	// chart's values.schema.json. Off by default: cairn's renderer has
	// validated them against the same schema, compiled once, and Helm would
	// compile it again for every install (a fifth of an install's CPU).
	ValidateValues bool
}

// Client applies releases and reads what is deployed. It is safe for
// concurrent use; create one per process.
type Client struct {
	log        *slog.Logger
	timeout    time.Duration
	maxHistory int
	validate   bool
	getter     *restGetter
	kube       kubernetes.Interface
	dynamic    dynamic.Interface
	metadata   metadata.Interface

	capsMu sync.Mutex
	caps   *chartutil.Capabilities

	mu         sync.Mutex
	kubeByNS   map[string]*kube.Client
	namespaces map[string]bool          // namespaces known to exist
	busy       map[string]chan struct{} // releases with an action running
}

// New returns a Client. It does not contact the cluster.
func New(opts Options) (*Client, error) {
	if opts.REST == nil {
		return nil, errors.New("helm: Options.REST is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxHistory <= 0 {
		opts.MaxHistory = DefaultMaxHistory
	}
	if opts.QPS <= 0 {
		opts.QPS = DefaultQPS
	}
	if opts.Burst <= 0 {
		opts.Burst = DefaultBurst
	}
	cfg := rest.CopyConfig(opts.REST)
	cfg.QPS, cfg.Burst = opts.QPS, opts.Burst
	cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(opts.QPS, opts.Burst)
	if cfg.Timeout == 0 {
		cfg.Timeout = opts.Timeout
	}
	getter, err := newRESTGetter(cfg)
	if err != nil {
		return nil, fmt.Errorf("helm: %w", err)
	}
	c := &Client{
		log: opts.Logger, timeout: opts.Timeout, maxHistory: opts.MaxHistory, validate: opts.ValidateValues, getter: getter,
		kubeByNS: map[string]*kube.Client{}, namespaces: map[string]bool{}, busy: map[string]chan struct{}{},
	}
	if c.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("helm: %w", err)
	}
	if c.dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("helm: %w", err)
	}
	if c.metadata, err = metadata.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("helm: %w", err)
	}
	return c, nil
}

// helmLog adapts the Logger to Helm's printf-style log function.
func (c *Client) helmLog(namespace string) func(string, ...any) {
	return func(format string, args ...any) {
		if c.log.Enabled(context.Background(), slog.LevelDebug) {
			c.log.Debug(fmt.Sprintf(format, args...), "component", "helm", "namespace", namespace)
		}
	}
}

// configuration returns a new action.Configuration for one action in
// namespace. Its parts that are safe to share (the kube client of the
// namespace, the capabilities, the getter) are shared; its storage is its
// own, since Helm's upgrade writes MaxHistory into it.
func (c *Client) configuration(ctx context.Context, namespace string) (*action.Configuration, error) {
	caps, err := c.capabilities(ctx)
	if err != nil {
		return nil, err
	}
	d := driver.NewSecrets(c.kube.CoreV1().Secrets(namespace))
	d.Log = c.helmLog(namespace)
	store := storage.Init(d)
	store.MaxHistory = c.maxHistory
	store.Log = d.Log
	return &action.Configuration{
		RESTClientGetter: c.getter,
		Releases:         store,
		KubeClient:       c.kubeClient(namespace),
		Capabilities:     caps,
		Log:              d.Log,
	}, nil
}

// kubeClient returns Helm's kube client for namespace, made once. Its
// clientset is created before it is shared (Helm creates it lazily without
// a lock).
func (c *Client) kubeClient(namespace string) *kube.Client {
	c.mu.Lock()
	kc, ok := c.kubeByNS[namespace]
	c.mu.Unlock()
	if ok {
		return kc
	}
	kc = kube.New(c.getter)
	kc.Namespace = namespace
	kc.Log = c.helmLog(namespace)
	// IsReachable sets the clientset, whatever it answers; reachability
	// itself is checked by every action.
	_ = kc.IsReachable()
	c.mu.Lock()
	defer c.mu.Unlock()
	if first, ok := c.kubeByNS[namespace]; ok {
		return first
	}
	c.kubeByNS[namespace] = kc
	return kc
}

// capabilities reads the cluster's version and API versions once; a failure
// is not kept, so that the next call tries again.
func (c *Client) capabilities(ctx context.Context) (*chartutil.Capabilities, error) {
	c.capsMu.Lock()
	defer c.capsMu.Unlock()
	if c.caps != nil {
		return c.caps, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dc, err := c.getter.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("read the server version: %w", err)
	}
	apis, err := action.GetVersionSet(dc)
	if err != nil {
		return nil, fmt.Errorf("read the API versions: %w", err)
	}
	c.caps = &chartutil.Capabilities{
		KubeVersion: chartutil.KubeVersion{Version: v.GitVersion, Major: v.Major, Minor: v.Minor},
		APIVersions: apis,
		HelmVersion: chartutil.DefaultCapabilities.HelmVersion,
	}
	return c.caps, nil
}
