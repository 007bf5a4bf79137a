package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	_ "modernc.org/sqlite" // to tamper with the audit store as an attacker would

	"github.com/cairn-gitops/cairn/internal/demo"
	"github.com/cairn-gitops/cairn/internal/gittest"
	"github.com/cairn-gitops/cairn/internal/testcluster"
)

// cluster is the control plane the commands that talk to Kubernetes share.
var cluster = &testcluster.Shared{Options: testcluster.Options{
	Nodes: 2, ControllerManager: true, Scheduler: true, Kwok: true,
}}

var prefixes atomic.Int64

// uniquePrefix names one test run's namespaces and instance, so that runs
// sharing a cluster (-count=2) do not see each other's releases.
func uniquePrefix(base string) string {
	return fmt.Sprintf("%s-%d-%d", base, os.Getpid()%10000, prefixes.Add(1))
}

// clusterRepo commits examples/config-repo with its namespaces renamed to
// prefix-uat and prefix-prod, and creates the Secrets it references.
func clusterRepo(t *testing.T, cl *testcluster.Cluster, prefix string) (*gittest.Repo, kubernetes.Interface) {
	t.Helper()
	g := gittest.New(t)
	g.CopyDir("../../examples/config-repo")
	b, err := os.ReadFile(filepath.Join(g.Path(), "cairn.json"))
	if err != nil {
		t.Fatal(err)
	}
	g.Write("cairn.json", strings.NewReplacer("connectivity-uat", prefix+"-uat", "connectivity-prod", prefix+"-prod").Replace(string(b)))
	bluefin := filepath.Join(g.Path(), "adapters/prod/client-bluefin-acceptor.json")
	b, err = os.ReadFile(bluefin)
	if err != nil {
		t.Fatal(err)
	}
	g.Write("adapters/prod/client-bluefin-acceptor.json", strings.Replace(string(b), `, "nodePort": 30981`, "", 1))
	g.Commit("Import the example configuration")
	kube := kubernetes.NewForConfigOrDie(cl.RESTConfig())
	if _, err := demo.SeedSecrets(context.Background(), kube, g.Path()); err != nil {
		t.Fatal(err)
	}
	return g, kube
}

// TestReconcileOnceAndDiff runs `cairn reconcile --once` and `cairn diff`
// as a user would, against the real control plane.
func TestReconcileOnceAndDiff(t *testing.T) {
	cl := cluster.Get(t)
	p := uniquePrefix("cli-once")
	g, kube := clusterRepo(t, cl, p)
	state := t.TempDir()
	args := []string{"reconcile", "--once", "--repo", g.Path(), "--kubeconfig", cl.Kubeconfig(), "--state-dir", state, "--instance", p}

	if r := cairn(t, "reconcile", "--repo", g.Path()); r.code != 2 || !strings.Contains(r.stderr, "--once") {
		t.Errorf("reconcile without --once: exit %d, stderr %q", r.code, r.stderr)
	}
	r := cairn(t, append(args, "--wait", "50s")...)
	if r.code != 0 || !strings.Contains(r.stdout, "Applied (installed 16") || !strings.Contains(r.stdout, "applied and healthy: 16") {
		t.Fatalf("reconcile --once: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	diff := []string{"diff", "--kubeconfig", cl.Kubeconfig(), "--instance", p, g.Path()}
	if r := cairn(t, diff...); r.code != 0 || !strings.Contains(r.stdout, "no differences") {
		t.Fatalf("diff after reconcile: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}

	// Someone scales a Deployment by hand: diff shows it and exits 1.
	ctx := context.Background()
	scale, err := kube.AppsV1().Deployments(p+"-prod").GetScale(ctx, "lse-fix-primary", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 3
	if _, err := kube.AppsV1().Deployments(p+"-prod").UpdateScale(ctx, "lse-fix-primary", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := cairn(t, diff...); r.code != 1 || !strings.Contains(r.stdout, "prod/lse-fix-primary: Deployment/lse-fix-primary differs") ||
		!strings.Contains(r.stdout, "+  replicas: 3") {
		t.Errorf("diff after a manual scale: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}

	// The audit trail of that run: listed, verified, exported, tamper-evident.
	checkHistory(t, state)

	// An invalid commit: exit 1, the file and line on stderr, nothing applied.
	g.Write("adapters/prod/broken.json", `{"apiVersion": "cairn.dev/v1alpha1", "kind": "Adapter"}`)
	g.Commit("Add a broken document")
	r = cairn(t, args...)
	if r.code != 1 || !strings.Contains(r.stderr, "adapters/prod/broken.json:1") || !strings.Contains(r.stdout, "Stalled") {
		t.Errorf("reconcile of an invalid revision: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

// TestServeWebhook runs `cairn serve`: ready, a signed push webhook makes it
// apply a new commit at once, a bad signature is refused, SIGTERM stops it.
func TestServeWebhook(t *testing.T) {
	cl := cluster.Get(t)
	p := uniquePrefix("cli-serve")
	g, kube := clusterRepo(t, cl, p)
	// security.json's file destination, moved where the test can read it.
	auditFile := filepath.Join(t.TempDir(), "audit", "audit.log")
	apiKey := grantAPIKey(t, g, auditFile)
	g.Commit("Audit copies to a file the test reads; an API key for the test")
	secretFile := filepath.Join(t.TempDir(), "webhook")
	if err := os.WriteFile(secretFile, []byte("s3cret-for-tests\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(cairnBin, "serve", "--repo", g.Path(), "--kubeconfig", cl.Kubeconfig(), "--state-dir", t.TempDir(),
		"--listen", addr, "--interval", "1h", "--webhook-secret-file", secretFile, "--instance", p)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	}()
	url := "http://" + addr
	waitUntil(t, 30*time.Second, "serve is ready", func() bool { return get(url+"/readyz") == 200 })
	ctx := context.Background()
	waitUntil(t, 60*time.Second, "the first revision applied", func() bool {
		d, err := kube.AppsV1().Deployments(p+"-prod").Get(ctx, "lse-fix-primary", metav1.GetOptions{})
		return err == nil && d.Annotations["cairn.dev/revision"] == g.Head()
	})

	b, _ := os.ReadFile(filepath.Join(g.Path(), "adapters/prod/lse-fix-primary.json"))
	g.Write("adapters/prod/lse-fix-primary.json", strings.Replace(string(b), `"heartbeatSeconds": 30`, `"heartbeatSeconds": 45`, 1))
	head := g.Commit("heartbeat 45s")
	body := []byte(`{"ref": "refs/heads/main", "after": "` + head + `"}`)
	if code := postWebhook(t, url, body, "wrong-secret"); code != http.StatusUnauthorized {
		t.Errorf("webhook with a bad signature: %d, want 401", code)
	}
	if code := postWebhook(t, url, body, "s3cret-for-tests"); code != http.StatusAccepted {
		t.Fatalf("signed webhook: %d, want 202", code)
	}
	waitUntil(t, 20*time.Second, "the pushed commit applied after the webhook (interval is 1h)", func() bool {
		cm, err := kube.CoreV1().ConfigMaps(p+"-prod").Get(ctx, "lse-fix-primary", metav1.GetOptions{})
		return err == nil && cm.Annotations["cairn.dev/revision"] == head
	})
	checkAPI(t, url, apiKey)
	checkChangeRequest(t, g, url, apiKey)
	// Every record is copied to the file destination of security.json.
	waitUntil(t, 10*time.Second, "the upgrade's record in the audit file", func() bool {
		b, _ := os.ReadFile(auditFile)
		return bytes.Contains(b, []byte(`"event":"adapter.upgraded"`)) && bytes.Contains(b, []byte(head))
	})
	checkAuditCopy(t, auditFile)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not stop within 15s of SIGTERM\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "s3cret-for-tests") || strings.Contains(logs.String(), "placeholder-") {
		t.Error("serve logged a secret value")
	}
}

// grantAPIKey makes an API key with cairn auth create-key and commits its
// entry to security.json with a viewer binding, the loopback range in the
// IP allowlist and the audit file destination moved to auditFile.
func grantAPIKey(t *testing.T, g *gittest.Repo, auditFile string) string {
	t.Helper()
	r := cairn(t, "auth", "create-key", "--name", "e2e-viewer", "--scopes", "status:read,adapters:read,history:read,changerequests:read", "--output", "json")
	var made struct {
		Key   string          `json:"key"`
		Entry json.RawMessage `json:"entry"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &made) != nil || !strings.HasPrefix(made.Key, "cairn_") {
		t.Fatalf("auth create-key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	sec := g.Read("security.json")
	at := strings.Index(sec, `"apiKeys"`) // the API keys' list, not another "keys"
	if at < 0 {
		t.Fatal("security.json has no apiKeys")
	}
	sec = sec[:at] + strings.Replace(sec[at:], `"keys": [`, `"keys": [`+string(made.Entry)+`,`, 1)
	for _, rep := range [][2]string{
		{"/var/log/cairn/audit.log", auditFile},
		{`"bindings": [`, `"bindings": [{"subject": {"type": "serviceAccount", "name": "e2e-viewer"}, "role": "developer"},`},
		{`"10.0.0.0/8"`, `"10.0.0.0/8", "127.0.0.0/8"`},
	} {
		if !strings.Contains(sec, rep[0]) {
			t.Fatalf("security.json has no %s", rep[0])
		}
		sec = strings.Replace(sec, rep[0], rep[1], 1)
	}
	g.Write("security.json", sec)
	return made.Key
}

// checkAPI calls the status API of a serving cairn as a viewer would.
func checkAPI(t *testing.T, url, key string) {
	t.Helper()
	call := func(method, path, bearer, body string) (int, []byte) {
		return apiCall(t, method, url+path, bearer, body)
	}
	if code, _ := call("GET", "/api/v1/adapters", "", ""); code != 401 {
		t.Errorf("adapters without a key: %d, want 401", code)
	}
	code, body := call("GET", "/api/v1/adapters", key, "")
	var list struct {
		Adapters []struct {
			Key, Health string
		} `json:"adapters"`
	}
	if code != 200 || json.Unmarshal(body, &list) != nil || len(list.Adapters) != 16 {
		t.Errorf("adapters with the viewer key: %d, %d adapters\n%s", code, len(list.Adapters), body)
	}
	if code, _ := call("POST", "/api/v1/sync", key, `{"reason": "a viewer tries"}`); code != 403 {
		t.Errorf("sync by a viewer: %d, want 403", code)
	}
	code, body = call("GET", "/api/v1/adapters/prod/lse-fix-primary/history", key, "")
	if code != 200 || !bytes.Contains(body, []byte(`"adapter.installed"`)) {
		t.Errorf("an adapter's history: %d\n%.300s", code, body)
	}
}

// apiCall makes one API request and returns the status and body.
func apiCall(t *testing.T, method, url, bearer, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// checkChangeRequest publishes a pull request's head as GitHub does
// (refs/pull/3/head) and asks the API for its plan.
func checkChangeRequest(t *testing.T, g *gittest.Repo, url, key string) {
	t.Helper()
	g.Git("checkout", "-q", "-b", "pr-3")
	g.Write("adapters/prod/lse-fix-primary.json", strings.Replace(g.Read("adapters/prod/lse-fix-primary.json"),
		`"heartbeatSeconds": 45`, `"heartbeatSeconds": 50`, 1))
	g.Git("update-ref", "refs/pull/3/head", g.Commit("heartbeat 50s"))
	g.Git("checkout", "-q", "main")
	get := func(path string) (int, []byte) { return apiCall(t, "GET", url+path, key, "") }
	code, body := get("/api/v1/changerequests/3/plan")
	if code != 200 || !bytes.Contains(body, []byte(`"valid":true`)) || !bytes.Contains(body, []byte("/spec/fix/heartbeatSeconds")) {
		t.Errorf("the plan of pull request 3: %d\n%.600s", code, body)
	}
	if code, body := get("/api/v1/changerequests/99/plan"); code != 404 {
		t.Errorf("the plan of a pull request that does not exist: %d %s", code, body)
	}
}

// checkAuditCopy reads an audit file destination: one record per line,
// numbered from 1 without a gap, each linked to the one before.
func checkAuditCopy(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	prev := ""
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i, line := range lines {
		var r struct {
			Seq      int64  `json:"seq"`
			PrevHash string `json:"prevHash"`
			Hash     string `json:"hash"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil || r.Seq != int64(i+1) || r.PrevHash != prev {
			t.Fatalf("audit file line %d: seq %d, prevHash %.12s (want %.12s): %v", i+1, r.Seq, r.PrevHash, prev, err)
		}
		prev = r.Hash
	}
	if len(lines) < 18 {
		t.Errorf("audit file holds %d records, want the 16 installs, a revision and the upgrade at least", len(lines))
	}
}

func postWebhook(t *testing.T, url string, body []byte, secret string) int {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req, err := http.NewRequest(http.MethodPost, url+"/api/v1/webhooks/github", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", fmt.Sprint(time.Now().UnixNano()))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func get(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkHistory reads the audit store a reconcile wrote under state.
func checkHistory(t *testing.T, state string) {
	t.Helper()
	st := []string{"--state-dir", state}
	r := cairn(t, append([]string{"history", "list", "--event", "adapter.installed", "--limit", "1000", "--output", "json"}, st...)...)
	var recs []struct {
		Seq   int64  `json:"seq"`
		Event string `json:"event"`
		Hash  string `json:"hash"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &recs) != nil || len(recs) != 16 {
		t.Fatalf("history list: exit %d, %d records\n%s%s", r.code, len(recs), r.stdout, r.stderr)
	}
	if r := cairn(t, append([]string{"history", "verify"}, st...)...); r.code != 0 || !strings.Contains(r.stdout, "verified: 17 records") {
		t.Errorf("history verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := cairn(t, append([]string{"history", "show", "1"}, st...)...); r.code != 0 || !strings.Contains(r.stdout, `"prevHash": ""`) {
		t.Errorf("history show 1: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = cairn(t, append([]string{"history", "export", "--format", "csv"}, st...)...)
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || len(lines) != 18 || !strings.HasPrefix(lines[0], "seq,time,event") {
		t.Errorf("history export csv: exit %d, %d lines\n%s", r.code, len(lines), r.stderr)
	}
	// Someone edits one record in the file: verify names it and exits 1.
	db, err := sql.Open("sqlite", filepath.Join(state, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE records SET body = replace(body, '"outcome":"succeeded"', '"outcome":"failed"') WHERE seq = 5`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if r := cairn(t, append([]string{"history", "verify"}, st...)...); r.code != 1 || !strings.Contains(r.stdout, "record 5") {
		t.Errorf("history verify after tampering: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
