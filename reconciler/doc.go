// Package reconciler applies a Git branch of cairn manifests to Kubernetes.
//
// A reconcile is a list of named phases (fetch, load, validate, render,
// gate, apply) run in order over one revision; the first phase that fails
// ends it, and one function, finish, writes the verdict: the status the API
// reads and the audit records. A revision applies as a unit: when any
// document is invalid, or the gate refuses it, nothing of it is applied and
// the releases of the previous revision stay live.
//
// Apply touches only the releases whose digest changed (install, upgrade),
// and uninstalls the releases of adapters that left the repository. Before
// installing it checks that every referenced Secret exists with the named
// keys; an adapter whose Secret is missing waits, the others go ahead. It
// never prunes on an empty render and never uninstalls more adapters in one
// revision than the change policy allows.
//
// Errors are classified where they are born: Stalled (retrying the same
// revision cannot help; a new commit is needed), Waiting (retry after a
// fixed delay) and anything else transient (retried with exponential
// backoff). Run is the controller loop: it polls the branch with jitter,
// reconciles at once on Trigger (webhooks), checks drift on a slower
// interval, and refreshes health.
//
// The package talks to Git, Helm and the audit store only through the small
// interfaces Source, Applier and history.Recorder, which it owns.
package reconciler
