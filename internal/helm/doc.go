// Package helm applies cairn's releases to a cluster with Helm 3, and reads
// back what is deployed: the release records, the health of the workloads,
// drift of the live objects from the rendered ones, and whether the Secrets
// a release references exist with the named keys.
//
// It is the only package that imports helm.sh/helm/v3/pkg/action, and the
// only one that talks to the API server about releases. Its contract:
//
//   - One Client per process. It shares one client configuration, one
//     memory-cached discovery client and RESTMapper, and one rate limiter
//     (QPS 500, burst 1000 unless Options say otherwise) across every
//     action: discovery runs once, not once per action. The cluster's
//     capabilities (version, API versions) are read on first use and kept.
//   - Apply installs a release that has none, upgrades one that has (with
//     the values given, never reusing stored ones), and recovers a release
//     left pending by a process that died mid-apply (see [Client.Apply]).
//     An upgrade with the same values is how drift is corrected: Helm 3's
//     three-way merge puts back fields changed by hand and recreates deleted
//     objects.
//   - A failed upgrade is rolled back to the revision that was deployed, and
//     reported as an *UpgradeError.
//   - Helm's client-side OpenAPI validation is off (the API server validates
//     every object anyway), hooks are off (the renderer refuses charts with
//     hooks), and Helm never waits for readiness: [Client.Health] reports it
//     separately, and the caller decides how long to wait.
//   - Values are not validated against the chart's values schema again
//     (the renderer did, with the same schema compiled once;
//     Options.ValidateValues turns it on), and the chart stored with each
//     revision leaves out its documentation files: every revision holds a
//     gzipped copy of the chart, written twice per install.
//   - A release's namespace is created if absent, by this package (a GET,
//     then a create, remembered per namespace) rather than by Helm's
//     CreateNamespace, which validates the Namespace against the OpenAPI
//     schema it downloads.
//   - Releases are stored as Secrets (Helm's default driver), labelled
//     cairn.dev/managed=true and cairn.dev/digest (a truncated digest of
//     chart and values) besides Helm's own labels, so that [Client.List] can
//     answer "what is deployed, and is it current" with one metadata-only
//     list of the whole cluster, without reading release bodies.
//   - Apply, Uninstall and every reader are safe to call concurrently.
//     Actions on one release run one at a time: the second waits for the
//     first (Helm itself would refuse it, "another operation is in
//     progress").
//   - Secret values are never read into a log line, an error or a result:
//     CheckSecrets looks at key names only, Drift redacts a Secret's values.
//
// Apply and Uninstall return within Options.Timeout (2 minutes by default),
// also the timeout of every request, or when the caller's context ends.
// Helm's actions cannot be stopped half-way (its Kubernetes calls take no
// context), so one that is cut short goes on in the background to its end,
// rollback included, and the next action on that release waits for it; its
// release records then say how it ended. A process killed mid-action leaves
// pending records, which the next Apply recovers.
package helm
