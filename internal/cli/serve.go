package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-gitops/cairn/internal/api"
	"github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth"
	"github.com/cairn-gitops/cairn/internal/auth/oidclogin"
	"github.com/cairn-gitops/cairn/internal/changereq"
	"github.com/cairn-gitops/cairn/internal/github"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/history/sink"
	"github.com/cairn-gitops/cairn/internal/leader"
	"github.com/cairn-gitops/cairn/internal/metrics"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/internal/validate"
	"github.com/cairn-gitops/cairn/reconciler"
)

type serveFlags struct {
	source            sourceFlags
	cluster           clusterFlags
	history           historyFlags
	github            githubFlags
	listen            string
	interval, drift   time.Duration
	driftMode         string
	leaderElect       bool
	leaseNS, lease    string
	webhookSecretFile string
	auditSecretsDir   string
	oidcSecretFile    string
	tls               api.TLSFiles
	log               string
}

func newServeCmd(s Streams) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve --repo URL [--branch B]",
		Short: "Run the controller: follow the branch and keep the cluster on its head",
		Long: `serve polls the branch (with jitter), reconciles on every new head and on
GitHub push webhooks, checks drift on a slower interval, and serves /healthz,
/readyz and the webhook receiver on --listen. With --leader-elect, replicas
share a Lease and only the holder applies.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd.Context(), &f, s) },
	}
	f.source.register(cmd.Flags())
	f.cluster.register(cmd.Flags())
	f.history.register(cmd.Flags(), &f.source.stateDir)
	f.github.register(cmd.Flags())
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", ":8080", "address of the HTTP server")
	fl.DurationVar(&f.interval, "interval", time.Minute, "how often to poll the branch")
	fl.DurationVar(&f.drift, "drift-interval", 10*time.Minute, "how often to compare live objects with the render (0 turns it off)")
	fl.StringVar(&f.driftMode, "drift", "warn", "what to do about drift: warn or correct")
	fl.BoolVar(&f.leaderElect, "leader-elect", false, "hold a Lease so that only one replica applies")
	fl.StringVar(&f.leaseNS, "lease-namespace", "", "namespace of the Lease (default $POD_NAMESPACE, else default)")
	fl.StringVar(&f.lease, "lease-name", "cairn", "name of the Lease")
	fl.StringVar(&f.webhookSecretFile, "webhook-secret-file", "", "file holding the GitHub webhook secret (webhooks are refused without it)")
	fl.StringVar(&f.auditSecretsDir, "audit-secrets-dir", "",
		"folder of the Secrets that security.json's HTTP audit destinations name (DIR/SECRET/KEY holds header KEY)")
	fl.StringVar(&f.oidcSecretFile, "oidc-client-secret-file", "", "file holding the OpenID client secret of security.json's sso.oidc (browser login)")
	fl.StringVar(&f.tls.CertFile, "tls-cert-file", "", "serve HTTPS with this certificate (PEM; read again when it changes)")
	fl.StringVar(&f.tls.KeyFile, "tls-key-file", "", "the certificate's private key (PEM)")
	fl.StringVar(&f.tls.ClientCAFile, "client-ca-file", "", "verify client certificates against this CA bundle (mutual TLS; security.json's mtls says whether they are required)")
	fl.StringVar(&f.log, "log-level", "info", "log level: debug, info, warn, error")
	return cmd
}

func runServe(ctx context.Context, f *serveFlags, s Streams) error {
	tuneController()
	log, err := newLogger(s.Err, f.log)
	if err != nil {
		return err
	}
	mode, err := reconciler.ParseDriftMode(f.driftMode)
	if err != nil {
		return err
	}
	secret, err := readSecretFile(f.webhookSecretFile)
	if err != nil {
		return err
	}
	m := metrics.New()
	w, err := wire(ctx, &f.source, &f.cluster, &f.history, &f.github, log, m)
	if err != nil {
		return err
	}
	defer w.Close()
	retain, err := retainer(w, &f.history, log)
	if err != nil {
		return err
	}
	copies, err := forwarder(w, f, s, log)
	if err != nil {
		return err
	}
	var ready atomic.Bool
	handler, err := apiHandler(ctx, w, f, secret, ready.Load, m, log)
	if err != nil {
		return err
	}
	go handler.Run(ctx)
	go gauges(ctx, w, copies, m)
	f.tls.Metrics = m
	srv, err := startHTTP(ctx, f.listen, handler, &f.tls, log)
	if err != nil {
		return err
	}
	defer shutdown(srv)
	loop := reconciler.LoopOptions{Interval: f.interval, DriftInterval: driftInterval(f.drift), DriftMode: mode}
	work := func(ctx context.Context) { // the leader's: it applies, and prunes the trail
		go retain.Run(ctx, retentionInterval)
		go func() {
			if err := copies.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("audit destinations stopped", "error", err)
			}
		}()
		if err := w.rec.Run(ctx, loop); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("reconcile loop stopped", "error", err)
		}
	}
	if !f.leaderElect {
		ready.Store(true)
		w.rec.Status().Update(func(s *status.Snapshot) { s.Leader = true })
		work(ctx)
		return nil
	}
	ready.Store(true) // a standby replica is ready: it serves, it does not apply
	return runElected(ctx, f, w, log, work)
}

// apiHandler is the HTTP API: authentication and RBAC from the applied
// revision's security.json (none before the first revision applies: every
// API route answers 401 until then), access records to the audit store.
func apiHandler(ctx context.Context, w *wiring, f *serveFlags, secret []byte, ready func() bool, m *metrics.Metrics, log *slog.Logger) (*api.Handler, error) {
	authn, err := auth.New(nil, auth.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	clientSecret, err := readSecretFile(f.oidcSecretFile)
	if err != nil {
		return nil, fmt.Errorf("OpenID client secret: %w", err)
	}
	var h *api.Handler
	login, err := oidclogin.New(nil, authn, oidclogin.Options{ClientSecret: clientSecret, Logger: log,
		OnEvent: func(ctx context.Context, ev oidclogin.Event) { h.OnLogin(ctx, ev) }})
	if err != nil {
		return nil, err
	}
	plan := changeRequests(w, log)
	h = api.New(api.Options{Branch: f.source.branch, Trigger: w.rec.Trigger, Ready: ready, WebhookSecret: secret,
		Logger: log, Auth: authn, Status: w.rec.Status(), History: w.store, Rendered: w.rec.Rendered, Metrics: m,
		Login: login, ChangeRequest: plan, PullRequest: pullRequestChecks(ctx, &f.github, plan, log),
		Sync: func() error {
			if !w.rec.Status().Snapshot().Leader {
				return errors.New("this replica is a standby; ask the leader")
			}
			go func() {
				if err := w.rec.Force(ctx); err != nil {
					log.WarnContext(ctx, "manual sync", "error", err)
				}
			}()
			return nil
		}})
	w.onApplied = append(w.onApplied, func(ctx context.Context, rev string, res *validate.Result) {
		if err := errors.Join(authn.Reload(res.Security), h.Reload(res.Security), login.Reload(res.Security)); err != nil {
			log.ErrorContext(ctx, "security configuration not reloaded; the previous one stays in force", "revision", rev, "error", err)
		}
	})
	return h, nil
}

// changePlanner plans pull request n against the branch.
type changePlanner func(ctx context.Context, n int) (changereq.Result, error)

// changeRequests plans pull requests against the branch head for the API
// and the pull request checks:
// it fetches refs/pull/N/head (the host publishes it) into the clone,
// validates it and compares it with the branch, remembering the last plans
// by their two commits.
func changeRequests(w *wiring, log *slog.Logger) changePlanner {
	var mu sync.Mutex
	cache := map[[2]string]changereq.Result{}
	var v *validate.Validator
	return func(ctx context.Context, n int) (changereq.Result, error) {
		head, err := w.remote.FetchPullRequest(ctx, n)
		if err != nil {
			return changereq.Result{}, err
		}
		base, err := w.remote.Repo().Resolve("origin/" + w.branch)
		if err != nil {
			return changereq.Result{}, err
		}
		mu.Lock()
		defer mu.Unlock()
		if res, ok := cache[[2]string{base.Hash, head.Hash}]; ok {
			return res, nil
		}
		if v == nil {
			if v, err = validate.New(validate.Options{}); err != nil {
				return changereq.Result{}, err
			}
		}
		res, err := changereq.Plan(ctx, w.remote.Repo(), v, base, head)
		if err != nil {
			return res, err
		}
		if len(cache) > 64 {
			clear(cache)
		}
		cache[[2]string{base.Hash, head.Hash}] = res
		log.InfoContext(ctx, "planned a change request", "number", n, "head", head.Short(), "valid", res.Valid)
		return res, nil
	}
}

// pullRequestChecks answers pull_request webhooks as cairn pr check does:
// the head fetched from refs/pull/N/head, validated, planned against the
// branch, and the comment, statuses and label updated; nil without GitHub.
func pullRequestChecks(ctx context.Context, gf *githubFlags, plan changePlanner, log *slog.Logger) func([]byte) {
	if !gf.on() {
		return nil
	}
	client, err := gf.client(log)
	if err != nil {
		log.Error("pull request checks off", "error", err)
		return nil
	}
	var mu sync.Mutex // one check at a time
	return func(payload []byte) {
		ev, err := github.ParsePullRequestEvent(payload)
		if d := github.Decide(ev); err != nil || !d.Check {
			log.InfoContext(ctx, "pull request not checked", "reason", d.Reason, "error", err)
			return
		}
		go func() {
			mu.Lock()
			defer mu.Unlock()
			if err := checkPullRequest(ctx, gf, plan, client, ev.PullRequest); err != nil {
				log.WarnContext(ctx, "pull request check", "number", ev.PullRequest.Number, "error", err)
			}
		}()
	}
}

func checkPullRequest(ctx context.Context, gf *githubFlags, plan changePlanner, client *github.Client, pr github.PullRequest) error {
	res, err := plan(ctx, pr.Number)
	if err != nil {
		return err
	}
	pr.HeadSHA = res.Head.Hash
	_, err = github.PRCheck(ctx, client, prReport(gf.owner, gf.name, pr, res, ""))
	return err
}

// gauges keeps the metrics that are levels rather than events up to date:
// adapters by health, and each audit destination's lag and failures.
func gauges(ctx context.Context, w *wiring, copies *sink.Forwarder, m *metrics.Metrics) {
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		counts := map[string]int{}
		for _, a := range w.rec.Status().Snapshot().Adapters {
			counts[a.Health]++
		}
		m.AdaptersByHealth(counts)
		var names []string
		for _, st := range copies.Stats() {
			m.AuditDestination(st.Name, st.Lag, st.Failures)
			names = append(names, st.Name)
		}
		m.RetainAuditDestinations(names...)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// retentionInterval is how often the audit trail is pruned to the
// retention period of the applied security configuration.
const retentionInterval = 6 * time.Hour

// retainer prunes the audit store to the applied revision's
// audit.retention, under checkpoints signed with the history flags' key.
func retainer(w *wiring, hf *historyFlags, log *slog.Logger) (*history.Retainer, error) {
	signer, err := hf.signer()
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	r := &history.Retainer{Store: w.store, Signer: signer, Logger: log, Actor: "cairn-retention@" + host}
	w.onApplied = append(w.onApplied, func(ctx context.Context, rev string, res *validate.Result) {
		var period time.Duration
		if sec := res.Security; sec != nil && sec.Spec.Audit.On() {
			p, err := history.ParseRetention(sec.Spec.Audit.Retention)
			if err != nil {
				log.ErrorContext(ctx, "audit retention not changed", "revision", rev, "error", err)
				return
			}
			period = p
		}
		r.SetPeriod(period)
	})
	return r, nil
}

// forwarder copies the audit trail to the destinations of the applied
// revision's security.json (a file, stdout, an HTTP endpoint), tailing the
// store so that no destination can hold the reconciler back.
func forwarder(w *wiring, f *serveFlags, s Streams, log *slog.Logger) (*sink.Forwarder, error) {
	dir, err := stateDir(f.source.stateDir)
	if err != nil {
		return nil, err
	}
	fw, err := sink.New(sink.Options{Store: w.store, StateDir: dir, SecretDir: f.auditSecretsDir, Stdout: s.Out, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("audit destinations: %w", err)
	}
	w.onApplied = append(w.onApplied, func(ctx context.Context, rev string, res *validate.Result) {
		var dests []v1alpha1.AuditDestination
		if sec := res.Security; sec != nil && sec.Spec.Audit.On() {
			dests = sec.Spec.Audit.Destinations
		}
		if err := fw.Configure(ctx, dests); err != nil {
			log.ErrorContext(ctx, "audit destinations not changed", "revision", rev, "error", err)
		}
	})
	return fw, nil
}

// runElected runs work while this replica holds the Lease.
func runElected(ctx context.Context, f *serveFlags, w *wiring, log *slog.Logger, work func(context.Context)) error {
	ns := f.leaseNS
	if ns == "" {
		ns = os.Getenv("POD_NAMESPACE")
	}
	if ns == "" {
		ns = "default"
	}
	id, _ := os.Hostname()
	id = fmt.Sprintf("%s-%d", id, os.Getpid())
	err := leader.Run(ctx, leader.Options{Config: w.rest, Namespace: ns, Name: f.lease, Identity: id, Logger: log,
		OnChange: func(leading bool) { w.rec.Status().Update(func(s *status.Snapshot) { s.Leader = leading }) },
	}, work)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func driftInterval(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

// startHTTP listens on addr and serves h until shutdown, over TLS when
// certificate files are given.
func startHTTP(ctx context.Context, addr string, h http.Handler, tf *api.TLSFiles, log *slog.Logger) (*http.Server, error) {
	if (tf.CertFile == "") != (tf.KeyFile == "") || tf.ClientCAFile != "" && tf.CertFile == "" {
		return nil, errors.New("--tls-cert-file and --tls-key-file go together, and --client-ca-file needs them")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	if tf.CertFile != "" {
		cfg, err := tf.Config()
		if err != nil {
			ln.Close()
			return nil, err
		}
		ln = tls.NewListener(ln, cfg)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	log.Info("serving", "address", ln.Addr().String())
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "error", err)
		}
	}()
	return srv, nil
}

func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

// readSecretFile reads a secret from a file; "" gives nothing.
func readSecretFile(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	return []byte(strings.TrimRight(string(b), "\r\n")), nil
}
