package helm

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/chart"
)

// Labels cairn puts on every Helm release record it makes.
const (
	// LabelManaged marks the records of releases made by cairn ("true").
	LabelManaged = "cairn.dev/managed"
	// LabelDigest holds DigestLabel of the release's digest.
	LabelDigest = "cairn.dev/digest"
)

// Release is what Apply installs or upgrades.
type Release struct {
	Name, Namespace string
	Chart           *chart.Chart
	// Values are the chart values, exactly: values stored with an earlier
	// revision are never reused.
	Values map[string]any
	// Digest is cairn's digest of chart and values ("sha256:<hex>"); it is
	// stored, truncated, as the label cairn.dev/digest of the release record.
	Digest string
	// Labels are extra labels of the release record (cairn.dev/environment,
	// cairn.dev/revision...). Helm's own (owner, name, status, version) are
	// refused.
	Labels map[string]string
	// Absent says the caller knows the release has no record at all (it
	// listed them and is the only writer, as a leader-elected reconciler
	// is): Apply installs without reading the release's records first,
	// which saves a list of the namespace's Secrets per release.
	Absent bool
}

// storedChart is the chart as Helm stores it with every revision: without
// documentation files (README, LICENSE, CHANGELOG), which cannot change what
// renders unless a template reads .Files, and without the values schema
// unless values are validated. Every revision holds a gzipped copy of the
// chart; the smaller it is, the less each install costs the client (gzip)
// and the API server (a Secret written twice). The caller's chart is not
// modified. A chart with dependencies is stored whole.
func storedChart(ch *chart.Chart, keepSchema bool) *chart.Chart {
	if len(ch.Dependencies()) > 0 {
		return ch
	}
	cp := *ch
	if !keepSchema {
		cp.Schema = nil
	}
	if readsFiles(ch) {
		return &cp
	}
	cp.Files = nil
	for _, f := range ch.Files {
		if !isDoc(f.Name) {
			cp.Files = append(cp.Files, f)
		}
	}
	return &cp
}

func readsFiles(ch *chart.Chart) bool {
	for _, t := range ch.Templates {
		if bytes.Contains(t.Data, []byte(".Files")) {
			return true
		}
	}
	return false
}

func isDoc(name string) bool {
	upper := strings.ToUpper(name)
	for _, p := range []string{"README", "LICENSE", "CHANGELOG"} {
		if strings.HasPrefix(upper, p) {
			return true
		}
	}
	return false
}

// Key is "namespace/name".
func (r Release) Key() string { return r.Namespace + "/" + r.Name }

// check refuses a release Helm would refuse later, or worse.
func (r Release) check() error {
	switch {
	case r.Name == "" || r.Namespace == "":
		return errors.New("release needs a name and a namespace")
	case r.Chart == nil:
		return errors.New("release has no chart")
	}
	for k := range r.Labels {
		switch k {
		case "owner", "name", "status", "version", "createdAt", "modifiedAt", LabelManaged, LabelDigest:
			return fmt.Errorf("label %q is reserved", k)
		}
	}
	return nil
}

// recordLabels are the labels of the release record.
func (r Release) recordLabels() map[string]string {
	out := make(map[string]string, len(r.Labels)+2)
	for k, v := range r.Labels {
		out[k] = v
	}
	out[LabelManaged] = "true"
	if r.Digest != "" {
		out[LabelDigest] = DigestLabel(r.Digest)
	}
	return out
}

// DigestLabel is the form of a digest stored as a label value: the hex
// without its "sha256:" prefix, truncated to 63 characters (a label value's
// limit; 252 bits of the hash are plenty to tell two releases apart).
func DigestLabel(digest string) string {
	if i := strings.IndexByte(digest, ':'); i >= 0 {
		digest = digest[i+1:]
	}
	if len(digest) > 63 {
		digest = digest[:63]
	}
	return digest
}

// DigestMatches reports whether the deployed release was made from digest
// (compared in the truncated label form). A record without a digest never
// matches.
func DigestMatches(d Deployed, digest string) bool {
	return d.Digest != "" && d.Digest == DigestLabel(digest)
}

// Action is what Apply or Uninstall did.
type Action string

// Actions.
const (
	Installed   Action = "installed"
	Upgraded    Action = "upgraded"
	Uninstalled Action = "uninstalled"
	RolledBack  Action = "rolled-back"
	Unchanged   Action = "unchanged"
)

// Outcome is the observed result of Apply or Uninstall, for the audit trail.
type Outcome struct {
	Action Action
	// Version is the Helm revision now latest (the rollback's for
	// RolledBack; 0 after an uninstall); Previous the revision deployed
	// before the call (0 for none).
	Version, Previous int
	Duration          time.Duration
	// Recovered names the state of an interrupted earlier apply that Apply
	// cleared first ("pending-install", "pending-upgrade", ...), or "".
	Recovered string
}

// UpgradeError is returned when an upgrade failed. Where Helm had begun to
// change objects, the release was rolled back: RolledBackTo is the revision
// whose objects were restored (as a new revision), 0 when nothing was rolled
// back (the upgrade failed before it changed anything, or the rollback
// failed too: RollbackErr).
type UpgradeError struct {
	// Release is "namespace/name".
	Release      string
	Cause        error
	RolledBackTo int
	RollbackErr  error
}

func (e *UpgradeError) Error() string {
	msg := fmt.Sprintf("upgrade %s: %v", e.Release, e.Cause)
	switch {
	case e.RollbackErr != nil:
		msg += fmt.Sprintf("; rollback failed too: %v", e.RollbackErr)
	case e.RolledBackTo > 0:
		msg += fmt.Sprintf("; rolled back to revision %d", e.RolledBackTo)
	}
	return msg
}

// Unwrap returns the cause and the rollback's error.
func (e *UpgradeError) Unwrap() []error {
	if e.RollbackErr != nil {
		return []error{e.Cause, e.RollbackErr}
	}
	return []error{e.Cause}
}

// InstallError is returned when an install failed. The release record, if
// Helm wrote one, says failed; the next Apply replaces it.
type InstallError struct {
	// Release is "namespace/name".
	Release string
	Cause   error
}

func (e *InstallError) Error() string { return fmt.Sprintf("install %s: %v", e.Release, e.Cause) }
func (e *InstallError) Unwrap() error { return e.Cause }
