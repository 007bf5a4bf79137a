package reconciler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/cairn-gitops/cairn/internal/helm"
	"github.com/cairn-gitops/cairn/render"
)

// Labels cairn sets on the Helm release records it makes.
const (
	LabelEnvironment = "cairn.dev/environment"
	LabelInstance    = "cairn.dev/instance"
	LabelRevision    = "cairn.dev/revision"
)

// loadDeployed reads the releases of this instance from Helm's storage,
// once per process: afterwards the map follows what Apply did.
func (r *Reconciler) loadDeployed(ctx context.Context) error {
	if r.loaded {
		return nil
	}
	list, err := r.opts.Applier.List(ctx)
	if err != nil {
		return fmt.Errorf("list releases: %w", err)
	}
	for _, d := range list {
		env := d.Labels[LabelEnvironment]
		if env == "" || d.Labels[LabelInstance] != r.opts.Instance {
			continue
		}
		r.deployed[env+"/"+d.Name] = deployedRelease{Deployed: d}
	}
	r.loaded = true
	return nil
}

// gate asks the change policy's gate (approvals, checks, windows), then
// decides what the pass applies and refuses a revision that would prune
// everything or more than the change policy allows.
func (r *Reconciler) gate(ctx context.Context, p *pass) error {
	if err := r.judge(ctx, p); err != nil {
		return err
	}
	if err := r.loadDeployed(ctx); err != nil {
		return err
	}
	desired := map[string]bool{}
	for _, rel := range p.rev.releases {
		desired[rel.Key()] = true
		d, ok := r.deployed[rel.Key()]
		if ok && d.Namespace != rel.Namespace {
			p.toRemove = append(p.toRemove, d) // moved to another namespace
		} else if !p.force && ok && d.Status == "deployed" && d.matches(rel.Digest) {
			p.unchanged++
			continue
		}
		p.toApply = append(p.toApply, rel)
	}
	for key, d := range r.deployed {
		if !desired[key] {
			p.toRemove = append(p.toRemove, d)
		}
	}
	slices.SortFunc(p.toRemove, func(a, b deployedRelease) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	return r.checkPrune(p)
}

// matches says whether the release holds the render with digest.
func (d deployedRelease) matches(digest string) bool {
	if d.digest != "" {
		return d.digest == digest
	}
	return helm.DigestMatches(d.Deployed, digest)
}

// checkPrune refuses an empty render that would uninstall everything, and
// more uninstalls than the policy's prune.maxDeletions.
func (r *Reconciler) checkPrune(p *pass) error {
	n := len(p.toRemove)
	if n == 0 {
		return nil
	}
	if len(p.rev.releases) == 0 {
		return &StalledError{Reason: ReasonPruneRefused, Err: fmt.Errorf(
			"the revision renders no release: refusing to uninstall all %d; delete adapters in smaller steps or check the repository", n)}
	}
	if pol := p.rev.result.Policy; pol != nil && pol.Spec.Prune != nil && pol.Spec.Prune.MaxDeletions != nil {
		if limit := *pol.Spec.Prune.MaxDeletions; n > limit {
			return &StalledError{Reason: ReasonPruneRefused, Err: fmt.Errorf(
				"the revision uninstalls %d releases (%s); policy.json prune.maxDeletions allows %d",
				n, names(p.toRemove), limit)}
		}
	}
	return nil
}

func names(ds []deployedRelease) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Namespace+"/"+d.Name)
		if len(s) == 10 && len(ds) > 10 {
			s = append(s, fmt.Sprintf("and %d more", len(ds)-10))
			break
		}
	}
	return strings.Join(s, ", ")
}

// apply installs or upgrades the releases that changed, then uninstalls the
// ones that left, with a pool of workers. One adapter's failure does not
// stop the others.
func (r *Reconciler) apply(ctx context.Context, p *pass) error {
	chart := p.rev.renderer.Chart()
	p.results = make([]result, len(p.toApply)+len(p.toRemove))
	r.pool(len(p.toApply), func(i int) { p.results[i] = r.applyOne(ctx, p, chart, &p.toApply[i]) })
	off := len(p.toApply)
	r.pool(len(p.toRemove), func(i int) { p.results[off+i] = r.uninstallOne(ctx, p.toRemove[i]) })
	r.track(p)
	return verdict(p, r.opts.WaitRetry)
}

// pool runs fn(0..n-1) on the configured number of workers.
func (r *Reconciler) pool(n int, fn func(int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(n, r.opts.Workers); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// applyOne checks the adapter's Secrets, then installs or upgrades it.
func (r *Reconciler) applyOne(ctx context.Context, p *pass, chart *chart.Chart, rel *render.Release) result {
	res := result{key: rel.Key(), name: rel.Name, env: rel.Environment, namespace: rel.Namespace, release: rel}
	if err := ctx.Err(); err != nil {
		res.err = err
		return res
	}
	var refs []helm.SecretRef
	if a := p.adapters[rel.Key()]; a != nil {
		for _, ref := range a.SecretRefs() {
			refs = append(refs, helm.SecretRef{Name: ref.Name, Keys: ref.Keys})
		}
	}
	if len(refs) > 0 {
		missing, err := r.opts.Applier.CheckSecrets(ctx, rel.Namespace, refs)
		if err != nil || len(missing) > 0 {
			res.missing, res.err = missing, err
			return res
		}
	}
	_, known := r.deployed[rel.Key()]
	res.outcome, res.err = r.opts.Applier.Apply(ctx, helm.Release{
		Name: rel.Name, Namespace: rel.Namespace, Chart: chart, Values: rel.Values, Digest: rel.Digest, Absent: !known,
		Labels: map[string]string{LabelEnvironment: rel.Environment, LabelInstance: r.opts.Instance, LabelRevision: p.head.Hash},
	})
	return res
}

// uninstallOne removes a release whose adapter left the repository.
func (r *Reconciler) uninstallOne(ctx context.Context, d deployedRelease) result {
	res := result{key: d.Labels[LabelEnvironment] + "/" + d.Name, name: d.Name, env: d.Labels[LabelEnvironment], namespace: d.Namespace}
	if err := ctx.Err(); err != nil {
		res.err = err
		return res
	}
	res.outcome, res.err = r.opts.Applier.Uninstall(ctx, d.Namespace, d.Name)
	return res
}

// track updates the map of deployed releases from the pass's results.
func (r *Reconciler) track(p *pass) {
	for _, res := range p.results {
		switch {
		case res.release == nil && res.err == nil:
			if d, ok := r.deployed[res.key]; ok && d.Namespace == res.namespace {
				delete(r.deployed, res.key)
			}
		case res.release != nil && res.err == nil && res.missing == nil:
			r.deployed[res.key] = deployedRelease{digest: res.release.Digest, Deployed: helm.Deployed{
				Name: res.name, Namespace: res.namespace, Version: res.outcome.Version, Status: "deployed",
				Labels: map[string]string{LabelEnvironment: res.env, LabelInstance: r.opts.Instance, LabelRevision: p.head.Hash}}}
		case res.release != nil && res.err != nil:
			// The release may be in any state now, records included: Apply
			// reads them next time.
			d, ok := r.deployed[res.key]
			if !ok {
				d = deployedRelease{Deployed: helm.Deployed{Name: res.name, Namespace: res.namespace,
					Labels: map[string]string{LabelEnvironment: res.env, LabelInstance: r.opts.Instance}}}
			}
			d.Status = "unknown"
			r.deployed[res.key] = d
		}
	}
}

// verdict classifies a pass's results: any failure is an error to retry
// with backoff; otherwise any missing Secret makes the revision wait.
func verdict(p *pass, retry time.Duration) error {
	var failed, waiting []string
	var first error
	for _, res := range p.results {
		switch {
		case res.err != nil:
			failed = append(failed, res.key)
			if first == nil {
				first = res.err
			}
		case len(res.missing) > 0:
			waiting = append(waiting, res.key+": "+res.missing[0].Reason)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d releases failed (%s): %w", len(failed), len(p.results), strings.Join(first3(failed), ", "), first)
	}
	if len(waiting) > 0 {
		return &WaitingError{Reason: ReasonSecretMissing, RetryAfter: retry,
			Err: errors.New(strings.Join(first3(waiting), "; ") + more(len(waiting)))}
	}
	return nil
}

func first3(s []string) []string { return s[:min(3, len(s))] }

func more(n int) string {
	if n > 3 {
		return fmt.Sprintf(" (and %d more)", n-3)
	}
	return ""
}
