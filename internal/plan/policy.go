package plan

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/validate"
)

// policyFields classifies policy.json changes no specific rule explains.
var policyFields = byPrefix([]prefixRule{
	{"/metadata", KindPolicyChanged, RiskLow},
}, prefixRule{kind: KindPolicyChanged, risk: RiskMedium})

// policyChanges compares policy.json. A policy that appears is compared
// with an empty one (the defaults).
func policyChanges(base, head *validate.Result) []Change {
	var b, h *v1.ChangePolicy
	if base != nil {
		b = base.Policy
	}
	if head != nil {
		h = head.Policy
	}
	file := docFile(head, base, func(r *validate.Result) string {
		if r.PolicyDoc != nil {
			return r.PolicyDoc.File
		}
		return ""
	}, "policy.json")
	switch {
	case b == nil && h == nil:
		return nil
	case h == nil:
		return []Change{{Kind: KindPolicyRemoved, File: file, Pointer: "", Risk: RiskHigh,
			Summary: "policy.json removed: revisions need only the default approval, with no change windows, checks or prune limit"}}
	case b == nil:
		b = &v1.ChangePolicy{}
	}
	c := &collector{file: file}
	c.claim("/apiVersion", "/kind")
	approvalsRule(c, b.Spec.Approvals, h.Spec.Approvals)
	pathsRule(c, b.Spec.Paths, h.Spec.Paths)
	riskRule(c, b.Spec.Risk, h.Spec.Risk)
	checksRule(c, b.Spec.Checks, h.Spec.Checks)
	signaturesRule(c, b.Spec.Signatures, h.Spec.Signatures)
	windowsRule(c, b.Spec.Windows, h.Spec.Windows)
	pruneRule(c, b.Spec.Prune, h.Spec.Prune)
	exceptionsRule(c, b.Spec.Exceptions, h.Spec.Exceptions)
	if !b.Spec.DirectPush.IsAllowed() && h.Spec.DirectPush.IsAllowed() {
		c.claim("/spec/directPush")
		c.add(KindDirectPushAllowed, RiskHigh, "/spec/directPush/allowed", false, true, "commits pushed without a merged pull request may now apply")
	}
	c.rest(b, h, policyFields)
	return c.changes
}

func approvalsRule(c *collector, b, h *v1.Approvals) {
	const ptr = "/spec/approvals"
	c.claim(ptr + "/required")
	switch br, hr := b.RequiredApprovals(), h.RequiredApprovals(); {
	case hr < br:
		c.add(KindApprovalsLowered, RiskHigh, ptr+"/required", br, hr, "revisions need %d approvals instead of %d", hr, br)
	case hr > br:
		c.add(KindPolicyChanged, RiskMedium, ptr+"/required", br, hr, "revisions need %d approvals instead of %d", hr, br)
	}
	c.claim(ptr + "/dismissStale")
	if b.OnlyFinalHead() && !h.OnlyFinalHead() {
		c.add(KindApprovalsLowered, RiskHigh, ptr+"/dismissStale", true, false, "approvals given before the final commit now count")
	}
	c.claim(ptr + "/requireWritePermission")
	if b.OnlyWriters() && !h.OnlyWriters() {
		c.add(KindApprovalsLowered, RiskHigh, ptr+"/requireWritePermission", true, false, "approvals from users without write access now count")
	}
}

func pathsRule(c *collector, b, h []v1.PathRule) {
	const ptr = "/spec/paths"
	c.claim(ptr)
	find := func(rules []v1.PathRule, pattern string) (int, *v1.PathRule) {
		for i := range rules {
			if rules[i].Pattern == pattern {
				return i, &rules[i]
			}
		}
		return -1, nil
	}
	for i := range b {
		br := &b[i]
		j, hr := find(h, br.Pattern)
		if hr == nil {
			c.add(KindApprovalsLowered, RiskHigh, fmt.Sprintf("%s/%d", ptr, i), br, nil, "path rule %s removed: changes to it need no extra approvals", br.Pattern)
			continue
		}
		p := fmt.Sprintf("%s/%d", ptr, j)
		if intVal(hr.Approvals) < intVal(br.Approvals) {
			c.add(KindApprovalsLowered, RiskHigh, p+"/approvals", br.Approvals, hr.Approvals, "changes to %s need %d approvals instead of %d", br.Pattern, intVal(hr.Approvals), intVal(br.Approvals))
		} else if intVal(hr.Approvals) > intVal(br.Approvals) {
			c.add(KindPolicyChanged, RiskMedium, p+"/approvals", br.Approvals, hr.Approvals, "changes to %s need %d approvals instead of %d", br.Pattern, intVal(hr.Approvals), intVal(br.Approvals))
		}
		for _, l := range []struct {
			field  string
			before []string
			after  []string
		}{{"teams", br.Teams, hr.Teams}, {"reviewers", br.Reviewers, hr.Reviewers}} {
			added, removed := setDiff(l.before, l.after)
			switch {
			case len(removed) > 0:
				c.add(KindApprovalsLowered, RiskHigh, p+"/"+l.field, l.before, l.after, "changes to %s no longer need %s %s", br.Pattern, l.field, strings.Join(removed, ", "))
			case len(added) > 0:
				c.add(KindPolicyChanged, RiskMedium, p+"/"+l.field, l.before, l.after, "changes to %s also need %s %s", br.Pattern, l.field, strings.Join(added, ", "))
			}
		}
	}
	for i := range h {
		if j, _ := find(b, h[i].Pattern); j < 0 {
			c.add(KindPolicyChanged, RiskMedium, fmt.Sprintf("%s/%d", ptr, i), nil, h[i], "path rule %s added", h[i].Pattern)
		}
	}
}

func riskRule(c *collector, b, h *v1.Risk) {
	const ptr = "/spec/risk"
	c.claim(ptr)
	if b == nil {
		b = &v1.Risk{}
	}
	if h == nil {
		h = &v1.Risk{}
	}
	for _, l := range []struct {
		level  string
		before *v1.RiskRule
		after  *v1.RiskRule
	}{{"high", b.High, h.High}, {"medium", b.Medium, h.Medium}} {
		p := ptr + "/" + l.level
		switch {
		case reflect.DeepEqual(l.before, l.after):
		case l.before != nil && l.after == nil:
			c.add(KindApprovalsLowered, RiskHigh, p, l.before, nil, "%s-risk revisions no longer need extra approvals or teams", l.level)
		case l.before == nil:
			c.add(KindPolicyChanged, RiskMedium, p, nil, l.after, "%s-risk revisions now need extra approvals or teams", l.level)
		default:
			_, removed := setDiff(l.before.Teams, l.after.Teams)
			if intVal(l.after.Approvals) < intVal(l.before.Approvals) || len(removed) > 0 {
				c.add(KindApprovalsLowered, RiskHigh, p, l.before, l.after, "%s-risk revisions need fewer approvals or teams", l.level)
			} else {
				c.add(KindPolicyChanged, RiskMedium, p, l.before, l.after, "%s-risk revisions need more approvals or teams", l.level)
			}
		}
	}
}

func checksRule(c *collector, b, h *v1.Checks) {
	const ptr = "/spec/checks/required"
	c.claim(ptr)
	var bl, hl []string
	if b != nil {
		bl = b.Required
	}
	if h != nil {
		hl = h.Required
	}
	added, removed := setDiff(bl, hl)
	if len(removed) > 0 {
		c.add(KindChecksRemoved, RiskHigh, ptr, bl, hl, "checks no longer required: %s", strings.Join(removed, ", "))
	} else if len(added) > 0 {
		c.add(KindPolicyChanged, RiskMedium, ptr, bl, hl, "checks now required: %s", strings.Join(added, ", "))
	}
}

func signaturesRule(c *collector, b, h *v1.Signatures) {
	const ptr = "/spec/signatures"
	if b.IsRequired() && !h.IsRequired() {
		c.claim(ptr)
		c.add(KindSignaturesWeaker, RiskHigh, ptr+"/required", true, false, "signed commits are no longer required")
		return
	}
	if h.IsRequired() && b != nil && len(b.AllowedSigners) > 0 {
		c.claim(ptr + "/allowedSigners")
		if added, removed := setDiff(b.AllowedSigners, h.AllowedSigners); len(added) > 0 || len(h.AllowedSigners) == 0 {
			c.add(KindSignaturesWeaker, RiskHigh, ptr+"/allowedSigners", b.AllowedSigners, h.AllowedSigners, "more signers are accepted: %s",
				orDefault(strings.Join(added, ", "), "anyone with a verified signature"))
		} else if len(removed) > 0 {
			c.add(KindPolicyChanged, RiskMedium, ptr+"/allowedSigners", b.AllowedSigners, h.AllowedSigners, "signers no longer accepted: %s", strings.Join(removed, ", "))
		}
	}
}

func periodText(p v1.Period) string {
	days := "every day"
	if len(p.Days) > 0 {
		days = strings.Join(p.Days, ",")
	}
	return days + " " + p.Start + "-" + p.End
}

func windowsRule(c *collector, b, h map[string]v1.ChangeWindow) {
	const ptr = "/spec/windows"
	c.claim(ptr)
	var envs []string
	for e := range b {
		envs = append(envs, e)
	}
	for e := range h {
		envs = append(envs, e)
	}
	slices.Sort(envs)
	for _, env := range slices.Compact(envs) {
		bw, inB := b[env]
		hw, inH := h[env]
		p := ptr + "/" + escape(env)
		switch {
		case reflect.DeepEqual(bw, hw):
		case inB && !inH:
			c.add(KindWindowRemoved, RiskHigh, p, bw, nil, "change window of %s removed: changes apply to it at any time", env)
		case !inB:
			c.add(KindPolicyChanged, RiskMedium, p, nil, hw, "change window added for %s", env)
		default:
			windowChange(c, p, env, bw, hw)
		}
	}
}

func windowChange(c *collector, p, env string, b, h v1.ChangeWindow) {
	texts := func(ps []v1.Period) []string {
		var out []string
		for _, x := range ps {
			out = append(out, periodText(x))
		}
		return out
	}
	_, denyRemoved := setDiff(texts(b.Deny), texts(h.Deny))
	allowAdded, _ := setDiff(texts(b.Allow), texts(h.Allow))
	var wider []string
	if len(denyRemoved) > 0 {
		wider = append(wider, "no longer denied "+strings.Join(denyRemoved, "; "))
	}
	if len(b.Allow) > 0 && len(h.Allow) == 0 {
		wider = append(wider, "no longer limited to allowed periods")
	} else if len(b.Allow) > 0 && len(allowAdded) > 0 {
		wider = append(wider, "also allowed "+strings.Join(allowAdded, "; "))
	}
	if len(wider) > 0 {
		c.add(KindWindowRemoved, RiskHigh, p, b, h, "changes to %s may apply at more times (%s time): %s", env, h.Timezone, strings.Join(wider, "; "))
		return
	}
	c.add(KindPolicyChanged, RiskMedium, p, b, h, "change window of %s changed", env)
}

func pruneRule(c *collector, b, h *v1.Prune) {
	const ptr = "/spec/prune/maxDeletions"
	c.claim(ptr)
	var bm, hm *int
	if b != nil {
		bm = b.MaxDeletions
	}
	if h != nil {
		hm = h.MaxDeletions
	}
	limit := func(p *int) string {
		if p == nil {
			return "no limit"
		}
		return fmt.Sprint(*p)
	}
	switch {
	case reflect.DeepEqual(bm, hm):
	case bm != nil && (hm == nil || *hm > *bm):
		c.add(KindPruneLoosened, RiskHigh, ptr, bm, hm, "one revision may uninstall %s releases (was %s)", limit(hm), limit(bm))
	default:
		c.add(KindPolicyChanged, RiskMedium, ptr, bm, hm, "one revision may uninstall %s releases (was %s)", limit(hm), limit(bm))
	}
}

func exceptionsRule(c *collector, b, h *v1.Exceptions) {
	const ptr = "/spec/exceptions/openAcceptors"
	c.claim(ptr)
	var bl, hl []v1.OpenAcceptorException
	if b != nil {
		bl = b.OpenAcceptors
	}
	if h != nil {
		hl = h.OpenAcceptors
	}
	key := func(e v1.OpenAcceptorException) string { return e.Environment + "/" + e.Adapter }
	find := func(list []v1.OpenAcceptorException, k string) *v1.OpenAcceptorException {
		for i := range list {
			if key(list[i]) == k {
				return &list[i]
			}
		}
		return nil
	}
	for i, e := range hl {
		p := fmt.Sprintf("%s/%d", ptr, i)
		old := find(bl, key(e))
		switch {
		case old == nil:
			c.add(KindExceptionAdded, RiskHigh, p, nil, e, "acceptor %s may admit any source (%s), for: %s", key(e), expiry(e.Expires), e.Reason)
		case later(e.Expires, old.Expires):
			c.add(KindExceptionAdded, RiskHigh, p+"/expires", old.Expires, e.Expires, "open-acceptor exception for %s extended: %s", key(e), expiry(e.Expires))
		case !reflect.DeepEqual(*old, e):
			c.add(KindPolicyChanged, RiskMedium, p, *old, e, "open-acceptor exception for %s changed", key(e))
		}
	}
	for i, e := range bl {
		if find(hl, key(e)) == nil {
			c.add(KindPolicyChanged, RiskMedium, fmt.Sprintf("%s/%d", ptr, i), e, nil, "open-acceptor exception for %s removed", key(e))
		}
	}
}

// repositoryFields classifies cairn.json changes no specific rule explains.
var repositoryFields = byPrefix([]prefixRule{
	{"/spec/orchestrator", KindOrchestrator, RiskMedium},
	{"/spec/chart", KindChartPath, RiskMedium},
}, prefixRule{kind: KindRepositoryChanged, risk: RiskLow})

// repositoryChanges compares cairn.json.
func repositoryChanges(base, head *validate.Result) []Change {
	var b, h *v1.Repository
	if base != nil {
		b = base.Repository
	}
	if head != nil {
		h = head.Repository
	}
	if b == nil || h == nil {
		return nil // both validated, so both have one
	}
	file := docFile(head, base, func(r *validate.Result) string {
		if r.RepositoryDoc != nil {
			return r.RepositoryDoc.File
		}
		return ""
	}, "cairn.json")
	c := &collector{file: file}
	c.claim("/apiVersion", "/kind")
	var envs []string
	for e := range b.Spec.Environments {
		envs = append(envs, e)
	}
	for e := range h.Spec.Environments {
		envs = append(envs, e)
	}
	slices.Sort(envs)
	for _, env := range slices.Compact(envs) {
		be, inB := b.Spec.Environments[env]
		he, inH := h.Spec.Environments[env]
		p := "/spec/environments/" + escape(env)
		switch {
		case !inB:
			c.claim(p)
			c.add(KindEnvironmentAdded, RiskLow, p, nil, he, "environment %s added (namespace %s%s)", env, he.Namespace, prodNote(he.Production))
		case !inH:
			c.claim(p)
			risk := RiskMedium
			if be.Production {
				risk = RiskHigh
			}
			c.add(KindEnvironmentRemoved, risk, p, be, nil, "environment %s removed%s", env, prodNote(be.Production))
		default:
			if be.Production != he.Production {
				c.claim(p + "/production")
				if be.Production {
					c.add(KindProductionCleared, RiskHigh, p+"/production", true, false, "environment %s is no longer marked production", env)
				} else {
					c.add(KindProductionSet, RiskLow, p+"/production", false, true, "environment %s is now marked production", env)
				}
			}
			if be.Namespace != he.Namespace {
				c.claim(p + "/namespace")
				c.add(KindEnvNamespace, RiskHigh, p+"/namespace", be.Namespace, he.Namespace,
					"environment %s moves from namespace %s to %s: every adapter in it is uninstalled and installed again", env, be.Namespace, he.Namespace)
			}
		}
	}
	c.rest(b, h, repositoryFields)
	return c.changes
}

func prodNote(prod bool) string {
	if prod {
		return ", production"
	}
	return ""
}
