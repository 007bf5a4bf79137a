// Package health tells whether a Kubernetes object has reached the state its
// spec asks for, with the six codes of Argo CD's gitops-engine: Healthy,
// Progressing, Degraded, Suspended, Missing and Unknown.
//
// It is pure: it reads the object it is given (typed, or
// *unstructured.Unstructured as a dynamic client returns it) and never calls
// the API server, waits or reads the clock. Where a status can only be
// reached with time (a rollout), the caller polls; a Deployment that can no
// longer make progress says so itself (ProgressDeadlineExceeded) and is then
// Degraded.
//
// The rules, per kind:
//
//   - Deployment: Healthy when the controller has seen the latest spec
//     (observedGeneration >= generation), every replica is updated and
//     available (updatedReplicas == replicas == availableReplicas, counting
//     the desired spec.replicas) and the Available condition is True;
//     Degraded when the Progressing condition says ProgressDeadlineExceeded
//     or a ReplicaFailure condition is True; Progressing otherwise. A
//     Deployment scaled to zero replicas is Suspended: cairn scales a
//     suspended adapter to zero and keeps its objects, and a reviewer must
//     see that no session runs rather than a reassuring Healthy. A paused
//     Deployment (spec.paused) is Suspended too.
//   - StatefulSet: Healthy when observed, every replica ready and on the
//     update revision (for a RollingUpdate strategy); zero replicas is
//     Suspended.
//   - DaemonSet: Healthy when observed and every scheduled pod is updated and
//     available.
//   - PodDisruptionBudget: Healthy when currentHealthy >= desiredHealthy,
//     Degraded otherwise (voluntary disruptions are blocked).
//   - Service of type LoadBalancer: Healthy, with a message saying whether an
//     ingress address was assigned. A local control plane (kwok) and many
//     on-premise clusters have no load-balancer controller; waiting for an
//     address there would keep every acceptor Progressing for good. The
//     NetworkPolicy, not the load balancer, is what admits counterparties.
//   - Anything else is Healthy when it exists.
//
// A nil object is Missing. An object whose status cannot be read (a field of
// the wrong type) is Unknown. [Aggregate] reduces results to the worst, and
// names the worst object in its message.
package health
