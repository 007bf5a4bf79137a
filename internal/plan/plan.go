package plan

import (
	"cmp"
	"reflect"
	"slices"
	"time"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/gitsource"
	"github.com/cairn-gitops/cairn/internal/validate"
	"github.com/cairn-gitops/cairn/render"
)

// Version is the version of the plan's JSON shape. A consumer that reads
// "version" and finds another value must not guess at the rest.
const Version = "v1"

// Revision is one side of a comparison: a commit, what validating its tree
// found (the decoded documents, used for the semantic comparison) and the
// releases rendered from it. Result must be valid. Releases may leave out
// adapters that Affected does not list, when both revisions render with the
// same chart: Compare counts an adapter with equal manifests and no
// releases as unchanged.
type Revision struct {
	// Ref is the revision as the user named it ("main", "HEAD~1").
	Ref      string
	Commit   gitsource.Commit
	Result   *validate.Result
	Releases []render.Release
}

// Plan is what changes from a base revision to a head revision. It is also
// the JSON document `cairn plan --output json` writes (version "v1"); every
// field below is part of that contract.
type Plan struct {
	// Version is the shape of this document: "v1".
	Version string       `json:"version"`
	Base    RevisionInfo `json:"base"`
	Head    RevisionInfo `json:"head"`
	// Risk is the highest risk of any change: "none" when nothing changed,
	// else "low", "medium" or "high".
	Risk    Risk    `json:"risk"`
	Summary Summary `json:"summary"`
	// Adapters lists every adapter that was added, removed, moved or
	// changed, sorted by key; unchanged adapters are only counted.
	Adapters []AdapterChange `json:"adapters"`
	// Repository lists changes to cairn.json, Security to security.json,
	// Policy to policy.json, each sorted by pointer.
	Repository []Change `json:"repository"`
	Security   []Change `json:"security"`
	Policy     []Change `json:"policy"`
}

// RevisionInfo names a revision of the plan.
type RevisionInfo struct {
	// Ref is the revision as given on the command line.
	Ref string `json:"ref"`
	// Commit is the full commit hash it resolved to.
	Commit string `json:"commit"`
	// Author and Committer are "Name <email>".
	Author    string `json:"author,omitempty"`
	Committer string `json:"committer,omitempty"`
	// Time is the commit's committer time (RFC 3339).
	Time time.Time `json:"time"`
	// Subject is the first line of the commit message.
	Subject string `json:"subject,omitempty"`
}

// Summary counts what the plan holds.
type Summary struct {
	// Adapters by status; Unchanged adapters are not listed in Adapters.
	Added     int `json:"added"`
	Removed   int `json:"removed"`
	Changed   int `json:"changed"`
	Moved     int `json:"moved"`
	Unchanged int `json:"unchanged"`
	// Changes to cairn.json, security.json and policy.json.
	RepositoryChanges int `json:"repositoryChanges"`
	SecurityChanges   int `json:"securityChanges"`
	PolicyChanges     int `json:"policyChanges"`
	// Every Change of the plan (adapter, repository, security, policy) by risk.
	High   int `json:"high"`
	Medium int `json:"medium"`
	Low    int `json:"low"`
}

// Status says what happens to an adapter.
type Status string

// Adapter statuses.
const (
	StatusAdded   Status = "added"
	StatusRemoved Status = "removed"
	StatusChanged Status = "changed"
	// StatusMoved is an adapter whose environment changed: it is removed
	// from one environment and installed in another.
	StatusMoved Status = "moved"
)

// AdapterChange is what happens to one adapter.
type AdapterChange struct {
	// Key is "environment/name" at the head (at the base for a removed adapter).
	Key         string `json:"key"`
	Name        string `json:"name"`
	Environment string `json:"environment"`
	// PreviousEnvironment is set for a moved adapter.
	PreviousEnvironment string `json:"previousEnvironment,omitempty"`
	// Production says whether Environment (or PreviousEnvironment) is a
	// production environment of cairn.json.
	Production bool   `json:"production"`
	Status     Status `json:"status"`
	// Risk is the highest risk of Changes.
	Risk Risk `json:"risk"`
	// Files are the files that produced the adapter's document (a .jsonnet
	// file and its imports), at the head (at the base when removed).
	Files []string `json:"files,omitempty"`
	// Base and Head describe the release on each side; nil where it does
	// not exist.
	Base *ReleaseInfo `json:"base,omitempty"`
	Head *ReleaseInfo `json:"head,omitempty"`
	// ReleaseChanged says whether the rendered release differs (its digest
	// changed); false for a manifest change that renders identically.
	ReleaseChanged bool `json:"releaseChanged"`
	// Changes are the semantic changes, highest risk first.
	Changes []Change `json:"changes"`
	// Diff is the unified diff of the rendered objects; nil when the
	// release did not change.
	Diff *Diff `json:"diff,omitempty"`
}

// ReleaseInfo identifies a rendered release.
type ReleaseInfo struct {
	Namespace    string `json:"namespace"`
	Chart        string `json:"chart"`
	Digest       string `json:"digest"`
	ValuesDigest string `json:"valuesDigest"`
	// Objects counts the rendered Kubernetes objects.
	Objects int `json:"objects"`
}

// Diff is a unified diff (3 lines of context) of a release's rendered
// objects, each object introduced by a "# Source: template" line.
type Diff struct {
	Unified string `json:"unified"`
	// Lines counts the lines of Unified; Added and Removed its + and - lines.
	Lines   int `json:"lines"`
	Added   int `json:"added"`
	Removed int `json:"removed"`
}

// Change is one semantic change.
type Change struct {
	// Kind names the change, such as "allowed-sources-widened"; Kinds lists
	// them with their default risk and what a reviewer should check.
	Kind string `json:"kind"`
	// File is the document the change is in (for an adapter, the file that
	// produced it); Pointer is the JSON pointer into that document ("" for
	// the whole document), at the head, or at the base for something the
	// head no longer has (a removed binding or variable). A change found
	// only in the rendered values ("values-changed") has no File and a
	// pointer into the chart values.
	File    string `json:"file,omitempty"`
	Pointer string `json:"pointer"`
	Risk    Risk   `json:"risk"`
	// Summary says what changed in one sentence.
	Summary string `json:"summary"`
	// Before and After are the values at Pointer; absent when the value
	// did not exist on that side or is withheld (an API key's hash).
	Before any `json:"before,omitempty"`
	After  any `json:"after,omitempty"`
	// Advice says what a reviewer should check before approving.
	Advice string `json:"advice,omitempty"`
}

// Changed reports whether anything differs between the two revisions.
func (p *Plan) Changed() bool {
	return len(p.Adapters)+len(p.Repository)+len(p.Security)+len(p.Policy) > 0
}

// side is what one revision holds for one adapter key.
type side struct {
	adapter *validate.Adapter
	release *render.Release
}

// Compare computes the plan from base to head. Both revisions must have
// validated; their releases must be rendered with their own charts.
func Compare(base, head Revision) *Plan {
	p := &Plan{Version: Version, Base: infoOf(base), Head: infoOf(head),
		Adapters: []AdapterChange{}, Repository: []Change{}, Security: []Change{}, Policy: []Change{}}
	b, h := index(base), index(head)
	var added, removed []string
	for _, k := range sortedKeys(b, h) {
		bs, inBase := b[k]
		hs, inHead := h[k]
		switch {
		case inBase && inHead:
			if ac, ok := changed(base, head, bs, hs); ok {
				p.Adapters = append(p.Adapters, ac)
			} else {
				p.Summary.Unchanged++
			}
		case inBase:
			removed = append(removed, k)
		default:
			added = append(added, k)
		}
	}
	moves := pairMoves(b, h, removed, added)
	for _, k := range removed {
		if to, ok := moves[k]; ok {
			p.Adapters = append(p.Adapters, moved(base, head, b[k], h[to]))
			continue
		}
		p.Adapters = append(p.Adapters, removedAdapter(base, b[k]))
	}
	movedTo := map[string]bool{}
	for _, to := range moves {
		movedTo[to] = true
	}
	for _, k := range added {
		if !movedTo[k] {
			p.Adapters = append(p.Adapters, addedAdapter(head, h[k]))
		}
	}
	slices.SortFunc(p.Adapters, func(x, y AdapterChange) int { return cmp.Compare(x.Key, y.Key) })
	p.Repository = repositoryChanges(base.Result, head.Result)
	p.Security = securityChanges(base.Result, head.Result)
	p.Policy = policyChanges(base.Result, head.Result)
	p.finish()
	return p
}

// Affected lists the adapters ("environment/name") whose releases can
// differ between two revisions rendered with the same chart: those on one
// side only and those whose manifests differ. all is true when cairn.json
// differs, which can change every release. Rendering is pure, so a caller
// may render only these and leave the others out of both revisions'
// Releases: a plan of one change among 1,000 adapters then renders one.
func Affected(base, head *validate.Result) (keys map[string]bool, all bool) {
	if base == nil || head == nil || !reflect.DeepEqual(base.Repository, head.Repository) {
		return nil, true
	}
	b, h := index(Revision{Result: base}), index(Revision{Result: head})
	keys = map[string]bool{}
	for _, k := range sortedKeys(b, h) {
		if !reflect.DeepEqual(adapterOf(b[k]), adapterOf(h[k])) {
			keys[k] = true
		}
	}
	return keys, false
}

// finish sorts changes, fills in advice, the risks and the summary.
func (p *Plan) finish() {
	count := func(cs []Change) Risk {
		top := RiskNone
		for i := range cs {
			if cs[i].Advice == "" {
				cs[i].Advice = adviceFor(cs[i].Kind)
			}
			switch cs[i].Risk {
			case RiskHigh:
				p.Summary.High++
			case RiskMedium:
				p.Summary.Medium++
			case RiskLow:
				p.Summary.Low++
			}
			top = max(top, cs[i].Risk)
		}
		return top
	}
	byPointer := func(x, y Change) int {
		return cmp.Or(cmp.Compare(x.Pointer, y.Pointer), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Summary, y.Summary))
	}
	for _, cs := range [][]Change{p.Repository, p.Security, p.Policy} {
		slices.SortStableFunc(cs, byPointer)
		p.Risk = max(p.Risk, count(cs))
	}
	for i := range p.Adapters {
		a := &p.Adapters[i]
		slices.SortStableFunc(a.Changes, func(x, y Change) int {
			return cmp.Or(cmp.Compare(y.Risk, x.Risk), byPointer(x, y))
		})
		a.Risk = count(a.Changes)
		p.Risk = max(p.Risk, a.Risk)
		switch a.Status {
		case StatusAdded:
			p.Summary.Added++
		case StatusRemoved:
			p.Summary.Removed++
		case StatusChanged:
			p.Summary.Changed++
		case StatusMoved:
			p.Summary.Moved++
		}
	}
	p.Summary.RepositoryChanges = len(p.Repository)
	p.Summary.SecurityChanges = len(p.Security)
	p.Summary.PolicyChanges = len(p.Policy)
}

func infoOf(r Revision) RevisionInfo {
	c := r.Commit
	person := func(s gitsource.Signature) string {
		if s.Name == "" && s.Email == "" {
			return ""
		}
		return s.Name + " <" + s.Email + ">"
	}
	return RevisionInfo{Ref: r.Ref, Commit: c.Hash, Author: person(c.Author), Committer: person(c.Committer),
		Time: c.Time().UTC(), Subject: c.Subject()}
}

// index keys a revision's adapters and releases by "environment/name".
func index(r Revision) map[string]side {
	out := map[string]side{}
	if r.Result != nil {
		for i := range r.Result.Adapters {
			a := &r.Result.Adapters[i]
			k := a.Metadata.Environment + "/" + a.Metadata.Name
			s := out[k]
			s.adapter = a
			out[k] = s
		}
	}
	for i := range r.Releases {
		rel := &r.Releases[i]
		s := out[rel.Key()]
		s.release = rel
		out[rel.Key()] = s
	}
	return out
}

func sortedKeys(maps ...map[string]side) []string {
	var keys []string
	for _, m := range maps {
		for k := range m {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// pairMoves pairs a removed adapter with an added one of the same name when
// the name is removed from exactly one environment and added to exactly one:
// that adapter moved. It returns removed key -> added key.
func pairMoves(b, h map[string]side, removed, added []string) map[string]string {
	byName := func(keys []string, m map[string]side) map[string][]string {
		out := map[string][]string{}
		for _, k := range keys {
			out[nameOf(k, m[k])] = append(out[nameOf(k, m[k])], k)
		}
		return out
	}
	rm, ad := byName(removed, b), byName(added, h)
	moves := map[string]string{}
	for name, from := range rm {
		if to := ad[name]; len(from) == 1 && len(to) == 1 {
			moves[from[0]] = to[0]
		}
	}
	return moves
}

func nameOf(key string, s side) string {
	switch {
	case s.release != nil:
		return s.release.Name
	case s.adapter != nil:
		return s.adapter.Metadata.Name
	}
	return key
}

func envOf(key string, s side) string {
	switch {
	case s.release != nil:
		return s.release.Environment
	case s.adapter != nil:
		return s.adapter.Metadata.Environment
	}
	return key
}

// production says whether env is a production environment of r.
func production(r *validate.Result, env string) bool {
	if r == nil || r.Repository == nil {
		return false
	}
	return r.Repository.Spec.Environments[env].Production
}

func releaseInfo(r *render.Release) *ReleaseInfo {
	if r == nil {
		return nil
	}
	return &ReleaseInfo{Namespace: r.Namespace, Chart: r.Chart, Digest: r.Digest, ValuesDigest: r.ValuesDigest, Objects: len(r.Objects)}
}

func filesOf(s side) []string {
	if s.adapter == nil || s.adapter.Doc == nil {
		return nil
	}
	return s.adapter.Doc.Sources
}

func fileOf(s side) string {
	if s.adapter == nil || s.adapter.Doc == nil {
		return ""
	}
	return s.adapter.Doc.File
}

func adapterOf(s side) *v1.Adapter {
	if s.adapter == nil {
		return nil
	}
	return s.adapter.Adapter
}

// changed compares an adapter present on both sides; ok is false when
// nothing about it changed.
func changed(base, head Revision, bs, hs side) (AdapterChange, bool) {
	key := envOf("", hs) + "/" + nameOf("", hs)
	ac := AdapterChange{Key: key, Name: nameOf(key, hs), Environment: envOf(key, hs), Status: StatusChanged,
		Production: production(head.Result, envOf(key, hs)), Files: filesOf(hs),
		Base: releaseInfo(bs.release), Head: releaseInfo(hs.release)}
	ac.ReleaseChanged = bs.release != nil && hs.release != nil && bs.release.Digest != hs.release.Digest
	ba, ha := adapterOf(bs), adapterOf(hs)
	if !ac.ReleaseChanged && reflect.DeepEqual(ba, ha) {
		return ac, false
	}
	ac.Changes = adapterChanges(fileOf(hs), ba, ha)
	ac.Changes = append(ac.Changes, renderedChanges(base, head, bs, hs, len(ac.Changes) > 0)...)
	if ac.ReleaseChanged {
		ac.Diff = releaseDiff(bs.release, hs.release)
	}
	if !ac.ReleaseChanged && len(ac.Changes) == 0 {
		return ac, false // the manifests differ only in form (an empty list for an absent one)
	}
	return ac, true
}

func moved(base, head Revision, bs, hs side) AdapterChange {
	from, to := envOf("", bs), envOf("", hs)
	key := to + "/" + nameOf("", hs)
	ac := AdapterChange{Key: key, Name: nameOf(key, hs), Environment: to, PreviousEnvironment: from, Status: StatusMoved,
		Production: production(base.Result, from) || production(head.Result, to), Files: filesOf(hs),
		Base: releaseInfo(bs.release), Head: releaseInfo(hs.release), ReleaseChanged: true}
	ac.Changes = append(ac.Changes, Change{Kind: KindAdapterMoved, File: fileOf(hs), Pointer: "/metadata/environment",
		Risk: RiskHigh, Before: from, After: to,
		Summary: "moved from environment " + from + envNote(base.Result, from) + " to " + to + envNote(head.Result, to) +
			": uninstalled from " + namespaceOf(bs) + ", installed in " + namespaceOf(hs)})
	ba, ha := adapterOf(bs), adapterOf(hs)
	if ba != nil && ha != nil {
		b2 := *ba
		b2.Metadata.Environment = ha.Metadata.Environment
		ac.Changes = append(ac.Changes, adapterChanges(fileOf(hs), &b2, ha)...)
	}
	ac.Diff = releaseDiff(bs.release, hs.release)
	return ac
}

func removedAdapter(base Revision, bs side) AdapterChange {
	env := envOf("", bs)
	key := env + "/" + nameOf("", bs)
	prod := production(base.Result, env)
	ac := AdapterChange{Key: key, Name: nameOf(key, bs), Environment: env, Status: StatusRemoved, Production: prod,
		Files: filesOf(bs), Base: releaseInfo(bs.release), ReleaseChanged: true}
	c := Change{Kind: KindAdapterRemoved, File: fileOf(bs), Pointer: "", Risk: RiskMedium,
		Summary: "removed from " + env + ": its release is uninstalled from " + namespaceOf(bs) + " and its sessions stop"}
	if prod {
		c.Kind, c.Risk = KindAdapterRemovedProd, RiskHigh
		c.Summary = "removed from production environment " + env + ": its release is uninstalled from " + namespaceOf(bs) + " and its sessions stop"
	}
	ac.Changes = []Change{c}
	ac.Diff = releaseDiff(bs.release, nil)
	return ac
}

func addedAdapter(head Revision, hs side) AdapterChange {
	env := envOf("", hs)
	key := env + "/" + nameOf("", hs)
	ac := AdapterChange{Key: key, Name: nameOf(key, hs), Environment: env, Status: StatusAdded,
		Production: production(head.Result, env), Files: filesOf(hs), Head: releaseInfo(hs.release), ReleaseChanged: true}
	ac.Changes = addedChanges(fileOf(hs), adapterOf(hs), ac.Production, namespaceOf(hs))
	ac.Diff = releaseDiff(nil, hs.release)
	return ac
}

func namespaceOf(s side) string {
	if s.release != nil {
		return "namespace " + s.release.Namespace
	}
	return "its namespace"
}

func envNote(r *validate.Result, env string) string {
	if production(r, env) {
		return " (production)"
	}
	return ""
}
