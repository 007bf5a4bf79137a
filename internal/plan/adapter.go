package plan

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// adapterFields classifies manifest changes no specific rule explains.
var adapterFields = byPrefix([]prefixRule{
	{"/metadata/labels", KindMetadata, RiskLow},
	{"/metadata/annotations", KindMetadata, RiskLow},
	{"/spec/description", KindMetadata, RiskLow},
	{"/spec/replicas", KindReplicas, RiskLow},
	{"/spec/resources", KindResources, RiskLow},
	{"/spec/image", KindImage, RiskLow},
	{"/spec/fix", KindSessionChanged, RiskLow},
	{"/spec/fix/version", KindSessionIdentity, RiskMedium},
	{"/spec/fix/defaultApplVerID", KindSessionIdentity, RiskMedium},
	{"/spec/fix/senderCompID", KindSessionIdentity, RiskMedium},
	{"/spec/fix/targetCompID", KindSessionIdentity, RiskMedium},
	{"/spec/fix/senderSubID", KindSessionIdentity, RiskMedium},
	{"/spec/fix/targetSubID", KindSessionIdentity, RiskMedium},
	{"/spec/fix/resetOnLogon", KindSessionReset, RiskMedium},
	{"/spec/fix/resetOnLogout", KindSessionReset, RiskMedium},
	{"/spec/fix/resetOnDisconnect", KindSessionReset, RiskMedium},
	{"/spec/fix/schedule", KindSessionSchedule, RiskMedium},
	{"/spec/fix/validateIncoming", KindSessionChanged, RiskMedium},
	{"/spec/kafka", KindSessionChanged, RiskMedium},
	{"/spec/kafka/bootstrapServers", KindEndpointChanged, RiskMedium},
	{"/spec/tcp", KindSessionChanged, RiskLow},
	{"/spec/connect", KindEndpointChanged, RiskMedium},
	{"/spec/connect/reconnectIntervalSeconds", KindSessionChanged, RiskLow},
	{"/spec/listen", KindListenChanged, RiskMedium},
	{"/spec/tls", KindTLSChanged, RiskMedium},
}, prefixRule{kind: KindField, risk: RiskMedium})

// adapterChanges compares two manifests of one adapter.
func adapterChanges(file string, b, h *v1.Adapter) []Change {
	if b == nil || h == nil {
		return nil
	}
	c := &collector{file: file}
	identity(c, b, h)
	listen(c, b.Spec.Listen, h.Spec.Listen)
	transport(c, b, h)
	credentials(c, b, h)
	egress(c, b.Spec.Egress, h.Spec.Egress)
	envVars(c, b.Spec.Env, h.Spec.Env)
	if b.Spec.Suspended != h.Spec.Suspended {
		c.claim("/spec/suspended")
		if h.Spec.Suspended {
			c.add(KindSuspended, RiskMedium, "/spec/suspended", false, true, "suspended: its sessions stop")
		} else {
			c.add(KindResumed, RiskLow, "/spec/suspended", true, false, "resumed: its sessions start")
		}
	}
	c.rest(b, h, adapterFields)
	return c.changes
}

func identity(c *collector, b, h *v1.Adapter) {
	c.claim("/apiVersion", "/kind", "/metadata/name", "/metadata/environment")
	if b.Spec.Role != h.Spec.Role {
		c.claim("/spec/role")
		what := "role switched from %s to %s"
		switch h.Spec.Role {
		case v1.RoleAcceptor:
			what += ": it now accepts inbound connections"
		case v1.RoleInitiator:
			what += ": it no longer accepts inbound connections"
		}
		c.add(KindRoleSwitched, RiskHigh, "/spec/role", b.Spec.Role, h.Spec.Role, what, b.Spec.Role, h.Spec.Role)
	}
	if b.Spec.Protocol != h.Spec.Protocol {
		c.claim("/spec/protocol", "/spec/fix", "/spec/kafka", "/spec/tcp")
		c.add(KindProtocolChanged, RiskHigh, "/spec/protocol", b.Spec.Protocol, h.Spec.Protocol,
			"protocol changed from %s to %s", b.Spec.Protocol, h.Spec.Protocol)
	}
}

// serviceExposure ranks how far a Service type reaches.
var serviceExposure = map[string]int{"": 2, "ClusterIP": 0, "NodePort": 1, "LoadBalancer": 2}

func listen(c *collector, b, h *v1.Listen) {
	const ptr = "/spec/listen"
	switch {
	case b == nil && h == nil:
		return
	case b == nil:
		c.claim(ptr)
		c.add(KindPortOpened, RiskHigh, ptr, nil, h, "opens port %d (%s) to %s", h.Port, serviceType(h), sources(h.AllowedSources))
		return
	case h == nil:
		c.claim(ptr)
		c.add(KindListenerClosed, RiskMedium, ptr, b, nil, "closes port %d: it no longer accepts inbound connections", b.Port)
		return
	}
	if b.Port != h.Port {
		c.claim(ptr + "/port")
		c.add(KindPortOpened, RiskHigh, ptr+"/port", b.Port, h.Port, "listens on port %d instead of %d (allowed sources: %s)",
			h.Port, b.Port, sources(h.AllowedSources))
	}
	if b.NodePort != h.NodePort {
		c.claim(ptr + "/nodePort")
		if h.NodePort != 0 {
			c.add(KindPortOpened, RiskHigh, ptr+"/nodePort", b.NodePort, h.NodePort, "opens node port %d on every node (was %s)", h.NodePort, portOrNone(b.NodePort))
		} else {
			c.add(KindListenChanged, RiskLow, ptr+"/nodePort", b.NodePort, nil, "node port %d is no longer fixed", b.NodePort)
		}
	}
	if serviceType(b) != serviceType(h) {
		c.claim(ptr + "/serviceType")
		if serviceExposure[h.ServiceType] > serviceExposure[b.ServiceType] {
			c.add(KindPortOpened, RiskHigh, ptr+"/serviceType", b.ServiceType, h.ServiceType, "service type %s exposes port %d further than %s",
				serviceType(h), h.Port, serviceType(b))
		} else {
			c.add(KindListenChanged, RiskMedium, ptr+"/serviceType", b.ServiceType, h.ServiceType, "service type changed from %s to %s", serviceType(b), serviceType(h))
		}
	}
	if b.TLS && !h.TLS {
		c.claim(ptr + "/tls")
		c.add(KindTLSWeakened, RiskHigh, ptr+"/tls", true, false, "inbound sessions on port %d are no longer encrypted (TLS off)", h.Port)
	}
	sourcesChange(c, ptr+"/allowedSources", b.AllowedSources, h.AllowedSources)
}

func sourcesChange(c *collector, ptr string, b, h []string) {
	c.claim(ptr)
	wider, narrower := rangeChange(b, h)
	switch {
	case len(wider) > 0:
		c.add(KindAllowedSourcesWidened, RiskHigh, ptr, b, h, "allowed sources widened: %s", strings.Join(wider, "; "))
	case narrower:
		_, removed := setDiff(b, h)
		c.add(KindAllowedSourcesNarrowed, RiskLow, ptr, b, h, "allowed sources narrowed (no longer admitted: %s)", strings.Join(removed, ", "))
	}
}

func serviceType(l *v1.Listen) string {
	if l.ServiceType == "" {
		return "LoadBalancer"
	}
	return l.ServiceType
}

func sources(s []string) string {
	if len(s) == 0 {
		return "no source range"
	}
	return strings.Join(s, ", ")
}

func portOrNone(p int) string {
	if p == 0 {
		return "none"
	}
	return fmt.Sprint(p)
}

// transport reports TLS turned off or weakened on the connect side and the
// adapter's TLS block, and Kafka losing TLS.
func transport(c *collector, b, h *v1.Adapter) {
	if bc, hc := b.Spec.Connect, h.Spec.Connect; bc != nil && hc != nil && bc.TLS && !hc.TLS {
		c.claim("/spec/connect/tls")
		c.add(KindTLSWeakened, RiskHigh, "/spec/connect/tls", true, false, "the connection to %s:%d is no longer encrypted (TLS off)", hc.Host, hc.Port)
	}
	bt, ht := b.Spec.TLS, h.Spec.TLS
	if bt == nil {
		bt = &v1.TLS{}
	}
	if ht == nil {
		ht = &v1.TLS{}
	}
	if boolVal(bt.VerifyPeer, true) && !boolVal(ht.VerifyPeer, true) {
		c.claim("/spec/tls/verifyPeer")
		c.add(KindTLSWeakened, RiskHigh, "/spec/tls/verifyPeer", bt.VerifyPeer, ht.VerifyPeer, "the peer's certificate is no longer verified")
	}
	if tlsRank(ht.MinVersion) < tlsRank(bt.MinVersion) {
		c.claim("/spec/tls/minVersion")
		c.add(KindTLSWeakened, RiskHigh, "/spec/tls/minVersion", bt.MinVersion, ht.MinVersion, "minimum TLS version lowered from %s to %s",
			orDefault(bt.MinVersion, "the default"), orDefault(ht.MinVersion, "the default"))
	}
	if !reflect.DeepEqual(bt.SecretRef, ht.SecretRef) {
		c.claim("/spec/tls/secretRef")
		c.add(KindCredentialsChanged, RiskMedium, "/spec/tls/secretRef", bt.SecretRef, ht.SecretRef, "TLS material: %s", refChange(bt.SecretRef, ht.SecretRef))
	}
	if bk, hk := b.Spec.Kafka, h.Spec.Kafka; bk != nil && hk != nil && kafkaTLS(bk.SecurityProtocol) && !kafkaTLS(hk.SecurityProtocol) {
		c.claim("/spec/kafka/securityProtocol")
		c.add(KindKafkaWeakened, RiskHigh, "/spec/kafka/securityProtocol", bk.SecurityProtocol, hk.SecurityProtocol,
			"Kafka security protocol changed from %s to %s: traffic to the brokers is no longer encrypted", bk.SecurityProtocol, hk.SecurityProtocol)
	}
}

// tlsRank orders TLS versions; empty is the default (TLS 1.2).
func tlsRank(v string) int {
	switch strings.TrimPrefix(strings.ToUpper(strings.ReplaceAll(v, "v", "")), "TLS") {
	case "1.0", "10":
		return 10
	case "1.1", "11":
		return 11
	case "", "1.2", "12":
		return 12
	case "1.3", "13":
		return 13
	}
	return 12
}

func kafkaTLS(p string) bool { return p == "SSL" || p == "SASL_SSL" }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func credentials(c *collector, b, h *v1.Adapter) {
	var br, hr *v1.SecretRef
	if b.Spec.Credentials != nil {
		br = &b.Spec.Credentials.SecretRef
	}
	if h.Spec.Credentials != nil {
		hr = &h.Spec.Credentials.SecretRef
	}
	c.claim("/spec/credentials")
	if !reflect.DeepEqual(br, hr) {
		c.add(KindCredentialsChanged, RiskMedium, "/spec/credentials/secretRef", br, hr, "session credentials: %s", refChange(br, hr))
	}
}

// refChange describes a changed Secret reference: names and keys only.
func refChange(b, h *v1.SecretRef) string { return refName(b) + " → " + refName(h) }

func refName(r *v1.SecretRef) string {
	if r == nil {
		return "none"
	}
	return fmt.Sprintf("Secret %s (keys %s)", r.Name, strings.Join(r.Keys, ", "))
}

func egress(c *collector, b, h *v1.Egress) {
	var bc, hc []string
	if b != nil {
		bc = b.CIDRs
	}
	if h != nil {
		hc = h.CIDRs
	}
	c.claim("/spec/egress")
	wider, narrower := rangeChange(bc, hc)
	switch {
	case len(bc) > 0 && len(hc) == 0:
		// No explicit ranges: egress falls back to the endpoints' own addresses.
		c.add(KindEgressWidened, RiskMedium, "/spec/egress/cidrs", bc, nil, "explicit egress ranges removed: egress now follows the endpoints' addresses, or their ports only when they are names")
	case len(wider) > 0:
		c.add(KindEgressWidened, RiskMedium, "/spec/egress/cidrs", bc, hc, "egress widened: %s", strings.Join(wider, "; "))
	case narrower:
		c.add(KindEgressNarrowed, RiskLow, "/spec/egress/cidrs", bc, hc, "egress narrowed to %s", sources(hc))
	}
}

// envVars compares environment variables by name: Secret references are
// credentials changes, literal values are low risk.
func envVars(c *collector, b, h []v1.EnvVar) {
	c.claim("/spec/env")
	find := func(list []v1.EnvVar, name string) *v1.EnvVar {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
		return nil
	}
	var names []string
	for _, e := range append(slices.Clone(b), h...) {
		names = append(names, e.Name)
	}
	slices.Sort(names)
	for _, n := range slices.Compact(names) {
		be, he := find(b, n), find(h, n)
		if reflect.DeepEqual(be, he) {
			continue
		}
		// The pointer is into the head, or into the base for a removed variable.
		i := slices.IndexFunc(h, func(e v1.EnvVar) bool { return e.Name == n })
		if i < 0 {
			i = slices.IndexFunc(b, func(e v1.EnvVar) bool { return e.Name == n })
		}
		ptr := fmt.Sprintf("/spec/env/%d", i)
		var bk, hk *v1.SecretKeyRef
		if be != nil {
			bk = be.SecretKeyRef
		}
		if he != nil {
			hk = he.SecretKeyRef
		}
		if !reflect.DeepEqual(bk, hk) {
			c.add(KindCredentialsChanged, RiskMedium, ptr+"/secretKeyRef", bk, hk, "env %s: Secret key %s → %s", n, keyRef(bk), keyRef(hk))
			continue
		}
		c.add(KindEnv, RiskLow, ptr, be, he, "env %s: %s → %s", n, envValue(be), envValue(he))
	}
}

func keyRef(k *v1.SecretKeyRef) string {
	if k == nil {
		return "none"
	}
	return k.Name + "/" + k.Key
}

func envValue(e *v1.EnvVar) string {
	if e == nil {
		return "unset"
	}
	return fmt.Sprintf("%q", e.Value)
}

// addedChanges describes a new adapter: a new listener is a port opened.
func addedChanges(file string, a *v1.Adapter, prod bool, ns string) []Change {
	risk, where := RiskLow, ""
	if prod {
		risk, where = RiskMedium, " production"
	}
	out := []Change{{Kind: KindAdapterAdded, File: file, Pointer: "", Risk: risk,
		Summary: fmt.Sprintf("new adapter in%s %s, installed in %s", where, envName(a), ns)}}
	if a == nil {
		return out
	}
	out[0].Summary = fmt.Sprintf("new %s %s adapter in%s environment %s, installed in %s", a.Spec.Protocol, a.Spec.Role, where, a.Metadata.Environment, ns)
	if cr := a.Spec.Credentials; cr != nil {
		out[0].Summary += "; session credentials from " + refName(&cr.SecretRef)
	}
	if l := a.Spec.Listen; l != nil {
		c := &collector{file: file}
		c.add(KindPortOpened, RiskHigh, "/spec/listen", nil, l, "opens port %d (%s) to %s", l.Port, serviceType(l), sources(l.AllowedSources))
		out = append(out, c.changes...)
	}
	return out
}

func envName(a *v1.Adapter) string {
	if a == nil {
		return "its environment"
	}
	return a.Metadata.Environment
}
