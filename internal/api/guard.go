package api

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// guard is what one security.json says about every request before it is
// authenticated (the IP allowlist, the rate limits) and about what is
// recorded (the audit level and events). It is immutable but for the
// limiters' state; Reload swaps in a new one.
type guard struct {
	allow     []netip.Prefix // nil: every address
	global    *rate.Limiter  // nil: no global limit
	perClient *v1.Limit      // nil: no per-client limit
	clients   *clientLimiters

	// requireCert: security.json's mtls requires a verified client
	// certificate on every authenticated request.
	requireCert bool

	auditOn bool
	level   string // minimal, standard, verbose
	events  map[string]bool
}

// compileGuard reads cfg; nil (no security.json) admits every address, has
// no limits and records at level standard.
func compileGuard(cfg *v1.SecurityConfig) (*guard, error) {
	g := &guard{auditOn: true, level: "standard"}
	if cfg == nil {
		return g, nil
	}
	spec := cfg.Spec
	if m := spec.MTLS; m.On() && (m.ClientAuth == "" || m.ClientAuth == v1.ClientAuthRequire) {
		g.requireCert = true
	}
	if n := spec.Network; n != nil && n.IPAllowlist.On() {
		for _, r := range n.IPAllowlist.Ranges {
			p, err := netip.ParsePrefix(r)
			if err != nil {
				return nil, fmt.Errorf("network.ipAllowlist: %w", err)
			}
			g.allow = append(g.allow, p.Masked())
		}
	}
	if rl := spec.RateLimit; rl.On() {
		if l := rl.Global; l != nil {
			g.global = rate.NewLimiter(rate.Limit(l.RequestsPerSecond), l.BurstSize)
		}
		if l := rl.PerClient; l != nil {
			g.perClient, g.clients = l, &clientLimiters{m: map[string]*clientLimiter{}}
		}
	}
	if a := spec.Audit; a != nil {
		g.auditOn = a.On()
		if a.Level != "" {
			g.level = a.Level
		}
		if len(a.Events) > 0 {
			g.events = map[string]bool{}
			for _, e := range a.Events {
				g.events[e] = true
			}
		}
	}
	return g, nil
}

// allowed reports whether addr may reach the API.
func (g *guard) allowed(addr netip.Addr) bool {
	if g.allow == nil {
		return true
	}
	addr = addr.Unmap()
	return slices.ContainsFunc(g.allow, func(p netip.Prefix) bool { return p.Contains(addr) })
}

// limit takes a token for client; when refused it says which bucket and
// how long until a token is back.
func (g *guard) limit(client string, now time.Time) (scope string, retry time.Duration) {
	if g.clients != nil {
		l := g.clients.get(client, g.perClient, now)
		if !l.AllowN(now, 1) {
			return "client", wait(l, now)
		}
	}
	if g.global != nil && !g.global.AllowN(now, 1) {
		return "global", wait(g.global, now)
	}
	return "", 0
}

// wait is how long until l has a token, at least a second (Retry-After is
// in whole seconds).
func wait(l *rate.Limiter, now time.Time) time.Duration {
	r := l.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return max(d.Round(time.Second), time.Second)
}

// records reports whether an event of kind (authentication,
// authorization, access, sync...) is recorded at the level needed.
func (g *guard) records(kind, level string) bool {
	if !g.auditOn || (g.events != nil && !g.events[kind]) {
		return false
	}
	rank := map[string]int{"minimal": 0, "standard": 1, "verbose": 2}
	return rank[g.level] >= rank[level]
}

// clientLimiters are the per-client buckets, forgotten after idleClient.
type clientLimiters struct {
	mu    sync.Mutex
	m     map[string]*clientLimiter
	sweep time.Time
}

type clientLimiter struct {
	*rate.Limiter
	seen time.Time
}

const idleClient = 10 * time.Minute

func (c *clientLimiters) get(client string, l *v1.Limit, now time.Time) *rate.Limiter {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.sweep) > idleClient {
		for k, v := range c.m {
			if now.Sub(v.seen) > idleClient {
				delete(c.m, k)
			}
		}
		c.sweep = now
	}
	cl, ok := c.m[client]
	if !ok {
		cl = &clientLimiter{Limiter: rate.NewLimiter(rate.Limit(l.RequestsPerSecond), l.BurstSize)}
		c.m[client] = cl
	}
	cl.seen = now
	return cl.Limiter
}
