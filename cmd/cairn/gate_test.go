package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairn-gitops/cairn/internal/github/githubtest"
	"github.com/cairn-gitops/cairn/internal/history"
)

// gatePolicy is the test repository's policy.json: one approval, the
// validation check green, no change window (the example's would make the
// test depend on the hour).
const gatePolicy = `{"apiVersion": "cairn.dev/v1alpha1", "kind": "ChangePolicy", "metadata": {"name": "gate-test"},
  "spec": {"approvals": {"required": 1}, "checks": {"required": ["cairn/validate"]}, "prune": {"maxDeletions": 3}}}
`

// TestApprovalGateOnCluster runs `cairn reconcile --once` with the approval
// gate against a local GitHub (githubtest, with an Enterprise base URL) on
// the real control plane: merged and approved pull requests apply and their
// records name the pull request, approvers and merger; a direct push is
// refused, says so, and changes nothing in the cluster.
func TestApprovalGateOnCluster(t *testing.T) {
	cl := cluster.Get(t)
	p := uniquePrefix("gate")
	g, kube := clusterRepo(t, cl, p)
	g.Write("policy.json", gatePolicy)
	gh := githubtest.New(t, githubtest.Options{Prefix: "/api/v3"})
	gh.AddToken("ghs_cairn_test_token", "cairn-bot")
	for login, role := range map[string]string{"alice": "admin", "bob": "write", "carol": "write", "dave": "read"} {
		gh.SetPermission("acme", "config", login, role)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("ghs_cairn_test_token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	merged := func(author, approver string) string { // the work tree's change, merged as a pull request
		sha := g.Commit("Change by " + author)
		n := gh.OpenPullRequest("acme", "config", githubtest.PullRequest{Author: author, HeadSHA: sha})
		gh.AddReview("acme", "config", n, approver, "APPROVED", sha)
		gh.AddStatus("acme", "config", sha, "cairn/validate", "success", "ci")
		gh.Merge("acme", "config", n, sha, "alice")
		return sha
	}
	state := t.TempDir()
	args := []string{"reconcile", "--once", "--repo", g.Path(), "--kubeconfig", cl.Kubeconfig(), "--state-dir", state,
		"--instance", p, "--github-repo", "acme/config", "--github-api-url", gh.URL(), "--github-token-file", tokenFile}

	first := merged("carol", "bob")
	cairn(t, args...).wantCode(t, 0)

	g.Write("adapters/prod/lse-fix-primary.json", strings.Replace(g.Read("adapters/prod/lse-fix-primary.json"),
		`"heartbeatSeconds": 30`, `"heartbeatSeconds": 40`, 1))
	second := merged("carol", "dave") // a read-only user's approval does not count
	r := cairn(t, args...)
	if r.code != 1 || !strings.Contains(r.stderr+r.stdout, "approval") {
		t.Fatalf("a pull request approved by a read-only user: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	gh.AddReview("acme", "config", 2, "bob", "APPROVED", second) // a writer approves after the merge
	cairn(t, args...).wantCode(t, 0)
	ctx := context.Background()
	cm, err := kube.CoreV1().ConfigMaps(p+"-prod").Get(ctx, "lse-fix-primary", metav1.GetOptions{})
	if err != nil || cm.Annotations["cairn.dev/revision"] != second {
		t.Fatalf("the approved change is not live: %v %v", err, cm.Annotations)
	}

	g.Write("adapters/prod/lse-fix-primary.json", strings.Replace(g.Read("adapters/prod/lse-fix-primary.json"),
		`"heartbeatSeconds": 40`, `"heartbeatSeconds": 50`, 1))
	pushed := g.Commit("Pushed straight to main")
	r = cairn(t, args...)
	if r.code != 1 || !strings.Contains(r.stderr+r.stdout, "direct push") {
		t.Fatalf("a direct push: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	cm, err = kube.CoreV1().ConfigMaps(p+"-prod").Get(ctx, "lse-fix-primary", metav1.GetOptions{})
	if err != nil || cm.Annotations["cairn.dev/revision"] != second {
		t.Errorf("after a refused direct push the live revision is %v (%v), want %s", cm.Annotations["cairn.dev/revision"], err, second[:12])
	}

	recs := exportRecords(t, state)
	var refused, applied int
	for _, rec := range recs {
		switch {
		case rec.Event == history.RevisionRefused && rec.Revision == pushed:
			refused++
		case rec.Event == history.AdapterUpgraded && rec.Revision == second:
			applied++
			if len(rec.Commits) != 1 || rec.Commits[0].PullRequest != 2 || strings.Join(rec.Commits[0].Approvers, ",") != "bob" ||
				rec.Commits[0].Merger != "alice" {
				t.Errorf("the upgrade's record does not name pull request 2, bob and alice: %+v", rec.Commits)
			}
		case rec.Event == history.RevisionApplied && rec.Revision == first && rec.Outcome == history.Succeeded:
			if len(rec.Commits) == 0 || rec.Commits[0].PullRequest != 1 {
				t.Errorf("the first revision's record: %+v", rec.Commits)
			}
		}
	}
	if refused != 1 || applied != 1 {
		t.Errorf("%d refusals of the direct push and %d upgrades by pull request 2 recorded, want 1 and 1", refused, applied)
	}
	for _, req := range gh.Requests() {
		if strings.Contains(req.Path, "ghs_") || strings.Contains(r.stderr, "ghs_cairn_test_token") {
			t.Fatal("the token leaked")
		}
	}
}
