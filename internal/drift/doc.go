// Package drift compares an object as cairn rendered it with the object as
// it lives in the cluster, and says which of the rendered fields differ.
//
// The live object is projected onto the fields the rendered object sets:
// whatever the API server or a controller added (defaults, status,
// metadata it owns) is not drift. For each rendered field:
//
//   - maps are compared key by key, recursively;
//   - lists element by element, by index; a list of another length is one
//     change at the list's pointer;
//   - numbers numerically (1 == 1.0, whatever their Go types);
//   - strings that both read as Kubernetes quantities are compared as
//     quantities ("1000m" == "1", "0.1" == "100m"), and so is a number
//     against a quantity string (cpu: 1 renders as a number, lives as "1");
//   - a rendered field that is absent from the live object is a
//     "missing-field" change, unless its value is empty (null, "", 0, false,
//     [] or {}), which the API server omits when it stores an object;
//   - everything else must be equal.
//
// Server-owned metadata (uid, resourceVersion, generation,
// creationTimestamp, managedFields, selfLink, deletionTimestamp,
// deletionGracePeriodSeconds) and the top-level status are never compared.
//
// Secret values never leave this package: for a Secret (v1), every value
// under data and stringData is "<redacted>" in the changes and in the diff
// (a live value that differs shows as "<redacted, differs>"), and the
// rendered stringData is compared with the live data it becomes.
//
// The package is pure: it reads the two objects it is given and nothing
// else. Fetching the live object is the Helm package's job.
package drift
