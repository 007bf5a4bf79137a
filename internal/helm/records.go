package helm

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Helm's own labels on a release record.
const (
	labelOwner   = "owner"
	labelName    = "name"
	labelStatus  = "status"
	labelVersion = "version"
)

// Helm's release statuses, as the status label spells them.
const (
	statusDeployed        = "deployed"
	statusSuperseded      = "superseded"
	statusFailed          = "failed"
	statusUninstalled     = "uninstalled"
	statusUninstalling    = "uninstalling"
	statusPendingInstall  = "pending-install"
	statusPendingUpgrade  = "pending-upgrade"
	statusPendingRollback = "pending-rollback"
)

var secretsResource = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// Deployed is the latest revision of a release as its record says.
type Deployed struct {
	Name, Namespace string
	// Version is the Helm revision.
	Version int
	// Status is Helm's: deployed, failed, pending-install,
	// pending-upgrade, pending-rollback, uninstalling, superseded...
	Status string
	// Digest is the cairn.dev/digest label (DigestLabel form), "" if absent.
	Digest string
	// Labels are the record's labels but Helm's own (owner, name, status,
	// version, createdAt, modifiedAt).
	Labels map[string]string
}

// Key is "namespace/name".
func (d Deployed) Key() string { return d.Namespace + "/" + d.Name }

// List returns the latest revision of every cairn-managed release in every
// namespace, sorted by namespace and name, with one list of the release
// records' metadata (their bodies are not read).
func (c *Client) List(ctx context.Context) ([]Deployed, error) {
	recs, err := c.listRecords(ctx, "", labels.Set{labelOwner: "helm", LabelManaged: "true"})
	if err != nil {
		return nil, fmt.Errorf("helm: list releases: %w", err)
	}
	return latestOf(recs), nil
}

// listRecords lists release records' metadata in namespace ("" for all).
func (c *Client) listRecords(ctx context.Context, namespace string, sel labels.Set) ([]Deployed, error) {
	list, err := c.metadata.Resource(secretsResource).Namespace(namespace).List(ctx,
		metav1.ListOptions{LabelSelector: sel.AsSelector().String()})
	if err != nil {
		return nil, err
	}
	out := make([]Deployed, 0, len(list.Items))
	for _, item := range list.Items {
		l := item.Labels
		v, err := strconv.Atoi(l[labelVersion])
		if err != nil || l[labelName] == "" {
			continue // not a record Helm wrote
		}
		d := Deployed{Name: l[labelName], Namespace: item.Namespace, Version: v, Status: l[labelStatus],
			Digest: l[LabelDigest], Labels: map[string]string{}}
		for k, val := range l {
			switch k {
			case labelOwner, labelName, labelStatus, labelVersion, "createdAt", "modifiedAt":
			default:
				d.Labels[k] = val
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// releaseRecords returns the records of one release, oldest first.
func (c *Client) releaseRecords(ctx context.Context, namespace, name string) ([]Deployed, error) {
	recs, err := c.listRecords(ctx, namespace, labels.Set{labelOwner: "helm", labelName: name})
	if err != nil {
		return nil, fmt.Errorf("read release records: %w", err)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Version < recs[j].Version })
	return recs, nil
}

// latestOf keeps the highest revision of each release, sorted by key.
func latestOf(recs []Deployed) []Deployed {
	latest := map[string]Deployed{}
	for _, r := range recs {
		if cur, ok := latest[r.Key()]; !ok || r.Version > cur.Version {
			latest[r.Key()] = r
		}
	}
	out := make([]Deployed, 0, len(latest))
	for _, r := range latest {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// history is what Apply needs to know of a release's records.
type history struct {
	// latest is the highest revision, nil when there is none.
	latest *Deployed
	// deployed is the revision whose status is deployed, 0 if none.
	deployed int
	// wasDeployed is set when a revision is deployed or superseded: the
	// release was installed once, so a new revision is an upgrade.
	wasDeployed bool
}

func historyOf(recs []Deployed) history {
	var h history
	for i := range recs {
		r := &recs[i]
		if h.latest == nil || r.Version > h.latest.Version {
			h.latest = r
		}
		if r.Status == statusDeployed && r.Version > h.deployed {
			h.deployed = r.Version
		}
		if r.Status == statusDeployed || r.Status == statusSuperseded {
			h.wasDeployed = true
		}
	}
	return h
}

// interrupted reports whether a status is one an apply leaves only when it
// dies half-way.
func interrupted(status string) bool {
	switch status {
	case statusPendingInstall, statusPendingUpgrade, statusPendingRollback, statusUninstalling, "unknown", "":
		return true
	}
	return false
}
