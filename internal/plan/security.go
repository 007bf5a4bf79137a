package plan

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/validate"
)

// securityFields classifies security.json changes no specific rule explains.
var securityFields = byPrefix([]prefixRule{
	{"/metadata", KindSecurityChanged, RiskLow},
}, prefixRule{kind: KindSecurityChanged, risk: RiskMedium})

// securityChanges compares security.json. A SecurityConfig that appears is
// compared with an empty one, so that every binding it brings is reported.
func securityChanges(base, head *validate.Result) []Change {
	b, h := securityOf(base), securityOf(head)
	file := docFile(head, base, func(r *validate.Result) string {
		if r.SecurityDoc != nil {
			return r.SecurityDoc.File
		}
		return ""
	}, "security.json")
	switch {
	case b == nil && h == nil:
		return nil
	case h == nil:
		return []Change{{Kind: KindSecurityRemoved, File: file, Pointer: "", Risk: RiskHigh,
			Summary: "security.json removed: the API and portal lose authentication, RBAC and audit settings"}}
	case b == nil:
		b = &v1.SecurityConfig{}
	}
	c := &collector{file: file}
	c.claim("/apiVersion", "/kind")
	mtlsRule(c, b.Spec.MTLS, h.Spec.MTLS)
	var ba, ha v1.Authentication
	if b.Spec.Authentication != nil {
		ba = *b.Spec.Authentication
	}
	if h.Spec.Authentication != nil {
		ha = *h.Spec.Authentication
	}
	apiKeysRule(c, ba.APIKeys, ha.APIKeys)
	jwtRule(c, ba.JWT, ha.JWT)
	ssoRule(c, b.Spec.SSO, h.Spec.SSO)
	rbacRule(c, b.Spec.RBAC, h.Spec.RBAC)
	blockOff(c, "/spec/audit", b.Spec.Audit.On(), h.Spec.Audit.On(), h.Spec.Audit == nil, KindAuditWeakened, "audit logging")
	allowlistRule(c, b.Spec.Network, h.Spec.Network)
	rateLimitRule(c, b.Spec.RateLimit, h.Spec.RateLimit)
	sessionsRule(c, b.Spec.Sessions, h.Spec.Sessions)
	var bm, hm *v1.Masking
	if b.Spec.DataProtection != nil {
		bm = b.Spec.DataProtection.Masking
	}
	if h.Spec.DataProtection != nil {
		hm = h.Spec.DataProtection.Masking
	}
	blockOff(c, "/spec/dataProtection/masking", bm.On(), hm.On(), hm == nil, KindMaskingWeakened, "masking of sensitive fields")
	c.rest(b, h, securityFields)
	return c.changes
}

func securityOf(r *validate.Result) *v1.SecurityConfig {
	if r == nil {
		return nil
	}
	return r.Security
}

// docFile names a document's file from the head, else the base, else dflt.
func docFile(head, base *validate.Result, file func(*validate.Result) string, dflt string) string {
	for _, r := range []*validate.Result{head, base} {
		if r != nil {
			if f := file(r); f != "" {
				return f
			}
		}
	}
	return dflt
}

// blockOff reports a block that was in force and no longer is (disabled or
// removed), claiming the whole block.
func blockOff(c *collector, ptr string, before, after, removed bool, kind, what string) bool {
	if !before || after {
		return false
	}
	c.claim(ptr)
	if removed {
		c.add(kind, RiskHigh, ptr, true, nil, "%s removed", what)
	} else {
		c.add(kind, RiskHigh, ptr+"/enabled", true, false, "%s disabled", what)
	}
	return true
}

// clientAuthRank orders mTLS client certificate modes, strictest highest.
var clientAuthRank = map[string]int{"": 2, v1.ClientAuthRequire: 2, v1.ClientAuthRequest: 1, v1.ClientAuthNone: 0}

func mtlsRule(c *collector, b, h *v1.MTLS) {
	if blockOff(c, "/spec/mtls", b.On(), h.On(), h == nil, KindAuthWeakened, "mutual TLS") {
		return
	}
	if b.On() && h.On() && clientAuthRank[h.ClientAuth] < clientAuthRank[b.ClientAuth] {
		c.claim("/spec/mtls/clientAuth")
		c.add(KindAuthWeakened, RiskHigh, "/spec/mtls/clientAuth", b.ClientAuth, h.ClientAuth,
			"mutual TLS client certificates weakened from %s to %s", orDefault(b.ClientAuth, "require"), orDefault(h.ClientAuth, "require"))
	}
}

// shownKey is an API key without its hash, for Before and After.
type shownKey struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Scopes   []string `json:"scopes"`
	Expires  string   `json:"expires,omitempty"`
	Disabled bool     `json:"disabled,omitempty"`
}

func showKey(k *v1.APIKey) any {
	if k == nil {
		return nil
	}
	return shownKey{ID: k.ID, Name: k.Name, Scopes: k.Scopes, Expires: k.Expires, Disabled: k.IsDisabled()}
}

func apiKeysRule(c *collector, b, h *v1.APIKeys) {
	const ptr = "/spec/authentication/apiKeys"
	if blockOff(c, ptr, b.On(), h.On(), h == nil, KindAuthWeakened, "API key authentication") {
		return
	}
	// Keys are compared by id; the hashes are never shown.
	c.claim(ptr + "/keys")
	var bk, hk []v1.APIKey
	if b != nil {
		bk = b.Keys
	}
	if h != nil {
		hk = h.Keys
	}
	find := func(keys []v1.APIKey, id string) (int, *v1.APIKey) {
		for i := range keys {
			if keys[i].ID == id {
				return i, &keys[i]
			}
		}
		return -1, nil
	}
	for i := range hk {
		k := &hk[i]
		p := fmt.Sprintf("%s/keys/%d", ptr, i)
		_, old := find(bk, k.ID)
		if old == nil {
			if k.IsDisabled() {
				c.add(KindSecurityChanged, RiskMedium, p, nil, showKey(k), "API key %s (%s) added, disabled", k.ID, k.Name)
			} else {
				c.add(KindAPIKeyAdded, RiskHigh, p, nil, showKey(k), "API key %s (%s) added with scopes %s, %s",
					k.ID, k.Name, strings.Join(k.Scopes, ", "), expiry(k.Expires))
			}
			continue
		}
		keyChanges(c, p, old, k)
	}
	for i := range bk {
		if j, _ := find(hk, bk[i].ID); j < 0 {
			c.add(KindAPIKeyRemoved, RiskMedium, fmt.Sprintf("%s/keys/%d", ptr, i), showKey(&bk[i]), nil,
				"API key %s (%s) removed", bk[i].ID, bk[i].Name)
		}
	}
}

func keyChanges(c *collector, p string, b, h *v1.APIKey) {
	id := h.ID + " (" + h.Name + ")"
	switch {
	case b.IsDisabled() && !h.IsDisabled():
		c.add(KindAPIKeyWidened, RiskHigh, p+"/disabled", true, false, "API key %s enabled again, with scopes %s", id, strings.Join(h.Scopes, ", "))
	case !b.IsDisabled() && h.IsDisabled():
		c.add(KindAPIKeyRemoved, RiskMedium, p+"/disabled", false, true, "API key %s disabled", id)
	}
	if added, removed := setDiff(b.Scopes, h.Scopes); len(added) > 0 {
		c.add(KindAPIKeyWidened, RiskHigh, p+"/scopes", b.Scopes, h.Scopes, "API key %s gains scopes %s", id, strings.Join(added, ", "))
	} else if len(removed) > 0 {
		c.add(KindSecurityChanged, RiskMedium, p+"/scopes", b.Scopes, h.Scopes, "API key %s loses scopes %s", id, strings.Join(removed, ", "))
	}
	if b.Expires != h.Expires {
		if later(h.Expires, b.Expires) {
			c.add(KindAPIKeyWidened, RiskHigh, p+"/expires", b.Expires, h.Expires, "API key %s lives longer: %s instead of %s", id, expiry(h.Expires), expiry(b.Expires))
		} else {
			c.add(KindSecurityChanged, RiskMedium, p+"/expires", b.Expires, h.Expires, "API key %s expires sooner: %s", id, expiry(h.Expires))
		}
	}
	if b.Hash != h.Hash {
		c.add(KindAPIKeyRotated, RiskMedium, p+"/hash", nil, nil, "API key %s replaced by a new key (hash changed; not shown)", id)
	}
	if b.Name != h.Name || b.Description != h.Description {
		c.add(KindSecurityChanged, RiskLow, p, nil, nil, "API key %s renamed or described anew", id)
	}
}

func expiry(s string) string {
	if s == "" {
		return "no expiry"
	}
	return "expires " + s
}

// later reports whether expiry a is later than b; empty is never.
func later(a, b string) bool {
	if a == "" {
		return b != ""
	}
	if b == "" {
		return false
	}
	ta, errA := time.Parse(time.RFC3339, a)
	tb, errB := time.Parse(time.RFC3339, b)
	if errA != nil || errB != nil {
		return a > b
	}
	return ta.After(tb)
}

func jwtRule(c *collector, b, h *v1.JWT) {
	const ptr = "/spec/authentication/jwt"
	if blockOff(c, ptr, b.On(), h.On(), h == nil, KindAuthWeakened, "JWT authentication") || !h.On() {
		return
	}
	if !b.On() {
		c.claim(ptr)
		c.add(KindTrustChanged, RiskHigh, ptr, nil, nil, "JWT authentication enabled: tokens signed by %s are accepted (algorithms %s, audience %s)",
			orDefault(h.Issuer, "the configured keys"), strings.Join(h.Algorithms, ", "), strings.Join(h.Audience, ", "))
		return
	}
	if added, _ := setDiff(b.Algorithms, h.Algorithms); len(added) > 0 && len(b.Algorithms) > 0 {
		c.claim(ptr + "/algorithms")
		c.add(KindJWTAlgorithms, RiskHigh, ptr+"/algorithms", b.Algorithms, h.Algorithms, "JWT accepts more signing algorithms: %s", strings.Join(added, ", "))
	}
	if b.Issuer != h.Issuer && b.Issuer != "" {
		c.claim(ptr + "/issuer")
		c.add(KindTrustChanged, RiskHigh, ptr+"/issuer", b.Issuer, h.Issuer, "JWT issuer changed from %s to %s", b.Issuer, orDefault(h.Issuer, "none"))
	}
	if b.JWKSURI != h.JWKSURI && b.JWKSURI != "" {
		c.claim(ptr + "/jwksUri")
		c.add(KindTrustChanged, RiskHigh, ptr+"/jwksUri", b.JWKSURI, h.JWKSURI, "JWT signing keys come from %s instead of %s",
			orDefault(h.JWKSURI, "the issuer's discovery document"), b.JWKSURI)
	}
	if added, _ := setDiff(b.Audience, h.Audience); len(added) > 0 && len(b.Audience) > 0 {
		c.claim(ptr + "/audience")
		c.add(KindAuthWeakened, RiskHigh, ptr+"/audience", b.Audience, h.Audience, "JWT accepts tokens for more audiences: %s", strings.Join(added, ", "))
	}
	if len(b.Audience) > 0 && len(h.Audience) == 0 {
		c.claim(ptr + "/audience")
		c.add(KindAuthWeakened, RiskHigh, ptr+"/audience", b.Audience, nil, "JWT audience check removed: tokens for any audience are accepted")
	}
	if bd, ok1 := parseDuration(b.ClockSkew); ok1 {
		if hd, ok2 := parseDuration(h.ClockSkew); ok2 && hd > bd {
			c.claim(ptr + "/clockSkew")
			c.add(KindAuthWeakened, RiskHigh, ptr+"/clockSkew", b.ClockSkew, h.ClockSkew, "JWT clock skew lengthened from %s to %s: expired tokens are accepted longer", b.ClockSkew, h.ClockSkew)
		}
	}
}

func ssoRule(c *collector, b, h *v1.SSO) {
	const ptr = "/spec/sso"
	if blockOff(c, ptr, b.On(), h.On(), h == nil, KindAuthWeakened, "single sign-on") || !h.On() {
		return
	}
	id := func(s *v1.SSO) string {
		switch {
		case s.OIDC != nil:
			return "oidc issuer " + s.OIDC.Issuer + " client " + s.OIDC.ClientID
		case s.Okta != nil:
			return "okta " + s.Okta.Domain + " client " + s.Okta.ClientID + " server " + s.Okta.AuthorizationServerID
		case s.Azure != nil:
			return "azure tenant " + s.Azure.TenantID + " client " + s.Azure.ClientID
		case s.Google != nil:
			return "google client " + s.Google.ClientID + " domain " + orDefault(s.Google.HostedDomain, "any (every Google account)")
		}
		return "none"
	}
	switch {
	case !b.On():
		c.claim(ptr)
		c.add(KindTrustChanged, RiskHigh, ptr, nil, nil, "single sign-on enabled with %s", id(h))
	case id(b) != id(h):
		c.claim(ptr)
		c.add(KindTrustChanged, RiskHigh, ptr, nil, nil, "single sign-on changed from %s to %s", id(b), id(h))
	}
}

// roleRank orders roles by privilege; a custom role ranks as an operator.
func roleRank(role string) int {
	switch role {
	case "":
		return 0
	case v1.RoleViewer:
		return 1
	case v1.RoleDeveloper:
		return 2
	case v1.RoleOperator:
		return 3
	case v1.RoleAdmin:
		return 5
	}
	return 4
}

func rbacRule(c *collector, b, h *v1.RBAC) {
	const ptr = "/spec/rbac"
	if b.On() && !h.On() {
		c.claim(ptr)
		if h == nil {
			c.add(KindRBACDisabled, RiskHigh, ptr, true, nil, "RBAC removed: every authenticated subject may do everything")
		} else {
			c.add(KindRBACDisabled, RiskHigh, ptr+"/enabled", true, false, "RBAC disabled: every authenticated subject may do everything")
		}
		return
	}
	if b == nil {
		b = &v1.RBAC{}
	}
	if h == nil {
		h = &v1.RBAC{}
	}
	if b.DefaultRole != h.DefaultRole {
		c.claim(ptr + "/defaultRole")
		if roleRank(h.DefaultRole) > roleRank(b.DefaultRole) || roleRank(h.DefaultRole) == 4 {
			c.add(KindDefaultRoleWidened, RiskHigh, ptr+"/defaultRole", b.DefaultRole, h.DefaultRole,
				"every authenticated subject without a binding now gets role %s (was %s)", h.DefaultRole, orDefault(b.DefaultRole, "nothing"))
		} else {
			c.add(KindSecurityChanged, RiskMedium, ptr+"/defaultRole", b.DefaultRole, h.DefaultRole,
				"default role lowered from %s to %s", b.DefaultRole, orDefault(h.DefaultRole, "nothing"))
		}
	}
	rolesRule(c, ptr+"/roles", b.Roles, h.Roles)
	bindingsRule(c, ptr+"/bindings", b.Bindings, h.Bindings)
}

// grants expands a role's permissions to "resource:action" pairs.
func grants(r *v1.Role) []string {
	var out []string
	for _, p := range r.Permissions {
		for _, a := range p.Actions {
			out = append(out, p.Resource+":"+a)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// granted reports whether pair is within the grants set (with wildcards).
func granted(pair string, set []string) bool {
	res, act, _ := strings.Cut(pair, ":")
	for _, g := range set {
		gr, ga, _ := strings.Cut(g, ":")
		if (gr == res || gr == v1.ResourceAll) && (ga == act || ga == v1.ActionAll) {
			return true
		}
	}
	return false
}

func rolesRule(c *collector, ptr string, b, h []v1.Role) {
	c.claim(ptr)
	find := func(roles []v1.Role, name string) (int, *v1.Role) {
		for i := range roles {
			if roles[i].Name == name {
				return i, &roles[i]
			}
		}
		return -1, nil
	}
	for i := range h {
		r := &h[i]
		p := fmt.Sprintf("%s/%d", ptr, i)
		_, old := find(b, r.Name)
		if old == nil {
			c.add(KindRoleAdded, RiskMedium, p, nil, r, "role %s added, granting %s", r.Name, strings.Join(grants(r), ", "))
			continue
		}
		bg, hg := grants(old), grants(r)
		var wider, narrower []string
		for _, g := range hg {
			if !granted(g, bg) {
				wider = append(wider, g)
			}
		}
		for _, g := range bg {
			if !granted(g, hg) {
				narrower = append(narrower, g)
			}
		}
		switch {
		case len(wider) > 0:
			c.add(KindRoleWidened, RiskHigh, p+"/permissions", old.Permissions, r.Permissions, "role %s widened: now grants %s", r.Name, strings.Join(wider, ", "))
		case len(narrower) > 0:
			c.add(KindRoleNarrowed, RiskMedium, p+"/permissions", old.Permissions, r.Permissions, "role %s narrowed: no longer grants %s", r.Name, strings.Join(narrower, ", "))
		}
		if old.Description != r.Description {
			c.add(KindSecurityChanged, RiskLow, p+"/description", old.Description, r.Description, "role %s description changed", r.Name)
		}
	}
	for i := range b {
		if j, _ := find(h, b[i].Name); j < 0 {
			c.add(KindRoleRemoved, RiskMedium, fmt.Sprintf("%s/%d", ptr, i), &b[i], nil, "role %s removed", b[i].Name)
		}
	}
}

func bindingID(b *v1.Binding) string { return b.Subject.Type + " " + b.Subject.Name + " as " + b.Role }

func scopeText(s *v1.BindingScope) string {
	if s == nil {
		return "everywhere"
	}
	var parts []string
	if len(s.Environments) > 0 {
		parts = append(parts, "environments "+strings.Join(s.Environments, ", "))
	}
	if len(s.Adapters) > 0 {
		parts = append(parts, "adapters "+strings.Join(s.Adapters, ", "))
	}
	if s.AdapterSelector != nil {
		var kv []string
		for k, v := range s.AdapterSelector.MatchLabels {
			kv = append(kv, k+"="+v)
		}
		slices.Sort(kv)
		parts = append(parts, "adapters labelled "+strings.Join(kv, ","))
	}
	if len(parts) == 0 {
		return "everywhere"
	}
	return strings.Join(parts, " and ")
}

// scopeWider reports whether scope h admits something scope b does not.
func scopeWider(b, h *v1.BindingScope) bool {
	if h == nil || scopeText(h) == "everywhere" {
		return scopeText(b) != "everywhere"
	}
	if b == nil {
		return false
	}
	listWider := func(bl, hl []string) bool {
		if len(hl) == 0 {
			return len(bl) > 0
		}
		added, _ := setDiff(bl, hl)
		return len(bl) > 0 && len(added) > 0
	}
	if listWider(b.Environments, h.Environments) || listWider(b.Adapters, h.Adapters) {
		return true
	}
	if b.AdapterSelector != nil {
		if h.AdapterSelector == nil {
			return true
		}
		for k, v := range b.AdapterSelector.MatchLabels {
			if hv, ok := h.AdapterSelector.MatchLabels[k]; !ok || hv != v {
				return true
			}
		}
	}
	return false
}

func bindingsRule(c *collector, ptr string, b, h []v1.Binding) {
	c.claim(ptr)
	used := make([]bool, len(b))
	match := func(hb *v1.Binding) *v1.Binding {
		// The same subject and role, preferring an identical scope.
		best := -1
		for i := range b {
			if used[i] || bindingID(&b[i]) != bindingID(hb) {
				continue
			}
			if reflect.DeepEqual(b[i].Scope, hb.Scope) {
				best = i
				break
			}
			if best < 0 {
				best = i
			}
		}
		if best < 0 {
			return nil
		}
		used[best] = true
		return &b[best]
	}
	for i := range h {
		hb := &h[i]
		p := fmt.Sprintf("%s/%d", ptr, i)
		old := match(hb)
		switch {
		case old == nil:
			c.add(KindBindingAdded, RiskHigh, p, nil, hb, "grants role %s to %s %s (%s)", hb.Role, hb.Subject.Type, hb.Subject.Name, scopeText(hb.Scope))
		case reflect.DeepEqual(old.Scope, hb.Scope):
		case scopeWider(old.Scope, hb.Scope):
			c.add(KindBindingWidened, RiskHigh, p+"/scope", old.Scope, hb.Scope, "%s %s's role %s now applies to %s (was %s)",
				hb.Subject.Type, hb.Subject.Name, hb.Role, scopeText(hb.Scope), scopeText(old.Scope))
		default:
			c.add(KindBindingNarrowed, RiskMedium, p+"/scope", old.Scope, hb.Scope, "%s %s's role %s now applies to %s (was %s)",
				hb.Subject.Type, hb.Subject.Name, hb.Role, scopeText(hb.Scope), scopeText(old.Scope))
		}
	}
	for i := range b {
		if !used[i] {
			c.add(KindBindingRemoved, RiskMedium, fmt.Sprintf("%s/%d", ptr, i), &b[i], nil, "%s %s loses role %s (%s)",
				b[i].Subject.Type, b[i].Subject.Name, b[i].Role, scopeText(b[i].Scope))
		}
	}
}

func allowlistRule(c *collector, b, h *v1.Network) {
	const ptr = "/spec/network/ipAllowlist"
	var bl, hl *v1.IPAllowlist
	if b != nil {
		bl = b.IPAllowlist
	}
	if h != nil {
		hl = h.IPAllowlist
	}
	if blockOff(c, ptr, bl.On(), hl.On(), hl == nil, KindAllowlistWeakened, "the IP allowlist") || !bl.On() || !hl.On() {
		return
	}
	c.claim(ptr + "/ranges")
	wider, narrower := rangeChange(bl.Ranges, hl.Ranges)
	switch {
	case len(wider) > 0:
		c.add(KindAllowlistWeakened, RiskHigh, ptr+"/ranges", bl.Ranges, hl.Ranges, "IP allowlist widened: %s", strings.Join(wider, "; "))
	case narrower:
		c.add(KindSecurityChanged, RiskMedium, ptr+"/ranges", bl.Ranges, hl.Ranges, "IP allowlist narrowed")
	}
}

func rateLimitRule(c *collector, b, h *v1.RateLimit) {
	const ptr = "/spec/rateLimit"
	if blockOff(c, ptr, b.On(), h.On(), h == nil, KindRateLimitWeakened, "rate limiting") || !b.On() || !h.On() {
		return
	}
	limit := func(name string, bl, hl *v1.Limit) {
		p := ptr + "/" + name
		c.claim(p)
		switch {
		case bl != nil && hl == nil:
			c.add(KindRateLimitWeakened, RiskHigh, p, bl, nil, "%s rate limit removed", name)
		case bl != nil && (hl.RequestsPerSecond > bl.RequestsPerSecond || hl.BurstSize > bl.BurstSize):
			c.add(KindRateLimitRaised, RiskMedium, p, bl, hl, "%s rate limit raised from %g/s (burst %d) to %g/s (burst %d)",
				name, bl.RequestsPerSecond, bl.BurstSize, hl.RequestsPerSecond, hl.BurstSize)
		case !reflect.DeepEqual(bl, hl):
			c.add(KindSecurityChanged, RiskMedium, p, bl, hl, "%s rate limit tightened", name)
		}
	}
	limit("global", b.Global, h.Global)
	limit("perClient", b.PerClient, h.PerClient)
}

func sessionsRule(c *collector, b, h *v1.Sessions) {
	const ptr = "/spec/sessions/timeout"
	var bt, ht string
	if b != nil {
		bt = b.Timeout
	}
	if h != nil {
		ht = h.Timeout
	}
	if bt == ht || bt == "" {
		return
	}
	bd, _ := parseDuration(bt)
	hd, ok := parseDuration(ht)
	if !ok || hd > bd {
		c.claim(ptr)
		c.add(KindSessionTimeout, RiskHigh, ptr, bt, ht, "portal session timeout lengthened from %s to %s", bt, orDefault(ht, "no limit"))
	}
}
