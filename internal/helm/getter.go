package helm

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// restGetter is the genericclioptions.RESTClientGetter every Helm action of
// a Client shares: one configuration, one discovery client cached in memory
// and one RESTMapper over it. Helm's default getter would read a kubeconfig
// and run discovery again for every action.
type restGetter struct {
	config    *rest.Config
	discovery discovery.CachedDiscoveryInterface
	mapper    meta.RESTMapper
}

func newRESTGetter(cfg *rest.Config) (*restGetter, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	cached := memory.NewMemCacheClient(dc)
	return &restGetter{
		config:    cfg,
		discovery: cached,
		mapper:    restmapper.NewDeferredDiscoveryRESTMapper(cached),
	}, nil
}

// ToRESTConfig returns a copy: Helm and kubectl set the API path and group
// version on what they get.
func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.config), nil }

func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.discovery, nil
}

func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) { return g.mapper, nil }

// ToRawKubeConfigLoader serves the rare caller that asks for a kubeconfig:
// there is none, and the namespace is always set on Helm's kube client.
func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig { return staticConfig{g.config} }

// staticConfig is a clientcmd.ClientConfig over a rest.Config.
type staticConfig struct{ config *rest.Config }

func (s staticConfig) RawConfig() (clientcmdapi.Config, error) { return clientcmdapi.Config{}, nil }
func (s staticConfig) ClientConfig() (*rest.Config, error)     { return rest.CopyConfig(s.config), nil }
func (s staticConfig) Namespace() (string, bool, error)        { return "default", false, nil }
func (s staticConfig) ConfigAccess() clientcmd.ConfigAccess {
	return clientcmd.NewDefaultClientConfigLoadingRules()
}
