package plan

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/netrange"
)

// Risk is how closely a reviewer must look at a change.
type Risk int

// Risk levels, lowest first.
const (
	RiskNone Risk = iota
	RiskLow
	RiskMedium
	RiskHigh
)

var riskNames = []string{"none", "low", "medium", "high"}

func (r Risk) String() string {
	if r < 0 || int(r) >= len(riskNames) {
		return "unknown"
	}
	return riskNames[r]
}

// MarshalText writes the risk as "none", "low", "medium" or "high".
func (r Risk) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a risk written by MarshalText.
func (r *Risk) UnmarshalText(b []byte) error {
	i := slices.Index(riskNames, string(b))
	if i < 0 {
		return fmt.Errorf("unknown risk %q", b)
	}
	*r = Risk(i)
	return nil
}

// Kinds of change. Every Change the plan reports has one of these kinds;
// Kinds describes each.
const (
	// Adapters.
	KindAdapterAdded           = "adapter-added"
	KindAdapterRemoved         = "adapter-removed"
	KindAdapterRemovedProd     = "adapter-removed-from-production"
	KindAdapterMoved           = "adapter-moved"
	KindNamespaceChanged       = "namespace-changed"
	KindPortOpened             = "port-opened"
	KindAllowedSourcesWidened  = "allowed-sources-widened"
	KindAllowedSourcesNarrowed = "allowed-sources-narrowed"
	KindListenChanged          = "listen-changed"
	KindListenerClosed         = "listener-closed"
	KindTLSWeakened            = "tls-weakened"
	KindTLSChanged             = "tls-changed"
	KindCredentialsChanged     = "credentials-changed"
	KindRoleSwitched           = "role-switched"
	KindProtocolChanged        = "protocol-changed"
	KindEndpointChanged        = "endpoint-changed"
	KindEgressWidened          = "egress-widened"
	KindEgressNarrowed         = "egress-narrowed"
	KindSessionIdentity        = "session-identity-changed"
	KindSessionReset           = "session-reset-changed"
	KindSessionSchedule        = "session-schedule-changed"
	KindSessionChanged         = "session-changed"
	KindKafkaWeakened          = "kafka-security-weakened"
	KindSuspended              = "adapter-suspended"
	KindResumed                = "adapter-resumed"
	KindReplicas               = "replicas-changed"
	KindResources              = "resources-changed"
	KindImage                  = "image-changed"
	KindEnv                    = "env-changed"
	KindMetadata               = "metadata-changed"
	KindValues                 = "values-changed"
	KindChart                  = "chart-changed"
	KindField                  = "field-changed"

	// security.json.
	KindBindingAdded       = "rbac-binding-added"
	KindBindingRemoved     = "rbac-binding-removed"
	KindBindingWidened     = "rbac-binding-widened"
	KindBindingNarrowed    = "rbac-binding-narrowed"
	KindRoleWidened        = "rbac-role-widened"
	KindRoleNarrowed       = "rbac-role-narrowed"
	KindRoleAdded          = "rbac-role-added"
	KindRoleRemoved        = "rbac-role-removed"
	KindRBACDisabled       = "rbac-disabled"
	KindDefaultRoleWidened = "rbac-default-role-widened"
	KindAuthWeakened       = "authentication-weakened"
	KindAPIKeyAdded        = "api-key-added"
	KindAPIKeyWidened      = "api-key-widened"
	KindAPIKeyRemoved      = "api-key-removed"
	KindAPIKeyRotated      = "api-key-rotated"
	KindJWTAlgorithms      = "jwt-algorithms-widened"
	KindTrustChanged       = "identity-provider-changed"
	KindSessionTimeout     = "session-timeout-lengthened"
	KindAllowlistWeakened  = "ip-allowlist-weakened"
	KindRateLimitWeakened  = "rate-limit-weakened"
	KindRateLimitRaised    = "rate-limit-raised"
	KindAuditWeakened      = "audit-weakened"
	KindMaskingWeakened    = "masking-weakened"
	KindSecurityRemoved    = "security-removed"
	KindSecurityChanged    = "security-changed"

	// policy.json.
	KindApprovalsLowered  = "approvals-lowered"
	KindChecksRemoved     = "checks-removed"
	KindSignaturesWeaker  = "signatures-weakened"
	KindWindowRemoved     = "change-window-weakened"
	KindPruneLoosened     = "prune-limit-loosened"
	KindExceptionAdded    = "exception-added"
	KindDirectPushAllowed = "direct-push-allowed"
	KindPolicyRemoved     = "policy-removed"
	KindPolicyChanged     = "policy-changed"

	// cairn.json.
	KindEnvironmentAdded   = "environment-added"
	KindEnvironmentRemoved = "environment-removed"
	KindProductionCleared  = "production-flag-cleared"
	KindProductionSet      = "production-flag-set"
	KindEnvNamespace       = "environment-namespace-changed"
	KindChartPath          = "chart-path-changed"
	KindOrchestrator       = "orchestrator-changed"
	KindRepositoryChanged  = "repository-changed"
)

// KindInfo describes a kind of change: its usual risk and what a reviewer
// should check. Some kinds take another risk in context (an added adapter
// is medium in production, low elsewhere); Risk is the usual one.
type KindInfo struct {
	Kind   string
	Risk   Risk
	Advice string
}

// Kinds is the risk table of the plan, in the order the documentation lists it.
var Kinds = []KindInfo{
	{KindPortOpened, RiskHigh, "A port now accepts connections from outside the cluster: confirm the port, service type and allowed source ranges with the counterparty and the network team."},
	{KindAllowedSourcesWidened, RiskHigh, "The acceptor admits addresses it refused before: check each new range against the counterparty's published IP list and that it is no wider than needed."},
	{KindAllowedSourcesNarrowed, RiskLow, "Confirm no counterparty still connects from the removed ranges; its sessions would be refused."},
	{KindRoleSwitched, RiskHigh, "An initiator that becomes an acceptor opens a port, an acceptor that becomes an initiator drops inbound sessions: confirm with the counterparty which side connects."},
	{KindProtocolChanged, RiskHigh, "The adapter speaks another protocol: this replaces the session entirely; confirm with the counterparty."},
	{KindAdapterMoved, RiskHigh, "A move uninstalls the release in one namespace and installs it in another: confirm the Secrets exist in the new namespace and the counterparty expects the session there (and no longer in the old one)."},
	{KindAdapterRemovedProd, RiskHigh, "Removing an adapter from production stops its sessions when the revision applies: confirm the counterparty agreed to the decommission and no order flow depends on it."},
	{KindNamespaceChanged, RiskHigh, "The release moves to another namespace: it is uninstalled and installed again, and its Secrets must exist in the new namespace."},
	{KindTLSWeakened, RiskHigh, "Transport security is weaker (TLS off, peer verification off or an older minimum version): confirm the counterparty requires it and the link is otherwise protected."},
	{KindKafkaWeakened, RiskHigh, "The Kafka connection no longer uses TLS: confirm the brokers are reachable only on a trusted network."},
	{KindCredentialsChanged, RiskMedium, "The adapter authenticates with another Secret: check that the Secret exists in the namespace with the named keys and that the counterparty expects the new credentials."},
	{KindAdapterRemoved, RiskMedium, "The adapter's sessions stop when the revision applies: confirm nothing in this environment still depends on it."},
	{KindAdapterAdded, RiskLow, "A new session: check the counterparty details and that every referenced Secret exists in the namespace before merging (medium in production)."},
	{KindListenChanged, RiskMedium, "The listener's exposure changed: confirm with the network team."},
	{KindListenerClosed, RiskMedium, "The adapter no longer listens: inbound sessions from the counterparty will be refused."},
	{KindTLSChanged, RiskMedium, "TLS settings changed: confirm the counterparty's certificate and name still match."},
	{KindEndpointChanged, RiskMedium, "The adapter connects to another endpoint: confirm the host and port with the counterparty and that egress allows it."},
	{KindEgressWidened, RiskMedium, "The adapter may reach more addresses: confirm each new range belongs to the counterparty."},
	{KindEgressNarrowed, RiskLow, "The adapter may reach fewer addresses: confirm its endpoints are still covered."},
	{KindSessionIdentity, RiskMedium, "Session identity (version or CompIDs) changed: the counterparty rejects a logon it does not expect; confirm the change is agreed."},
	{KindSessionReset, RiskMedium, "Sequence-number resets changed: confirm with the counterparty, or messages may be lost or replayed."},
	{KindSessionSchedule, RiskMedium, "The session's hours changed: confirm they match the venue's and the counterparty's."},
	{KindSessionChanged, RiskLow, "A session setting changed; check it matches the counterparty's."},
	{KindSuspended, RiskMedium, "The adapter is suspended: its sessions stop when the revision applies."},
	{KindResumed, RiskLow, "The adapter resumes: its sessions start when the revision applies."},
	{KindReplicas, RiskLow, "Check the session tolerates the replica count (most FIX sessions need exactly one active)."},
	{KindResources, RiskLow, "Check the new requests and limits fit the node pool."},
	{KindImage, RiskLow, "Check the image was built and scanned, and its release notes."},
	{KindEnv, RiskLow, "An environment variable changed; check the adapter reads it as intended."},
	{KindMetadata, RiskLow, "Labels, annotations or the description changed; RBAC selectors may match differently."},
	{KindValues, RiskLow, "The release changed through cairn.json defaults, not the manifest: see the repository changes."},
	{KindChart, RiskMedium, "The chart changed for this release: review the rendered diff."},
	{KindField, RiskMedium, "A field without a specific rule changed: review it in the diff."},

	{KindBindingAdded, RiskHigh, "Someone gains access: confirm the subject, the role and the scope are intended and approved by the owner of the access rules."},
	{KindBindingWidened, RiskHigh, "A binding now covers more environments or adapters: confirm the wider scope is intended."},
	{KindRoleWidened, RiskHigh, "Everyone bound to this role gains the new permissions: check who is bound to it."},
	{KindDefaultRoleWidened, RiskHigh, "Every authenticated subject without a binding gets more access."},
	{KindRBACDisabled, RiskHigh, "Without RBAC every authenticated subject may do everything."},
	{KindAuthWeakened, RiskHigh, "A way of authenticating is switched off or accepts more: confirm clients have another secure way in and that the change is approved by security."},
	{KindAPIKeyAdded, RiskHigh, "A new API key grants access: confirm its owner, scopes and expiry."},
	{KindAPIKeyWidened, RiskHigh, "An API key can do more or lives longer: confirm with its owner."},
	{KindJWTAlgorithms, RiskHigh, "More signing algorithms are accepted: confirm each is asymmetric and the issuer uses it."},
	{KindTrustChanged, RiskHigh, "cairn trusts another identity provider or issuer: confirm it is the organisation's."},
	{KindSessionTimeout, RiskHigh, "Portal sessions live longer: a stolen session stays valid longer."},
	{KindAllowlistWeakened, RiskHigh, "The API and portal admit clients from more addresses."},
	{KindRateLimitWeakened, RiskHigh, "Requests are no longer rate-limited: the API is open to abuse."},
	{KindAuditWeakened, RiskHigh, "Access to cairn is no longer audited: the trail regulators rely on has a gap."},
	{KindMaskingWeakened, RiskHigh, "Sensitive fields are no longer masked in logs and audit records."},
	{KindSecurityRemoved, RiskHigh, "security.json is removed: cairn's API and portal lose their access rules."},
	{KindBindingRemoved, RiskMedium, "Someone loses access: confirm they no longer need it."},
	{KindBindingNarrowed, RiskMedium, "A binding covers less: confirm the subject no longer needs the rest."},
	{KindRoleNarrowed, RiskMedium, "Everyone bound to this role loses permissions."},
	{KindRoleAdded, RiskMedium, "A new role; it grants nothing until bound."},
	{KindRoleRemoved, RiskMedium, "A role is removed; its bindings must go with it."},
	{KindAPIKeyRemoved, RiskMedium, "An API key stops working: confirm its client no longer uses it."},
	{KindAPIKeyRotated, RiskMedium, "An API key was replaced: the old key stops working; the new key's hash is not shown."},
	{KindRateLimitRaised, RiskMedium, "Clients may send more requests."},
	{KindSecurityChanged, RiskMedium, "Security configuration changed: review it with its owner."},

	{KindApprovalsLowered, RiskHigh, "Revisions need fewer or weaker approvals: confirm the owners of the policy agreed."},
	{KindChecksRemoved, RiskHigh, "A required check no longer gates revisions."},
	{KindSignaturesWeaker, RiskHigh, "Unsigned or more signers' commits may apply."},
	{KindWindowRemoved, RiskHigh, "Changes may apply at more times (for production: during trading hours)."},
	{KindPruneLoosened, RiskHigh, "One revision may uninstall more releases."},
	{KindExceptionAdded, RiskHigh, "An exception lets an acceptor admit any source: confirm the reason and the expiry."},
	{KindDirectPushAllowed, RiskHigh, "Commits pushed without a reviewed pull request may apply."},
	{KindPolicyRemoved, RiskHigh, "policy.json is removed: revisions need only the default approval."},
	{KindPolicyChanged, RiskMedium, "The change policy changed: review it with its owners."},

	{KindProductionCleared, RiskHigh, "The environment is no longer production: removals there stop being high risk and production rules stop applying."},
	{KindEnvNamespace, RiskHigh, "Every adapter of the environment is uninstalled and installed in another namespace."},
	{KindEnvironmentRemoved, RiskMedium, "An environment is removed."},
	{KindChartPath, RiskMedium, "Adapters render with another chart: review the rendered diffs."},
	{KindOrchestrator, RiskMedium, "Every adapter's egress to the orchestrator changes."},
	{KindEnvironmentAdded, RiskLow, "A new environment."},
	{KindProductionSet, RiskLow, "The environment is now production: its changes take production rules."},
	{KindRepositoryChanged, RiskLow, "cairn.json changed: defaults apply to every adapter that does not set its own."},
}

var kindIndex = func() map[string]KindInfo {
	m := map[string]KindInfo{}
	for _, k := range Kinds {
		m[k.Kind] = k
	}
	return m
}()

func adviceFor(kind string) string { return kindIndex[kind].Advice }

// collector gathers the changes of one document. Rules add changes and
// claim the pointers they explain; rest reports every other difference.
type collector struct {
	file    string
	changes []Change
	claims  []string
}

func (c *collector) add(kind string, risk Risk, ptr string, before, after any, summary string, args ...any) {
	if len(args) > 0 {
		summary = fmt.Sprintf(summary, args...)
	}
	c.changes = append(c.changes, Change{Kind: kind, File: c.file, Pointer: ptr, Risk: risk, Summary: summary,
		Before: generic(before), After: generic(after)})
}

func (c *collector) claim(ptrs ...string) { c.claims = append(c.claims, ptrs...) }

func (c *collector) claimed(ptr string) bool {
	for _, cl := range c.claims {
		if ptr == cl || strings.HasPrefix(ptr, cl+"/") || cl == "" {
			return true
		}
	}
	return false
}

// rest reports every leaf difference between before and after that no rule
// claimed, with the kind and risk classify gives its pointer.
func (c *collector) rest(before, after any, classify func(ptr string) (string, Risk)) {
	var ls []leaf
	leaves(generic(before), generic(after), "", &ls)
	for _, l := range ls {
		if c.claimed(l.ptr) {
			continue
		}
		kind, risk := classify(l.ptr)
		c.changes = append(c.changes, Change{Kind: kind, File: c.file, Pointer: l.ptr, Risk: risk,
			Summary: describe(l.ptr, l.before, l.after), Before: l.before, After: l.after})
	}
}

type leaf struct {
	ptr           string
	before, after any
}

// leaves lists the differences between two JSON values: objects are
// compared key by key, anything else (arrays too) as a whole.
func leaves(before, after any, ptr string, out *[]leaf) {
	bm, bok := before.(map[string]any)
	am, aok := after.(map[string]any)
	if bok && aok {
		keys := make([]string, 0, len(bm)+len(am))
		for k := range bm {
			keys = append(keys, k)
		}
		for k := range am {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range slices.Compact(keys) {
			leaves(bm[k], am[k], ptr+"/"+escape(k), out)
		}
		return
	}
	if emptyish(before) && emptyish(after) {
		return
	}
	if !reflect.DeepEqual(before, after) {
		*out = append(*out, leaf{ptr: ptr, before: before, after: after})
	}
}

// emptyish is a value that means the same as absent: JSON null, an empty
// list or object.
func emptyish(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	}
	return false
}

func escape(token string) string {
	return strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
}

// generic converts a typed value to its JSON form (maps, slices, strings,
// float64, bool); nil pointers, empty strings and empty lists become nil.
func generic(v any) any {
	if v == nil {
		return nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
	}
	switch t := v.(type) {
	case string:
		if t == "" {
			return nil
		}
		return t
	case bool, float64, map[string]any:
		return t
	case int:
		return float64(t)
	case []any:
		if len(t) == 0 {
			return nil
		}
		return t
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return string(b)
	}
	if emptyish(out) {
		return nil
	}
	return out
}

// describe says "X changed from a to b" for a leaf.
func describe(ptr string, before, after any) string {
	name := ptr
	if name == "" {
		name = "document"
	}
	switch {
	case before == nil:
		return fmt.Sprintf("%s set to %s", name, show(after))
	case after == nil:
		return fmt.Sprintf("%s removed (was %s)", name, show(before))
	}
	return fmt.Sprintf("%s changed from %s to %s", name, show(before), show(after))
}

// show renders a value for a sentence, cut at 120 characters.
func show(v any) string {
	if v == nil {
		return "nothing"
	}
	b, err := json.Marshal(v)
	s := string(b)
	if err != nil {
		s = fmt.Sprint(v)
	}
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// prefixRule classifies pointers under Prefix.
type prefixRule struct {
	prefix string
	kind   string
	risk   Risk
}

// byPrefix classifies a pointer by the longest matching prefix in rules;
// fallback when none matches.
func byPrefix(rules []prefixRule, fallback prefixRule) func(string) (string, Risk) {
	return func(ptr string) (string, Risk) {
		best := fallback
		n := -1
		for _, r := range rules {
			if (ptr == r.prefix || strings.HasPrefix(ptr, r.prefix+"/")) && len(r.prefix) > n {
				best, n = r, len(r.prefix)
			}
		}
		return best.kind, best.risk
	}
}

// rangeChange compares two lists of IP ranges as sets of addresses. wider
// lists, for each range of after that before did not cover, a phrase that
// says how; narrower is set when before admitted addresses after does not.
func rangeChange(before, after []string) (wider []string, narrower bool) {
	bp, ap := prefixes(before), prefixes(after)
	for i, a := range ap {
		if !a.IsValid() {
			wider = append(wider, after[i]+" (not a valid range)")
			continue
		}
		if coveredBy(a, bp) {
			continue
		}
		wider = append(wider, describeWider(a, bp))
	}
	for _, b := range bp {
		if b.IsValid() && !coveredBy(b, ap) {
			narrower = true
		}
	}
	return wider, narrower
}

func prefixes(ss []string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		if p, err := netip.ParsePrefix(strings.TrimSpace(s)); err == nil {
			out[i] = p.Masked()
		} else if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil {
			out[i] = netip.PrefixFrom(a, a.BitLen())
		}
	}
	return out
}

// coveredBy reports whether some range of set contains all of p.
func coveredBy(p netip.Prefix, set []netip.Prefix) bool { return netrange.Covers(set, p) }

// describeWider says how a new range a widens the ranges before.
func describeWider(a netip.Prefix, before []netip.Prefix) string {
	if a.Bits() == 0 {
		return a.String() + " (any address)"
	}
	for _, b := range before {
		if b.IsValid() && b.Addr().Is4() == a.Addr().Is4() && a.Bits() < b.Bits() && a.Contains(b.Addr()) {
			times := power2(b.Bits()-a.Bits()) + " times"
			if times == "2 times" {
				times = "twice"
			}
			return fmt.Sprintf("%s broadened to %s (%s the addresses, %s in all)", b, a, times, addresses(a))
		}
	}
	return fmt.Sprintf("%s added (%s addresses)", a, addresses(a))
}

// addresses counts the addresses of a range, in words for large ones.
func addresses(p netip.Prefix) string { return power2(p.Addr().BitLen() - p.Bits()) }

// power2 writes 2^n with digit groups, or as 2^n when large.
func power2(n int) string {
	if n < 40 {
		return groupDigits(int64(1) << n)
	}
	return "2^" + strconv.Itoa(n)
}

func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// parseDuration reads durations as security.json writes them.
func parseDuration(s string) (time.Duration, bool) {
	d, err := v1.ParseDuration(s)
	return d, err == nil
}

// added and removed list the strings of after not in before, and of before
// not in after.
func setDiff(before, after []string) (added, removed []string) {
	for _, a := range after {
		if !slices.Contains(before, a) {
			added = append(added, a)
		}
	}
	for _, b := range before {
		if !slices.Contains(after, b) {
			removed = append(removed, b)
		}
	}
	return added, removed
}

func boolVal(p *bool, dflt bool) bool {
	if p == nil {
		return dflt
	}
	return *p
}

func intVal(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
