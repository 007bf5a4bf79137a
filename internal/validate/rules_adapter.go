package validate

import (
	"fmt"
	"net/netip"

	"k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/diag"
	"github.com/cairn-gitops/cairn/internal/netrange"
)

// maxAnnotationBytes is what cairn leaves of Kubernetes' 256 KiB limit on
// an object's annotations for the annotations the chart adds.
const maxAnnotationBytes = 256<<10 - 4<<10

// deploymentRules check an adapter against the repository's defaults for
// what the cluster would refuse at apply time: an image to run, requests
// within limits, env names given once, annotations within the size limit.
func deploymentRules(repo *v1.Repository, a Adapter) []diag.Finding {
	var out []diag.Finding
	if img := a.ImageFrom(repo); img.Repository == "" || (img.Tag == "" && img.Digest == "") {
		out = append(out, at(a.Doc, "/spec", diag.RuleImage,
			"no image to run: set spec.image (repository, and a tag or digest) in cairn.json or in the adapter"))
	}
	out = append(out, resourceRules(repo, a)...)
	seen := map[string]int{}
	for i, e := range a.Spec.Env {
		out = append(out, unique(a.Doc, seen, e.Name, i, fmt.Sprintf("/spec/env/%d/name", i), "environment variable")...)
	}
	size := 0
	for k, v := range a.Metadata.Annotations {
		size += len(k) + len(v)
	}
	if size > maxAnnotationBytes {
		out = append(out, at(a.Doc, "/metadata/annotations", diag.RuleTooLarge,
			fmt.Sprintf("annotations take %d bytes; Kubernetes allows 256 KiB in all, of which cairn needs %d", size, 256<<10-maxAnnotationBytes)))
	}
	return out
}

// resourceRules refuse a request above its limit, once the repository's
// defaults apply (an adapter's requests or limits replace the defaults').
func resourceRules(repo *v1.Repository, a Adapter) []diag.Finding {
	r, ptr := a.Spec.Resources, "/spec/resources"
	if r == nil && repo.Spec.Defaults != nil {
		r = repo.Spec.Defaults.Resources
	}
	if r == nil {
		return nil
	}
	req, lim := r.Requests, r.Limits
	if req == nil || lim == nil {
		return nil
	}
	var out []diag.Finding
	for _, c := range []struct{ name, req, lim string }{{"cpu", req.CPU, lim.CPU}, {"memory", req.Memory, lim.Memory}} {
		if c.req == "" || c.lim == "" {
			continue
		}
		q, err1 := resource.ParseQuantity(c.req)
		l, err2 := resource.ParseQuantity(c.lim)
		if err1 == nil && err2 == nil && q.Cmp(l) > 0 {
			out = append(out, at(a.Doc, ptr+"/requests/"+c.name, diag.RuleResources,
				fmt.Sprintf("%s request %s is above its limit %s: Kubernetes refuses such a pod", c.name, c.req, c.lim)))
		}
	}
	return out
}

// admitsEverything reports whether ranges together admit all of IPv4 or all
// of IPv6 (0.0.0.0/1 with 128.0.0.0/1 is as open as 0.0.0.0/0, and so is
// ::ffff:0.0.0.0/96, every IPv4 address written as IPv6).
func admitsEverything(sources []string) (bool, string) {
	var v4, v6 []netip.Prefix
	for _, s := range sources {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			continue
		}
		p = p.Masked()
		if p.Addr().Is4In6() && p.Bits() <= 96 {
			return true, fmt.Sprintf("admits every IPv4 address (%s)", s)
		}
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	if netrange.Covers(v4, netip.MustParsePrefix("0.0.0.0/0")) {
		return true, "admits every IPv4 address (its ranges together cover 0.0.0.0/0)"
	}
	if netrange.Covers(v6, netip.MustParsePrefix("::/0")) {
		return true, "admits every IPv6 address (its ranges together cover ::/0)"
	}
	return false, ""
}
