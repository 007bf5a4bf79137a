package helm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Failed is the Action of an Apply or Uninstall that did not complete; the
// error says why and Outcome.Version is the latest revision Helm recorded.
const Failed Action = "failed"

// Apply installs r if it has no release, else upgrades it. The caller
// decides when to call (where the digest changed, or to correct drift: an
// upgrade with the same values restores drifted fields and recreates
// deleted objects).
//
// A release left behind by an interrupted apply is recovered first: a
// latest record that is pending-install, pending-upgrade, pending-rollback
// or uninstalling is marked failed (Outcome.Recovered says which). Then a
// release that was ever deployed is upgraded (Helm computes the upgrade
// from the deployed revision, so a half-done upgrade is completed rather
// than rolled back first and done again, which would restart its pods
// twice), and one that never was (a failed or interrupted install) is
// installed anew over its records, adopting the objects it had created.
//
// A failed upgrade that had changed anything is rolled back to the deployed
// revision: Outcome{Action: RolledBack} and an *UpgradeError. A failed
// install is an *InstallError. The namespace is created if it does not
// exist.
func (c *Client) Apply(ctx context.Context, r Release) (Outcome, error) {
	start := time.Now()
	if err := r.check(); err != nil {
		return Outcome{Action: Failed}, fmt.Errorf("helm: apply %s: %w", r.Key(), err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	out, err := c.exclusive(ctx, r.Key(), func(work context.Context) (Outcome, error) {
		return c.apply(work, r)
	})
	if errors.Is(err, errGaveUp) {
		err = fmt.Errorf("helm: apply %s: %w", r.Key(), err)
	}
	out.Duration = time.Since(start)
	if err != nil {
		c.forgetNamespace(r.Namespace) // it may be what went missing
	}
	return out, err
}

func (c *Client) apply(ctx context.Context, r Release) (Outcome, error) {
	var recs []Deployed
	if !r.Absent {
		var err error
		if recs, err = c.releaseRecords(ctx, r.Namespace, r.Name); err != nil {
			return Outcome{Action: Failed}, fmt.Errorf("helm: apply %s: %w", r.Key(), err)
		}
	}
	h := historyOf(recs)
	cfg, err := c.configuration(ctx, r.Namespace)
	if err != nil {
		return Outcome{Action: Failed}, fmt.Errorf("helm: apply %s: %w", r.Key(), err)
	}
	out := Outcome{Previous: h.deployed}
	if h.latest != nil && interrupted(h.latest.Status) {
		if err := markFailed(cfg, r.Name, h.latest.Version, h.latest.Status); err != nil {
			out.Action = Failed
			return out, fmt.Errorf("helm: apply %s: recover from %s: %w", r.Key(), h.latest.Status, err)
		}
		out.Recovered = h.latest.Status
		h.latest.Status = statusFailed
	}
	switch {
	case h.latest == nil:
		return c.install(ctx, cfg, r, out, false)
	case h.wasDeployed:
		return c.upgrade(ctx, cfg, r, out, h)
	default:
		return c.install(ctx, cfg, r, out, true)
	}
}

// markFailed sets a release record's status to failed.
func markFailed(cfg *action.Configuration, name string, version int, was string) error {
	rel, err := cfg.Releases.Get(name, version)
	if err != nil {
		return err
	}
	rel.SetStatus(release.StatusFailed, fmt.Sprintf("interrupted while %s; marked failed by cairn", was))
	return cfg.Releases.Update(rel)
}

// install runs Helm's install; replace installs over earlier records.
func (c *Client) install(ctx context.Context, cfg *action.Configuration, r Release, out Outcome, replace bool) (Outcome, error) {
	if err := c.ensureNamespace(ctx, r.Namespace); err != nil {
		out.Action = Failed
		return out, &InstallError{Release: r.Key(), Cause: err}
	}
	if !replace {
		// A first install has no history to trim: no list of it.
		cfg.Releases.MaxHistory = 0
	}
	in := action.NewInstall(cfg)
	in.ReleaseName, in.Namespace, in.Replace = r.Name, r.Namespace, replace
	in.DisableHooks, in.DisableOpenAPIValidation = true, true
	in.SkipSchemaValidation = !c.validate
	in.Timeout = c.timeout
	in.Labels = r.recordLabels()
	rel, err := in.RunWithContext(ctx, storedChart(r.Chart, c.validate), r.Values)
	if err != nil {
		out.Action, out.Version = Failed, c.latestVersion(ctx, r)
		return out, &InstallError{Release: r.Key(), Cause: err}
	}
	out.Action, out.Version = Installed, rel.Version
	return out, nil
}

// upgrade runs Helm's upgrade and rolls back a failed one.
func (c *Client) upgrade(ctx context.Context, cfg *action.Configuration, r Release, out Outcome, h history) (Outcome, error) {
	up := action.NewUpgrade(cfg)
	up.Namespace = r.Namespace
	up.ResetValues = true
	up.DisableHooks, up.DisableOpenAPIValidation = true, true
	up.SkipSchemaValidation = !c.validate
	up.MaxHistory, up.Timeout = c.maxHistory, c.timeout
	up.Labels = r.recordLabels()
	rel, err := up.RunWithContext(ctx, r.Name, storedChart(r.Chart, c.validate), r.Values)
	if err == nil {
		out.Action, out.Version = Upgraded, rel.Version
		return out, nil
	}
	uerr := &UpgradeError{Release: r.Key(), Cause: err}
	out.Action, out.Version = Failed, c.latestVersion(ctx, r)
	if out.Version <= h.latest.Version || h.deployed == 0 {
		return out, uerr // nothing was changed, or there is nothing to go back to
	}
	rb := action.NewRollback(cfg)
	rb.Version, rb.DisableHooks = h.deployed, true
	rb.MaxHistory, rb.Timeout = c.maxHistory, c.timeout
	if rerr := rb.Run(r.Name); rerr != nil {
		uerr.RollbackErr = rerr
		out.Version = c.latestVersion(ctx, r)
		return out, uerr
	}
	uerr.RolledBackTo = h.deployed
	out.Action, out.Version = RolledBack, c.latestVersion(ctx, r)
	return out, uerr
}

// latestVersion is the highest revision recorded for r, after a failure;
// 0 when it cannot be read.
func (c *Client) latestVersion(ctx context.Context, r Release) int {
	recs, err := c.releaseRecords(ctx, r.Namespace, r.Name)
	if err != nil {
		return 0
	}
	if h := historyOf(recs); h.latest != nil {
		return h.latest.Version
	}
	return 0
}

// Uninstall removes a release and its objects, and its records (no history
// is kept: the audit trail is cairn's). A release that does not exist is
// Outcome{Action: Unchanged} and no error.
func (c *Client) Uninstall(ctx context.Context, namespace, name string) (Outcome, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	key := namespace + "/" + name
	out, err := c.exclusive(ctx, key, func(work context.Context) (Outcome, error) {
		return c.uninstall(work, namespace, name)
	})
	out.Duration = time.Since(start)
	if err != nil {
		return out, fmt.Errorf("helm: uninstall %s: %w", key, err)
	}
	return out, nil
}

func (c *Client) uninstall(ctx context.Context, namespace, name string) (Outcome, error) {
	recs, err := c.releaseRecords(ctx, namespace, name)
	if err != nil {
		return Outcome{Action: Failed}, err
	}
	h := historyOf(recs)
	if h.latest == nil {
		return Outcome{Action: Unchanged}, nil
	}
	out := Outcome{Action: Uninstalled, Previous: h.deployed}
	cfg, err := c.configuration(ctx, namespace)
	if err == nil {
		un := action.NewUninstall(cfg)
		un.DisableHooks, un.KeepHistory, un.Timeout = true, false, c.timeout
		un.DeletionPropagation = "background"
		_, err = un.Run(name)
	}
	if err != nil {
		out.Action = Failed
	}
	return out, err
}

// errGaveUp is wrapped by the error of an Apply or Uninstall whose context
// ended before Helm did.
var errGaveUp = errors.New("gave up waiting; Helm goes on in the background and the next call for this release waits for it")

// exclusive runs fn in a goroutine of its own, one at a time per release
// key, and returns its result, or an error wrapping errGaveUp and ctx's
// error when ctx ends first. Helm's actions cannot be stopped half-way (its
// Kubernetes calls take no context), so fn runs to its end, rollback
// included, on a context that is not cancelled (every request is still
// bounded by the timeout); the next call for the same release waits for it
// rather than finding its records pending.
func (c *Client) exclusive(ctx context.Context, key string, fn func(context.Context) (Outcome, error)) (Outcome, error) {
	unlock, err := c.lock(ctx, key)
	if err != nil {
		return Outcome{Action: Failed}, fmt.Errorf("%w: %w", errGaveUp, err)
	}
	type result struct {
		out Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer unlock()
		out, err := fn(context.WithoutCancel(ctx))
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		return r.out, r.err
	case <-ctx.Done():
		return Outcome{Action: Failed}, fmt.Errorf("%w: %w", errGaveUp, ctx.Err())
	}
}

// lock waits until no action runs for key, then marks one running; the
// returned function ends it.
func (c *Client) lock(ctx context.Context, key string) (func(), error) {
	for {
		c.mu.Lock()
		busy, ok := c.busy[key]
		if !ok {
			done := make(chan struct{})
			c.busy[key] = done
			c.mu.Unlock()
			return func() {
				c.mu.Lock()
				delete(c.busy, key)
				c.mu.Unlock()
				close(done)
			}, nil
		}
		c.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// ensureNamespace creates namespace unless it is known to exist.
func (c *Client) ensureNamespace(ctx context.Context, namespace string) error {
	c.mu.Lock()
	known := c.namespaces[namespace]
	c.mu.Unlock()
	if known {
		return nil
	}
	nsc := c.kube.CoreV1().Namespaces()
	_, err := nsc.Get(ctx, namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace, Labels: map[string]string{"name": namespace}}}
		_, err = nsc.Create(ctx, ns, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("namespace %s: %w", namespace, err)
	}
	c.mu.Lock()
	c.namespaces[namespace] = true
	c.mu.Unlock()
	return nil
}

func (c *Client) forgetNamespace(namespace string) {
	c.mu.Lock()
	delete(c.namespaces, namespace)
	c.mu.Unlock()
}
