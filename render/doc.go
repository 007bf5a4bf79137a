// Package render turns a validated repository (Repository, Adapters) into one
// Helm release per adapter: its name, namespace, chart, values, digest and
// rendered objects, with Helm's template engine in process.
//
// It is pure: no cluster, no Git, no clock. The same inputs give the same
// releases, byte for byte, in any order of rendering. The chart is loaded
// once; releases render in parallel. A release's digest covers the chart and
// the values but not the revision stamped on its objects, so that a commit
// that does not change an adapter does not change its release.
//
// Values only ever hold references to Secrets, never their contents: the
// renderer never sees a credential, so neither can a plan or a diff.
package render
