package testcluster

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const (
	// AdminUser is the user name of the admin token ([Cluster.Token]), a
	// member of system:masters.
	AdminUser = "cairn-admin"
	// FakeNodeAnnotation marks the Nodes that kwok manages; its value is "fake".
	FakeNodeAnnotation = "kwok.x-k8s.io/node"
	// ServiceClusterIPRange is the range Services get their cluster IPs from.
	ServiceClusterIPRange = "10.96.0.0/16"
	// BinDirEnv names an environment variable that, when set, overrides the
	// default binary folder.
	BinDirEnv = "CAIRN_CLUSTER_BINS"

	module          = "github.com/cairn-gitops/cairn"
	defaultBinDir   = ".cache/cluster-bins"
	stageFile       = "kwok-stages.yaml"
	startTimeout    = 3 * time.Minute
	stopGrace       = 15 * time.Second
	pollInterval    = 100 * time.Millisecond
	tailLines       = 40
	startupAttempts = 3
)

// Program names, as built into the binary folder.
const (
	etcdName      = "etcd"
	apiserverName = "kube-apiserver"
	kcmName       = "kube-controller-manager"
	schedulerName = "kube-scheduler"
	kwokName      = "kwok"
)

// startOrder is the order the programs start in; Stop goes backwards.
var startOrder = []string{etcdName, apiserverName, kcmName, schedulerName, kwokName}

// ErrNoBinaries is wrapped by the error Start returns when the control plane
// programs are not in the binary folder: `make cluster-bins` builds them.
var ErrNoBinaries = errors.New("control plane binaries not found")

// errPortInUse marks a start that failed because a picked port was taken in
// the meantime; Start then tries again with other ports.
var errPortInUse = errors.New("port already in use")

// Options says what Start runs.
type Options struct {
	// BinDir holds etcd, kube-apiserver, kube-controller-manager,
	// kube-scheduler, kwok and kwok-stages.yaml. Empty means the folder named
	// by $CAIRN_CLUSTER_BINS, else .cache/cluster-bins of the cairn
	// repository, found by walking up from the working directory.
	BinDir string
	// Nodes is how many fake Nodes to create (annotated for kwok). They
	// become Ready only when Kwok is set.
	Nodes int
	// ControllerManager runs kube-controller-manager (Deployments, ReplicaSets,
	// namespaces, garbage collection, service accounts...).
	ControllerManager bool
	// Scheduler runs kube-scheduler, which binds Pods to the fake Nodes.
	Scheduler bool
	// Kwok runs kwok, which makes the fake Nodes Ready and their Pods Running.
	Kwok bool
	// Controllers are kube-controller-manager's --controllers; empty means
	// every controller but serviceaccount-token. WorkloadControllers is the
	// smaller set that Deployment health needs.
	Controllers []string
	// Log receives every program's output, one line at a time, each line
	// prefixed with the program's name. Nil discards it.
	Log io.Writer
}

// Cluster is a running control plane. Its methods are safe for concurrent
// use.
type Cluster struct {
	opts   Options
	binDir string
	dir    string
	log    *syncWriter

	etcdURL     string
	etcdPeerURL string
	apiPort     int
	kcmPort     int
	schedPort   int
	host        string
	caPEM       []byte
	adminToken  string
	kubeconfig  string
	nodeNames   []string
	apiArgs     []string
	httpsClient *http.Client

	apiMu   sync.Mutex // serializes StopAPIServer and StartAPIServer
	mu      sync.Mutex // guards procs and stopped
	procs   map[string]*process
	stopped bool
}

// Start runs a control plane as opts says and returns once it is ready: the
// API server answers /readyz, the controller manager and scheduler (when
// asked for) answer /healthz, and the fake Nodes exist (and, with kwok, are
// Ready). ctx bounds the start only (3 minutes when it has no deadline);
// the programs run until [Cluster.Stop]. On error nothing is left running.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	binDir, err := ResolveBinDir(opts.BinDir)
	if err != nil {
		return nil, err
	}
	if err := checkBinaries(binDir, opts); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	log := &syncWriter{w: opts.Log}
	for attempt := 1; ; attempt++ {
		c, err := start(ctx, opts, binDir, log)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, errPortInUse) || attempt == startupAttempts || ctx.Err() != nil {
			return nil, err
		}
		fmt.Fprintf(log, "testcluster: %v; retrying with other ports\n", err)
	}
}

// start makes one attempt at starting the control plane.
func start(ctx context.Context, opts Options, binDir string, log *syncWriter) (_ *Cluster, err error) {
	dir, err := os.MkdirTemp("", "cairn-testcluster-")
	if err != nil {
		return nil, fmt.Errorf("testcluster: %w", err)
	}
	c := &Cluster{opts: opts, binDir: binDir, dir: dir, log: log, procs: map[string]*process{}}
	defer func() {
		if err != nil {
			_ = c.Stop()
			err = fmt.Errorf("testcluster: %w", err)
		}
	}()

	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	c.etcdURL = "http://127.0.0.1:" + strconv.Itoa(ports[0])
	c.etcdPeerURL = "http://127.0.0.1:" + strconv.Itoa(ports[1])
	c.apiPort, c.kcmPort, c.schedPort = ports[2], ports[3], ports[4]
	c.host = "https://127.0.0.1:" + strconv.Itoa(c.apiPort)

	if err := c.writeFiles(); err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.caPEM)
	c.httpsClient = &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}

	if err := c.startEtcd(ctx); err != nil {
		return nil, err
	}
	if err := c.startAPIServer(ctx); err != nil {
		return nil, err
	}
	if opts.ControllerManager {
		if err := c.startControllerManager(ctx); err != nil {
			return nil, err
		}
	}
	if opts.Scheduler {
		if err := c.startScheduler(ctx); err != nil {
			return nil, err
		}
	}
	if opts.Kwok {
		if err := c.startKwok(); err != nil {
			return nil, err
		}
	}
	if err := c.createNodes(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// ResolveBinDir returns the folder that holds the control plane programs:
// dir when set, else $CAIRN_CLUSTER_BINS, else .cache/cluster-bins of the
// cairn repository that holds the working directory.
func ResolveBinDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv(BinDirEnv)
	}
	if dir != "" {
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("testcluster: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if isRepoRoot(d) {
			return filepath.Join(d, defaultBinDir), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("testcluster: %w: no go.mod of %s above %s (set Options.BinDir or $%s, and run `make cluster-bins`)",
				ErrNoBinaries, module, wd, BinDirEnv)
		}
	}
}

// isRepoRoot reports whether dir holds the go.mod of cairn's main module.
func isRepoRoot(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == module
		}
	}
	return false
}

// checkBinaries reports, wrapping ErrNoBinaries, the programs opts needs that
// binDir lacks.
func checkBinaries(binDir string, opts Options) error {
	need := []string{etcdName, apiserverName}
	if opts.ControllerManager {
		need = append(need, kcmName)
	}
	if opts.Scheduler {
		need = append(need, schedulerName)
	}
	if opts.Kwok {
		need = append(need, kwokName, stageFile)
	}
	var missing []string
	for _, name := range need {
		if _, err := os.Stat(filepath.Join(binDir, name)); err != nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("testcluster: %w: %s missing in %s: run `make cluster-bins`",
			ErrNoBinaries, strings.Join(missing, ", "), binDir)
	}
	return nil
}

// writeFiles writes the certificates, keys, token file and kubeconfigs.
func (c *Cluster) writeFiles() error {
	pki := filepath.Join(c.dir, "pki")
	if err := os.MkdirAll(pki, 0o700); err != nil {
		return err
	}
	m, err := newMaterial()
	if err != nil {
		return err
	}
	c.caPEM = m.caPEM
	files := map[string][]byte{
		"ca.crt":      m.caPEM,
		"serving.crt": m.servingCertPEM,
		"serving.key": m.servingKeyPEM,
		"sa.key":      m.saKeyPEM,
		"sa.pub":      m.saPubPEM,
	}
	// One identity per program, so the audit of who did what stays readable;
	// all are in system:masters (the controller manager runs its controllers
	// under its own identity, which needs more than its bootstrap role).
	users := []struct{ file, user string }{
		{"kubeconfig", AdminUser},
		{kcmName + ".kubeconfig", "system:kube-controller-manager"},
		{schedulerName + ".kubeconfig", "system:kube-scheduler"},
		{kwokName + ".kubeconfig", "kwok"},
	}
	var tokens strings.Builder
	for _, u := range users {
		tok, err := randomToken()
		if err != nil {
			return err
		}
		fmt.Fprintf(&tokens, "%s,%s,%s,\"system:masters\"\n", tok, u.user, u.user)
		path := filepath.Join(c.dir, u.file)
		if err := writeKubeconfig(path, c.host, c.caPEM, u.user, tok); err != nil {
			return err
		}
		if u.user == AdminUser {
			c.adminToken, c.kubeconfig = tok, path
		}
	}
	files["tokens.csv"] = []byte(tokens.String())
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(pki, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// writeKubeconfig writes a kubeconfig for one user with a bearer token.
func writeKubeconfig(path, host string, caPEM []byte, user, token string) error {
	const name = "testcluster"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: user}
	cfg.CurrentContext = name
	return clientcmd.WriteToFile(*cfg, path)
}

func (c *Cluster) pki(name string) string { return filepath.Join(c.dir, "pki", name) }

func (c *Cluster) startEtcd(ctx context.Context) error {
	p, err := c.run(etcdName, nil,
		"--name=default",
		"--data-dir="+filepath.Join(c.dir, "etcd"),
		"--listen-client-urls="+c.etcdURL,
		"--advertise-client-urls="+c.etcdURL,
		"--listen-peer-urls="+c.etcdPeerURL,
		"--initial-advertise-peer-urls="+c.etcdPeerURL,
		"--initial-cluster=default="+c.etcdPeerURL,
		"--unsafe-no-fsync",
		"--log-level=warn",
	)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	return c.waitReady(ctx, p, func(ctx context.Context) error {
		return httpOK(ctx, client, c.etcdURL+"/health")
	})
}

// startAPIServer starts kube-apiserver (the same way each time) and waits
// for /readyz.
func (c *Cluster) startAPIServer(ctx context.Context) error {
	if c.apiArgs == nil {
		c.apiArgs = []string{
			"--etcd-servers=" + c.etcdURL,
			"--bind-address=127.0.0.1",
			"--advertise-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(c.apiPort),
			"--cert-dir=" + filepath.Join(c.dir, apiserverName),
			"--tls-cert-file=" + c.pki("serving.crt"),
			"--tls-private-key-file=" + c.pki("serving.key"),
			"--token-auth-file=" + c.pki("tokens.csv"),
			"--authorization-mode=Node,RBAC",
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file=" + c.pki("sa.pub"),
			"--service-account-signing-key-file=" + c.pki("sa.key"),
			"--service-cluster-ip-range=" + ServiceClusterIPRange,
			"--profiling=false",
			// With open watches (the controller manager's, kwok's), the HTTP
			// server's graceful shutdown otherwise waits out its 60s
			// timeout; this mode drains the short requests and then gives
			// the connections 2s.
			"--shutdown-send-retry-after=true",
		}
	}
	p, err := c.run(apiserverName, nil, c.apiArgs...)
	if err != nil {
		return err
	}
	defer c.httpsClient.CloseIdleConnections()
	return c.waitReady(ctx, p, func(ctx context.Context) error {
		return httpOK(ctx, c.httpsClient, c.host+"/readyz")
	})
}

// WorkloadControllers are the controllers of kube-controller-manager that a
// Deployment (and its PodDisruptionBudget) needs to become Available, with
// garbage collection and namespace deletion: the set for benchmarks that
// should not spend the machine on endpoints, jobs and the like.
var WorkloadControllers = []string{"deployment-controller", "replicaset-controller", "disruption-controller",
	"garbage-collector-controller", "namespace-controller", "serviceaccount-controller",
	// It lifts the not-ready taint that admission puts on every new Node.
	"node-lifecycle-controller"}

func (c *Cluster) controllers() []string {
	if len(c.opts.Controllers) > 0 {
		return c.opts.Controllers
	}
	// The serviceaccount-token controller would need the signing key;
	// tokens come from the TokenRequest API anyway.
	return []string{"*", "-serviceaccount-token"}
}

func (c *Cluster) startControllerManager(ctx context.Context) error {
	p, err := c.run(kcmName, nil,
		"--kubeconfig="+filepath.Join(c.dir, kcmName+".kubeconfig"),
		"--controllers="+strings.Join(c.controllers(), ","),
		// The default client rate (20 requests a second) is a real cluster's
		// guard against a busy controller manager; here it would be the
		// bottleneck of every test that creates many pods.
		"--kube-api-qps=300", "--kube-api-burst=600",
		// kwok's heartbeats lag under load; with the default 40s grace the
		// node lifecycle controller marks the nodes NotReady and every pod
		// Ready=False for good.
		"--node-monitor-grace-period=1h",
		// Without leader election it survives an API server restart (losing
		// the lease would make it exit).
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(c.kcmPort),
		"--cert-dir="+filepath.Join(c.dir, kcmName),
		"--service-cluster-ip-range="+ServiceClusterIPRange,
		"--root-ca-file="+c.pki("ca.crt"),
	)
	if err != nil {
		return err
	}
	return c.waitHealthz(ctx, p, c.kcmPort)
}

func (c *Cluster) startScheduler(ctx context.Context) error {
	p, err := c.run(schedulerName, nil,
		"--kubeconfig="+filepath.Join(c.dir, schedulerName+".kubeconfig"),
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(c.schedPort),
		"--cert-dir="+filepath.Join(c.dir, schedulerName),
	)
	if err != nil {
		return err
	}
	return c.waitHealthz(ctx, p, c.schedPort)
}

// startKwok starts kwok; it is ready when it has made the fake Nodes Ready,
// which createNodes waits for.
func (c *Cluster) startKwok() error {
	home := filepath.Join(c.dir, kwokName)
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	_, err := c.run(kwokName, []string{"HOME=" + home},
		"--kubeconfig="+filepath.Join(c.dir, kwokName+".kubeconfig"),
		"--config="+filepath.Join(c.binDir, stageFile),
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector="+FakeNodeAnnotation+"=fake",
	)
	return err
}

// waitHealthz waits until the program answers /healthz on its secure port
// (with a certificate of its own making).
func (c *Cluster) waitHealthz(ctx context.Context, p *process, port int) error {
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	defer client.CloseIdleConnections()
	url := "https://127.0.0.1:" + strconv.Itoa(port) + "/healthz"
	return c.waitReady(ctx, p, func(ctx context.Context) error { return httpOK(ctx, client, url) })
}

// createNodes creates the fake Nodes and, when kwok runs, waits until they
// are Ready.
func (c *Cluster) createNodes(ctx context.Context) error {
	if c.opts.Nodes <= 0 {
		return nil
	}
	cs, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		return err
	}
	for i := range c.opts.Nodes {
		name := fmt.Sprintf("kwok-node-%d", i)
		if _, err := cs.CoreV1().Nodes().Create(ctx, fakeNode(name), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create node %s: %w", name, err)
		}
		c.nodeNames = append(c.nodeNames, name)
	}
	if !c.opts.Kwok {
		return nil
	}
	kwok := c.proc(kwokName)
	return c.waitReady(ctx, kwok, func(ctx context.Context) error {
		for _, name := range c.nodeNames {
			n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !nodeReady(n) {
				return fmt.Errorf("node %s is not Ready", name)
			}
		}
		return nil
	})
}

// fakeNode returns a Node for kwok to manage, with room for plenty of pods.
func fakeNode(name string) *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Annotations: map[string]string{
				FakeNodeAnnotation:             "fake",
				"node.alpha.kubernetes.io/ttl": "0",
			},
			Labels: map[string]string{
				"kubernetes.io/hostname":        name,
				"kubernetes.io/os":              "linux",
				"kubernetes.io/arch":            "amd64",
				"node-role.kubernetes.io/agent": "",
				"type":                          "kwok",
			},
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			NodeInfo: corev1.NodeSystemInfo{
				Architecture:    "amd64",
				OperatingSystem: "linux",
				KubeletVersion:  "fake",
			},
		},
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Kubeconfig returns the path of a kubeconfig for the admin user (token
// authentication, the cluster's CA embedded).
func (c *Cluster) Kubeconfig() string { return c.kubeconfig }

// RESTConfig returns a new client configuration for the admin user.
func (c *Cluster) RESTConfig() *rest.Config {
	return &rest.Config{
		Host:            c.host,
		BearerToken:     c.adminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: append([]byte(nil), c.caPEM...)},
		QPS:             100,
		Burst:           200,
	}
}

// Host returns the API server's URL (https://127.0.0.1:PORT).
func (c *Cluster) Host() string { return c.host }

// Token returns the admin user's bearer token.
func (c *Cluster) Token() string { return c.adminToken }

// CAData returns the PEM certificate of the CA that signed the API server's
// serving certificate.
func (c *Cluster) CAData() []byte { return append([]byte(nil), c.caPEM...) }

// NodeNames returns the names of the fake Nodes.
func (c *Cluster) NodeNames() []string { return append([]string(nil), c.nodeNames...) }

// Dir returns the cluster's temporary folder (removed by Stop).
func (c *Cluster) Dir() string { return c.dir }

// StopAPIServer stops kube-apiserver (SIGTERM, then SIGKILL after a grace
// period); etcd and the other programs keep running, so its data survives.
func (c *Cluster) StopAPIServer() error {
	c.apiMu.Lock()
	defer c.apiMu.Unlock()
	c.mu.Lock()
	p := c.procs[apiserverName]
	delete(c.procs, apiserverName)
	c.mu.Unlock()
	if p == nil {
		return errors.New("testcluster: kube-apiserver is not running")
	}
	if err := p.stop(); err != nil {
		return fmt.Errorf("testcluster: %w", err)
	}
	return nil
}

// StartAPIServer starts kube-apiserver again, on the same address with the
// same flags, and waits for /readyz.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	c.apiMu.Lock()
	defer c.apiMu.Unlock()
	if c.proc(apiserverName) != nil {
		return errors.New("testcluster: kube-apiserver is already running")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}
	if err := c.startAPIServer(ctx); err != nil {
		return fmt.Errorf("testcluster: %w", err)
	}
	return nil
}

// Stop stops every program, latest started first (SIGTERM, then SIGKILL
// after a grace period), and removes the temporary folder. It reports a
// program that had exited on its own. Calling it again does nothing.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	procs := c.procs
	c.procs = nil
	c.mu.Unlock()

	var errs []error
	for i := len(startOrder) - 1; i >= 0; i-- {
		if p := procs[startOrder[i]]; p != nil {
			errs = append(errs, p.stop())
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// proc returns the running program of that name, or nil.
func (c *Cluster) proc(name string) *process {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[name]
}

// run starts one program from the binary folder, its output going to the
// log.
func (c *Cluster) run(name string, env []string, args ...string) (*process, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil, errors.New("cluster is stopped")
	}
	out := &lineWriter{prefix: name + " | ", w: c.log}
	cmd := exec.Command(filepath.Join(c.binDir, name), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = 5 * time.Second
	fmt.Fprintf(c.log, "testcluster: starting %s %s\n", name, strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		out.flush()
		close(p.done)
	}()
	c.procs[name] = p
	return p, nil
}

// waitReady polls check until it succeeds, the program exits or ctx ends.
func (c *Cluster) waitReady(ctx context.Context, p *process, check func(context.Context) error) error {
	started := time.Now()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := check(cctx)
		cancel()
		if err == nil {
			fmt.Fprintf(c.log, "testcluster: %s ready after %s\n", p.name, time.Since(started).Round(time.Millisecond))
			return nil
		}
		select {
		case <-p.done:
			tail := p.out.tail()
			exitErr := fmt.Errorf("%s exited before it was ready (%v); its last output:\n%s", p.name, p.err, tail)
			if strings.Contains(tail, "address already in use") {
				return fmt.Errorf("%w: %w", errPortInUse, exitErr)
			}
			return exitErr
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last check: %v); its last output:\n%s", p.name, ctx.Err(), err, p.out.tail())
		case <-tick.C:
		}
	}
}

// httpOK does a GET and wants status 200.
func httpOK(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// freePorts returns n distinct free loopback ports. They are free when
// picked; a program that finds one taken fails to start, and Start retries.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// process is one running program.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *lineWriter
	done chan struct{} // closed once cmd.Wait returned
	err  error         // cmd.Wait's result, set before done is closed
}

// stop ends the program: SIGTERM, then SIGKILL after stopGrace. It reports a
// program that had already exited on its own.
func (p *process) stop() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s had exited on its own (%v); its last output:\n%s", p.name, p.err, p.out.tail())
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopGrace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	fmt.Fprintf(p.out.w, "testcluster: killed %s after %s\n", p.name, stopGrace)
	return nil
}

// syncWriter serializes writes from the programs' output copiers.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// lineWriter writes a program's output to the log line by line, each line
// prefixed, and keeps the last lines for error messages.
type lineWriter struct {
	prefix string
	w      io.Writer

	mu      sync.Mutex
	partial []byte
	last    []string
}

func (l *lineWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, b...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.line(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	return len(b), nil
}

// line writes one line; the caller holds l.mu.
func (l *lineWriter) line(s string) {
	_, _ = io.WriteString(l.w, l.prefix+s+"\n")
	l.last = append(l.last, s)
	if len(l.last) > tailLines {
		l.last = l.last[len(l.last)-tailLines:]
	}
}

// flush writes an unfinished last line.
func (l *lineWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.line(string(l.partial))
		l.partial = nil
	}
}

// tail returns the last lines written, indented.
func (l *lineWriter) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.last) == 0 {
		return "    (nothing)"
	}
	return "    " + strings.Join(l.last, "\n    ")
}
