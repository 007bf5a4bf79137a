package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/cairn-gitops/cairn/internal/testcluster"
)

// peerResult is what the peer measured.
type peerResult struct {
	install, healthy time.Duration // from the first install
	cpu              cpuUse
	requests         requestCounts // the API server's, from all clients
}

// runPeer installs the peer's releases one after the other with Helm's
// install action, then waits until their Deployments are Available.
//
// The loop is what a program embedding Helm would write: one
// action.Configuration per namespace (Helm's secret storage), a kubeconfig
// getter with discovery cached in memory, client-side OpenAPI validation
// off, no wait, Helm's other defaults (the values are validated against the
// chart's schema). Client-side throttling is raised to cairn's (500 QPS,
// burst 1,000) so that it limits neither side.
func runPeer(ctx context.Context, cl *testcluster.Cluster, kube kubernetes.Interface, in *input, out io.Writer) (peerResult, error) {
	var res peerResult
	getter, err := newKubeconfigGetter(cl.Kubeconfig())
	if err != nil {
		return res, err
	}
	cfgs := map[string]*action.Configuration{}
	for _, ns := range in.peerNS {
		cfg := new(action.Configuration)
		if err := cfg.Init(getter.in(ns), ns, "secret", func(string, ...any) {}); err != nil {
			return res, err
		}
		cfgs[ns] = cfg
	}
	step(out, "peer: %d releases, one at a time, with Helm's install action", len(in.peerReleases))
	reqBefore, err := readRequests(ctx, kube)
	if err != nil {
		return res, err
	}
	before := readCPU()
	start := time.Now()
	for i, rel := range in.peerReleases {
		inst := action.NewInstall(cfgs[rel.Namespace])
		inst.ReleaseName, inst.Namespace = rel.Name, rel.Namespace
		inst.DisableOpenAPIValidation = true
		inst.Timeout = time.Minute
		if _, err := inst.RunWithContext(ctx, in.chart, rel.Values); err != nil {
			return res, fmt.Errorf("install %s/%s: %w", rel.Namespace, rel.Name, err)
		}
		if (i+1)%100 == 0 {
			step(out, "peer: %d installed after %s", i+1, since(start))
		}
	}
	res.install = time.Since(start)
	step(out, "peer: %d installed in %s (%.1f/s); waiting for their Deployments", len(in.peerReleases),
		res.install.Round(time.Millisecond), rate(len(in.peerReleases), res.install))
	if err := waitAvailable(ctx, kube, in.peerNS, len(in.peerReleases), 5*time.Minute); err != nil {
		return res, err
	}
	res.healthy = time.Since(start)
	res.cpu = readCPU().minus(before)
	if reqs, err := readRequests(ctx, kube); err == nil {
		res.requests = reqs.since(reqBefore)
	}
	step(out, "peer: every Deployment Available after %s (%.1f/s)", res.healthy.Round(time.Millisecond),
		rate(len(in.peerReleases), res.healthy))
	return res, nil
}

// kubeconfigGetter is a genericclioptions.RESTClientGetter over a
// kubeconfig file, with discovery cached in memory (Helm's CLI caches it on
// disk). Helm's kube client takes the namespace of objects that set none
// from the kubeconfig loader, as `helm install --namespace` sets it.
type kubeconfigGetter struct {
	path      string
	loader    clientcmd.ClientConfig
	config    *rest.Config
	discovery discovery.CachedDiscoveryInterface
	mapper    meta.RESTMapper
}

func newKubeconfigGetter(path string) (*kubeconfigGetter, error) {
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: path}, &clientcmd.ConfigOverrides{})
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 500, 1000
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	cached := memory.NewMemCacheClient(dc)
	return &kubeconfigGetter{path: path, loader: loader, config: cfg, discovery: cached,
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(cached)}, nil
}

// in returns a getter whose kubeconfig's namespace is ns; the rest is shared.
func (g *kubeconfigGetter) in(ns string) *kubeconfigGetter {
	cp := *g
	cp.loader = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: g.path},
		&clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: ns}})
	return &cp
}

func (g *kubeconfigGetter) ToRESTConfig() (*rest.Config, error) {
	return rest.CopyConfig(g.config), nil
}
func (g *kubeconfigGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.discovery, nil
}
func (g *kubeconfigGetter) ToRESTMapper() (meta.RESTMapper, error)        { return g.mapper, nil }
func (g *kubeconfigGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig { return g.loader }

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }
