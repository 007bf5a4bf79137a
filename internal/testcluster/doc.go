// Package testcluster runs a real, local Kubernetes control plane for
// integration tests and the demo.
//
// The programs are built from Go modules pinned in hack/tools by
// `make cluster-bins` into the git-ignored folder .cache/cluster-bins: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok (which plays
// the kubelet of fake nodes, driven by its own node and pod stage files,
// joined into kwok-stages.yaml).
//
// [Start] runs them on free loopback ports under a temporary folder: etcd,
// then kube-apiserver (static token authentication for an admin user in
// system:masters, RBAC and Node authorization, a generated service-account key
// pair and serving certificate), waits for /readyz, then, as asked,
// kube-controller-manager, kube-scheduler and kwok, and creates the fake Nodes
// (annotated kwok.x-k8s.io/node: fake) and waits until they are Ready. It
// writes a kubeconfig ([Cluster.Kubeconfig]) and offers a client
// configuration ([Cluster.RESTConfig]). [Cluster.StopAPIServer] and
// [Cluster.StartAPIServer] take the API server down and bring it back on the
// same address with the same data; [Cluster.Stop] stops everything and
// removes the folder.
//
// Starting takes a few seconds, so a package's integration tests share one
// cluster, started on first use through a package-level [Shared]:
//
//	var cluster = &testcluster.Shared{Options: testcluster.Options{
//		Nodes: 1, ControllerManager: true, Scheduler: true, Kwok: true,
//	}}
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		cluster.Stop(code != 0) // keeps the log file when a test failed
//		os.Exit(code)
//	}
//
//	func TestApply(t *testing.T) {
//		c := cluster.Get(t) // skips, or fails where CI is set, without binaries
//		...
//	}
//
// Where the binaries are missing, Start returns an error wrapping
// [ErrNoBinaries] that says to run `make cluster-bins`. Where the environment
// variable CI is set, a test that needs the cluster then fails; elsewhere it
// is skipped ([SkipOrFail]).
package testcluster
