package validate

import (
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // time zones resolve the same on every machine

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/diag"
	"github.com/cairn-gitops/cairn/internal/manifest"
)

// documentRules are the rules that need one decoded document.
func (e ruleEnv) documentRules(d *manifest.Document, typed any) []diag.Finding {
	switch t := typed.(type) {
	case *v1.Adapter:
		out := e.adapterRules(d, t)
		if e.repo != nil {
			out = append(out, deploymentRules(e.repo, Adapter{Adapter: t, Doc: d})...)
		}
		return out
	case *v1.SecurityConfig:
		return e.securityRules(d, t)
	case *v1.ChangePolicy:
		return e.policyRules(d, t)
	}
	return nil
}

func (e ruleEnv) adapterRules(d *manifest.Document, a *v1.Adapter) []diag.Finding {
	var out []diag.Finding
	if l := a.Spec.Listen; l != nil {
		out = append(out, checkCIDRs(d, "/spec/listen/allowedSources", l.AllowedSources)...)
		if l.Port == healthPort {
			out = append(out, at(d, "/spec/listen/port", diag.RuleReservedPort,
				fmt.Sprintf("port %d is the adapter's health port (liveness and readiness probes); listen on another", healthPort)))
		}
		if n := a.Metadata.Name; n != "" && (n[0] < 'a' || n[0] > 'z') {
			out = append(out, at(d, "/metadata/name", diag.RuleAcceptorName,
				fmt.Sprintf("acceptor %q must start with a letter: its Service is named after it, and Service names (DNS-1035) start with a letter", n)))
		}
	}
	if eg := a.Spec.Egress; eg != nil {
		out = append(out, checkCIDRs(d, "/spec/egress/cidrs", eg.CIDRs)...)
	}
	if f := a.Spec.FIX; f != nil && f.Schedule != nil {
		out = append(out, e.checkTimezone(d, "/spec/fix/schedule/timezone", f.Schedule.Timezone)...)
	}
	return out
}

// healthPort is the port of the adapter chart's probes (charts/adapter).
const healthPort = 8080

// checkCIDRs reports ranges that do not parse or have host bits set.
func checkCIDRs(d *manifest.Document, base string, cidrs []string) []diag.Finding {
	var out []diag.Finding
	for i, c := range cidrs {
		ptr := fmt.Sprintf("%s/%d", base, i)
		p, err := netip.ParsePrefix(c)
		switch {
		case err != nil:
			out = append(out, at(d, ptr, diag.RuleInvalidCIDR, fmt.Sprintf("%q is not an IP range in CIDR notation, such as 203.0.113.0/24", c)))
		case p != p.Masked():
			out = append(out, at(d, ptr, diag.RuleInvalidCIDR, fmt.Sprintf("%q has host bits set; did you mean %s?", c, p.Masked())))
		}
	}
	return out
}

// ruleEnv is what rules need beyond the documents: the time (for expiry)
// and a cache of time zone lookups, which read the embedded database.
type ruleEnv struct {
	now   time.Time
	zones *sync.Map      // name -> bool
	fsys  fs.FS          // the repository, for paths documents name
	repo  *v1.Repository // cairn.json, once it has passed its schema
}

func (e ruleEnv) knownZone(tz string) bool {
	if ok, hit := e.zones.Load(tz); hit {
		return ok.(bool)
	}
	_, err := time.LoadLocation(tz)
	ok := err == nil && tz != "Local"
	e.zones.Store(tz, ok)
	return ok
}

func (e ruleEnv) checkTimezone(d *manifest.Document, ptr, tz string) []diag.Finding {
	if !e.knownZone(tz) {
		return []diag.Finding{at(d, ptr, diag.RuleUnknownTimezone, fmt.Sprintf("%q is not a known IANA time zone", tz))}
	}
	return nil
}

// isOpen reports whether a list of ranges admits no source or any source.
func isOpen(sources []string) (bool, string) {
	if len(sources) == 0 {
		return true, "admits no source at all (allowedSources is empty)"
	}
	for _, s := range sources {
		if p, err := netip.ParsePrefix(s); err == nil && p.Bits() == 0 {
			return true, fmt.Sprintf("admits any source (%s)", s)
		}
	}
	return admitsEverything(sources)
}

// crossRules are the rules that span documents.
func (e ruleEnv) crossRules(r *Result, entries []manifest.Entry) []diag.Finding {
	var out []diag.Finding
	if !slices.ContainsFunc(entries, func(e manifest.Entry) bool { return e.Path == manifest.RepositoryFile }) {
		out = append(out, diag.Finding{File: manifest.RepositoryFile, Rule: diag.RuleMissingRepository, Severity: diag.Error,
			Message: "the repository has no cairn.json; add one (kind Repository) declaring the environments"})
	}
	out = append(out, environmentRules(r)...)
	out = append(out, e.chartRules(r)...)
	out = append(out, uniquenessRules(r)...)
	out = append(out, e.acceptorRules(r)...)
	out = append(out, referenceRules(r)...)
	return out
}

// chartRules check that the chart cairn.json names is in the repository.
func (e ruleEnv) chartRules(r *Result) []diag.Finding {
	if r.Repository == nil || r.Repository.Spec.Chart == nil || r.Repository.Spec.Chart.Path == "" {
		return nil
	}
	p := path.Clean(r.Repository.Spec.Chart.Path)
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		if info, err := fs.Lstat(e.fsys, p[:i]); err == nil && info.Mode()&fs.ModeSymlink != 0 {
			return []diag.Finding{at(r.RepositoryDoc, "/spec/chart/path", diag.RuleChartPath,
				fmt.Sprintf("the chart path %s goes through a symbolic link (%s), which cairn never follows: commit the chart itself", p, p[:i]))}
		}
	}
	if _, err := fs.Stat(e.fsys, path.Join(p, "Chart.yaml")); err != nil {
		return []diag.Finding{at(r.RepositoryDoc, "/spec/chart/path", diag.RuleChartPath,
			fmt.Sprintf("no chart at %s: the directory with its Chart.yaml is not in the repository", p))}
	}
	return nil
}

func environmentRules(r *Result) []diag.Finding {
	if r.Repository == nil {
		return nil
	}
	envs := r.Repository.Spec.Environments
	declared := make([]string, 0, len(envs))
	for name := range envs {
		declared = append(declared, name)
	}
	sort.Strings(declared)
	var out []diag.Finding
	for _, a := range r.Adapters {
		if _, ok := envs[a.Metadata.Environment]; !ok {
			out = append(out, at(a.Doc, "/metadata/environment", diag.RuleUnknownEnvironment,
				fmt.Sprintf("environment %q is not declared in cairn.json (declared: %s)", a.Metadata.Environment, strings.Join(declared, ", "))))
		}
	}
	return out
}

// where names a document's position for a message about another one.
func where(d *manifest.Document, ptr string) string {
	pos := d.Position(ptr)
	return fmt.Sprintf("%s:%d", d.File, pos.Line)
}

func uniquenessRules(r *Result) []diag.Finding {
	var out []diag.Finding
	seen := map[[2]string]*manifest.Document{}
	for _, a := range r.Adapters {
		k := [2]string{a.Metadata.Environment, a.Metadata.Name}
		if first, ok := seen[k]; ok {
			out = append(out, at(a.Doc, "/metadata/name", diag.RuleDuplicateAdapter,
				fmt.Sprintf("adapter %q is already defined in environment %q at %s", k[1], k[0], where(first, "/metadata/name"))))
			continue
		}
		seen[k] = a.Doc
	}
	return out
}

func (e ruleEnv) acceptorRules(r *Result) []diag.Finding {
	var out []diag.Finding
	ports := map[string]Adapter{}
	for _, a := range r.Adapters {
		l := a.Spec.Listen
		if a.Spec.Role != v1.RoleAcceptor || l == nil {
			continue
		}
		k := fmt.Sprintf("%s/%d", a.Metadata.Environment, l.Port)
		if first, ok := ports[k]; ok {
			out = append(out, at(a.Doc, "/spec/listen/port", diag.RulePortConflict,
				fmt.Sprintf("port %d is already taken in environment %q by adapter %q at %s", l.Port, a.Metadata.Environment, first.Metadata.Name, where(first.Doc, "/spec/listen/port"))))
		} else {
			ports[k] = a
		}
		if open, why := isOpen(l.AllowedSources); open {
			if ok, note := e.openAllowed(r.Policy, a.Adapter); !ok {
				out = append(out, at(a.Doc, "/spec/listen/allowedSources", diag.RuleOpenAcceptor,
					fmt.Sprintf("acceptor %q %s; list the counterparty's IP ranges, or grant an exception in policy.json%s", a.Metadata.Name, why, note)))
			}
		}
	}
	return out
}
