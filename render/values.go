package render

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// values builds the chart values of one adapter from its manifest and the
// repository's defaults, following charts/adapter/values.yaml.
func values(repo *v1.Repository, a *v1.Adapter) (map[string]any, error) {
	s := a.Spec
	session, err := sessionOf(repo, a)
	if err != nil {
		return nil, err
	}
	v := map[string]any{
		"adapter": map[string]any{
			"name": a.Metadata.Name, "environment": a.Metadata.Environment,
			"protocol": s.Protocol, "role": s.Role,
			"description": s.Description, "suspended": s.Suspended,
		},
		"labels":      labelsOf(repo, a),
		"annotations": mapOrEmpty(a.Metadata.Annotations),
		"replicas":    replicasOf(repo, a),
		"session":     session,
		"connect":     connectOf(s.Connect),
		"listen":      listenOf(s.Listen),
		"egress":      egressOf(a),
		"secrets":     secretsOf(a),
		"env":         envOf(s.Env),
	}
	if img := imageOf(repo, a); img != nil {
		v["image"] = img
	}
	if r := resourcesOf(repo, a); r != nil {
		v["resources"] = r
	}
	if o := repo.Spec.Orchestrator; o != nil {
		v["orchestrator"] = map[string]any{"namespace": o.Namespace, "podLabels": mapOrEmpty(o.PodLabels), "port": o.Port}
	}
	return v, nil
}

func labelsOf(repo *v1.Repository, a *v1.Adapter) map[string]any {
	out := map[string]any{}
	if d := repo.Spec.Defaults; d != nil {
		for k, v := range d.Labels {
			out[k] = v
		}
	}
	if env, ok := repo.Spec.Environments[a.Metadata.Environment]; ok {
		for k, v := range env.Labels {
			out[k] = v
		}
	}
	for k, v := range a.Metadata.Labels {
		out[k] = v
	}
	return out
}

func mapOrEmpty(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func replicasOf(repo *v1.Repository, a *v1.Adapter) int {
	switch {
	case a.Spec.Replicas != nil:
		return *a.Spec.Replicas
	case repo.Spec.Defaults != nil && repo.Spec.Defaults.Replicas != nil:
		return *repo.Spec.Defaults.Replicas
	}
	return 1
}

// sessionOf is the protocol block of the manifest, as the adapter reads it
// from session.json; a FIX session inherits the default heartbeat.
func sessionOf(repo *v1.Repository, a *v1.Adapter) (map[string]any, error) {
	var block any
	switch a.Spec.Protocol {
	case v1.ProtocolFIX:
		if a.Spec.FIX != nil {
			fix := *a.Spec.FIX
			if fix.HeartbeatSeconds == 0 && repo.Spec.Defaults != nil {
				fix.HeartbeatSeconds = repo.Spec.Defaults.HeartbeatSeconds
			}
			block = fix
		}
	case v1.ProtocolKafka:
		block = a.Spec.Kafka
	case v1.ProtocolTCP:
		block = a.Spec.TCP
	}
	out := map[string]any{}
	if block == nil {
		return out, nil
	}
	b, err := json.Marshal(block)
	if err != nil {
		return nil, fmt.Errorf("adapter %s: encode session: %w", a.Metadata.Name, err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("adapter %s: decode session: %w", a.Metadata.Name, err)
	}
	return map[string]any{a.Spec.Protocol: out}, nil
}

func connectOf(c *v1.Connect) map[string]any {
	out := map[string]any{"host": "", "port": 0, "tls": false, "backup": []any{}}
	if c == nil {
		return out
	}
	out["host"], out["port"], out["tls"] = c.Host, c.Port, c.TLS
	backup := []any{}
	for _, b := range c.Backup {
		backup = append(backup, map[string]any{"host": b.Host, "port": b.Port})
	}
	out["backup"] = backup
	return out
}

func listenOf(l *v1.Listen) map[string]any {
	out := map[string]any{"port": 0, "tls": false, "serviceType": "LoadBalancer", "nodePort": 0, "allowedSources": []any{}}
	if l == nil {
		return out
	}
	out["port"], out["tls"], out["nodePort"] = l.Port, l.TLS, l.NodePort
	if l.ServiceType != "" {
		out["serviceType"] = l.ServiceType
	}
	out["allowedSources"] = strings2any(l.AllowedSources)
	return out
}

// egressOf lists where the adapter may connect besides the orchestrator and
// DNS: the ranges of its endpoints (those the manifest gives, or the
// endpoint itself when it is an IP address) on the endpoints' ports.
func egressOf(a *v1.Adapter) map[string]any {
	var cidrs []string
	if a.Spec.Egress != nil {
		cidrs = append(cidrs, a.Spec.Egress.CIDRs...)
	}
	var ports []int
	if c := a.Spec.Connect; c != nil {
		ports = append(ports, c.Port)
		for _, b := range c.Backup {
			ports = append(ports, b.Port)
		}
		if len(cidrs) == 0 {
			cidrs = hostPrefixes(append([]v1.Endpoint{{Host: c.Host, Port: c.Port}}, c.Backup...))
		}
	}
	if k := a.Spec.Kafka; k != nil {
		var eps []v1.Endpoint
		for _, s := range k.BootstrapServers {
			if i := strings.LastIndexByte(s, ':'); i > 0 {
				if p, err := strconv.Atoi(s[i+1:]); err == nil {
					ports = append(ports, p)
					eps = append(eps, v1.Endpoint{Host: s[:i], Port: p})
				}
			}
		}
		if len(cidrs) == 0 {
			cidrs = hostPrefixes(eps)
		}
	}
	slices.Sort(ports)
	slices.Sort(cidrs)
	pa := []any{}
	for _, p := range slices.Compact(ports) {
		pa = append(pa, p)
	}
	return map[string]any{"cidrs": strings2any(slices.Compact(cidrs)), "ports": pa}
}

// hostPrefixes returns a single-address prefix per endpoint given as an IP
// address, or nothing if any endpoint is a DNS name (render cannot resolve
// names, so egress is then limited by port only).
func hostPrefixes(eps []v1.Endpoint) []string {
	var out []string
	for _, e := range eps {
		addr, err := netip.ParseAddr(e.Host)
		if err != nil {
			return nil
		}
		out = append(out, netip.PrefixFrom(addr, addr.BitLen()).String())
	}
	return out
}

func secretsOf(a *v1.Adapter) map[string]any {
	ref := func(r *v1.SecretRef) map[string]any {
		if r == nil {
			return map[string]any{"name": "", "keys": []any{}}
		}
		return map[string]any{"name": r.Name, "keys": strings2any(r.Keys)}
	}
	var cred, tls *v1.SecretRef
	if a.Spec.Credentials != nil {
		cred = &a.Spec.Credentials.SecretRef
	}
	if a.Spec.TLS != nil {
		tls = a.Spec.TLS.SecretRef
	}
	return map[string]any{"credentials": ref(cred), "tls": ref(tls)}
}

func envOf(env []v1.EnvVar) []any {
	out := []any{}
	for _, e := range env {
		if e.SecretKeyRef != nil {
			out = append(out, map[string]any{"name": e.Name, "secretKeyRef": map[string]any{"name": e.SecretKeyRef.Name, "key": e.SecretKeyRef.Key}})
			continue
		}
		out = append(out, map[string]any{"name": e.Name, "value": e.Value})
	}
	return out
}

func imageOf(repo *v1.Repository, a *v1.Adapter) map[string]any {
	img := a.ImageFrom(repo)
	if img == (v1.Image{}) {
		return nil
	}
	out := map[string]any{}
	for k, v := range map[string]string{"repository": img.Repository, "tag": img.Tag, "digest": img.Digest, "pullPolicy": img.PullPolicy} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func resourcesOf(repo *v1.Repository, a *v1.Adapter) map[string]any {
	r := a.Spec.Resources
	if r == nil && repo.Spec.Defaults != nil {
		r = repo.Spec.Defaults.Resources
	}
	if r == nil {
		return nil // the chart's defaults
	}
	// Every entry is set, to null where the manifest says nothing: Helm
	// merges maps, and a chart default request must never pair with a
	// lower limit the manifest set.
	list := func(l *v1.ResourceList) map[string]any {
		out := map[string]any{"cpu": nil, "memory": nil}
		if l != nil {
			if l.CPU != "" {
				out["cpu"] = l.CPU
			}
			if l.Memory != "" {
				out["memory"] = l.Memory
			}
		}
		return out
	}
	return map[string]any{"requests": list(r.Requests), "limits": list(r.Limits)}
}

func strings2any(ss []string) []any {
	out := make([]any, 0, len(ss))
	for _, s := range ss {
		out = append(out, s)
	}
	return out
}
