package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairn-gitops/cairn/internal/browsertest"
	"github.com/cairn-gitops/cairn/internal/oidctest"
)

// TestPortalOnCluster opens the portal of a `cairn serve` reconciling the
// example repository on the local control plane, in headless chromium: an
// admin logs in at the local OpenID provider and reads the overview (16
// adapters), an adapter's page (its rendered objects and the history of
// its install), and the audit log; a viewer does not see "sync now".
// Screenshots go to $TEST_OUTPUT/portal-cluster or the test's folder.
func TestPortalOnCluster(t *testing.T) {
	admin := browsertest.Start(t, 2*time.Minute)
	cl := cluster.Get(t)
	p := uniquePrefix("portal")
	g, kube := clusterRepo(t, cl, p)
	addr := freeAddr(t)
	idp := oidctest.Start(t, oidctest.Options{RedirectURI: "http://" + addr + "/auth/callback"})
	sec := g.Read("security.json")
	for _, rep := range [][2]string{
		{"https://sso.acme.example/oauth2/v1/keys", idp.JWKSURI()},
		{`"issuer": "https://sso.acme.example"`, `"issuer": "` + idp.Issuer + `"`},
		{`"clientId": "cairn-portal"`, `"clientId": "` + idp.ClientID + `"`},
		{"https://cairn.acme.example/auth/callback", "http://" + addr + "/auth/callback"},
		{`"10.0.0.0/8"`, `"10.0.0.0/8", "127.0.0.0/8"`},
	} {
		sec = strings.ReplaceAll(sec, rep[0], rep[1])
	}
	g.Write("security.json", sec)
	head := g.Commit("Single sign-on through the test's provider")
	secret := filepath.Join(t.TempDir(), "oidc")
	if err := os.WriteFile(secret, []byte(idp.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cairnBin, "serve", "--repo", g.Path(), "--kubeconfig", cl.Kubeconfig(), "--state-dir", t.TempDir(),
		"--listen", addr, "--interval", "1h", "--instance", p, "--oidc-client-secret-file", secret)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://" + addr
	ctx := context.Background()
	waitUntil(t, 90*time.Second, "the revision applied", func() bool {
		d, err := kube.AppsV1().Deployments(p+"-prod").Get(ctx, "lse-fix-primary", metav1.GetOptions{})
		return err == nil && d.Annotations["cairn.dev/revision"] == head
	})
	// The security configuration (and so the login) is in force once the
	// pass that applied it has finished, a moment after the objects change.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	waitUntil(t, 30*time.Second, "the login in force", func() bool {
		resp, err := noRedirect.Get(url + "/auth/login")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusSeeOther
	})
	dir := browsertest.OutputDir(t, "portal-cluster")

	var total, objects, timeline, audit string
	browsertest.Run(t, admin, "log in as alice (admin) and read the overview",
		chromedp.Navigate(url+"/"),
		chromedp.WaitVisible(`#username`, chromedp.ByID),
		chromedp.SendKeys(`#username`, "alice", chromedp.ByID),
		chromedp.SendKeys(`#password`, "alice-password-1", chromedp.ByID),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#total-adapters`, chromedp.ByID),
		chromedp.Text(`#total-adapters`, &total, chromedp.ByID))
	if total != "16" {
		t.Errorf("the overview counts %q adapters, want 16", total)
	}
	browsertest.Shot(t, admin, dir, "overview")
	browsertest.Run(t, admin, "one adapter",
		chromedp.Navigate(url+"/adapters/prod/lse-fix-primary"),
		chromedp.WaitVisible(`ul.objects`, chromedp.ByQuery),
		chromedp.Text(`ul.objects`, &objects, chromedp.ByQuery),
		chromedp.Text(`ol.timeline`, &timeline, chromedp.ByQuery))
	if !strings.Contains(objects, "Deployment") || !strings.Contains(timeline, "adapter.installed") {
		t.Errorf("the adapter's page: objects %q; timeline %q", objects, timeline)
	}
	browsertest.Shot(t, admin, dir, "adapter")
	browsertest.Run(t, admin, "audit log",
		chromedp.Navigate(url+"/audit"),
		chromedp.WaitVisible(`ol.timeline`, chromedp.ByQuery),
		chromedp.Text(`ol.timeline`, &audit, chromedp.ByQuery))
	if !strings.Contains(audit, "revision.applied") || !strings.Contains(audit, "Single sign-on through the test's provider") {
		t.Errorf("the audit log: %.400q", audit)
	}
	browsertest.Shot(t, admin, dir, "audit")

	viewer := browsertest.Start(t, 2*time.Minute)
	var forms int
	browsertest.Run(t, viewer, "log in as carol (viewer)",
		chromedp.Navigate(url+"/"),
		chromedp.WaitVisible(`#username`, chromedp.ByID),
		chromedp.SendKeys(`#username`, "carol", chromedp.ByID),
		chromedp.SendKeys(`#password`, "carol-password-1", chromedp.ByID),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#total-adapters`, chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll('form[action="/sync"]').length`, &forms))
	if forms != 0 {
		t.Errorf("a viewer sees %d sync forms", forms)
	}
	browsertest.Shot(t, viewer, dir, "viewer-overview")
}
