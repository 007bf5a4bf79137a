package githubtest

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configures a Server.
type Options struct {
	// Prefix mounts the API under a path: "/api/v3" as GitHub Enterprise
	// Server does, "" at the root as api.github.com does.
	Prefix string
	// MaxPerPage caps the page size of lists (default 100, GitHub's).
	MaxPerPage int
}

// Request is one recorded call.
type Request struct {
	Method string
	// Path is the path as sent, with the prefix.
	Path     string
	RawQuery string
	// Login is the caller a credential identified ("" for none), Token
	// the credential itself (a token, or "jwt" for an App's JWT).
	Login, Token string
	// Conditional is true when the request carried If-None-Match.
	Conditional bool
	Status      int
}

// Fault makes the server answer matching requests with a rate-limit error.
type Fault struct {
	// Method and Path select requests ("" matches any); Path is without
	// the prefix, such as /repos/acme/config/pulls/1.
	Method, Path string
	// Status is 403 (default) or 429.
	Status int
	// RetryAfter is the Retry-After header's value ("" sends none).
	RetryAfter string
	// Primary answers as the exhausted hourly quota: X-RateLimit-Remaining
	// 0 and X-RateLimit-Reset at Reset.
	Primary bool
	Reset   time.Time
	// Times is how many requests it answers (default 1).
	Times int
}

// App is a GitHub App the server issues installation tokens to.
type App struct {
	ID             int64
	InstallationID int64
	PublicKey      *rsa.PublicKey
	// TokenTTL is how long an issued token lives (default one hour).
	TokenTTL time.Duration
	// Login is the bot login its tokens act as (default cairn[bot]).
	Login string
}

// Server is the fake API. Its methods are safe for concurrent use.
type Server struct {
	srv  *httptest.Server
	opts Options

	mu       sync.Mutex
	mux      *http.ServeMux
	tokens   map[string]token
	app      *App
	issued   int
	requests []Request
	faults   []Fault
	quota    quota
	clock    int // seconds past epoch, for timestamps
	nextID   int64
	userIDs  map[string]int64
	repos    map[string]*repo
	teams    map[string]map[string]string // org/team -> login -> state
}

type token struct {
	login   string
	expires time.Time // zero: never
}

type quota struct {
	remaining int
	reset     time.Time
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// New starts a server; it stops when the test ends.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.MaxPerPage <= 0 {
		opts.MaxPerPage = 100
	}
	opts.Prefix = strings.TrimSuffix(opts.Prefix, "/")
	s := &Server{opts: opts, tokens: map[string]token{}, userIDs: map[string]int64{},
		repos: map[string]*repo{}, teams: map[string]map[string]string{}, nextID: 1000,
		quota: quota{remaining: 5000, reset: time.Now().Add(time.Hour).Truncate(time.Second)}}
	s.mux = s.routes()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the API root to configure a client with, ending in a slash.
func (s *Server) URL() string { return s.srv.URL + s.opts.Prefix + "/" }

// AddToken accepts token as login's credential.
func (s *Server) AddToken(tok, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tok] = token{login: login}
}

// EnableApp lets a GitHub App fetch installation tokens.
func (s *Server) EnableApp(a App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.TokenTTL == 0 {
		a.TokenTTL = time.Hour
	}
	if a.Login == "" {
		a.Login = "cairn[bot]"
	}
	s.app = &a
}

// IssuedTokens is how many installation tokens the server issued.
func (s *Server) IssuedTokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// Inject queues a rate-limit fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Status == 0 {
		f.Status = http.StatusForbidden
	}
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, f)
}

// SetQuota sets the X-RateLimit-Remaining and X-RateLimit-Reset of the
// next answers.
func (s *Server) SetQuota(remaining int, reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quota = quota{remaining: remaining, reset: reset}
}

// Requests returns the calls so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetRequests forgets the recorded calls.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// serve strips the prefix, records the call, applies faults and
// authentication, and dispatches. Calls are served one at a time.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Conditional: r.Header.Get("If-None-Match") != ""}
	sw := &statusWriter{ResponseWriter: w}
	defer func() { rec.Status = sw.status; s.requests = append(s.requests, rec) }()
	path, ok := strings.CutPrefix(r.URL.Path, s.opts.Prefix+"/")
	if !ok {
		writeError(sw, http.StatusNotFound, "Not Found")
		return
	}
	r.URL.Path = "/" + path
	r.URL.RawPath = ""
	if s.fault(sw, r) {
		return
	}
	if !s.authenticate(r, &rec) {
		writeError(sw, http.StatusUnauthorized, "Bad credentials")
		return
	}
	s.mux.ServeHTTP(sw, r.WithContext(withCaller(r.Context(), rec.Login)))
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) fault(w http.ResponseWriter, r *http.Request) bool {
	for i := range s.faults {
		f := &s.faults[i]
		if f.Times == 0 || f.Method != "" && f.Method != r.Method || f.Path != "" && f.Path != r.URL.Path {
			continue
		}
		f.Times--
		h := w.Header()
		h.Set("X-RateLimit-Limit", "5000")
		h.Set("X-RateLimit-Resource", "core")
		msg := "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
		if f.Primary {
			msg = "API rate limit exceeded for user ID 1."
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Used", "5000")
			h.Set("X-RateLimit-Reset", strconv.FormatInt(f.Reset.Unix(), 10))
		} else {
			s.rateHeaders(h)
		}
		if f.RetryAfter != "" {
			h.Set("Retry-After", f.RetryAfter)
		}
		writeError(w, f.Status, msg)
		return true
	}
	return false
}

func (s *Server) rateHeaders(h http.Header) {
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", strconv.Itoa(s.quota.remaining))
	h.Set("X-RateLimit-Used", strconv.Itoa(5000-s.quota.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.quota.reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

func (s *Server) authenticate(r *http.Request, rec *Request) bool {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok {
		return false
	}
	if strings.EqualFold(scheme, "bearer") && strings.Count(cred, ".") == 2 {
		rec.Token, rec.Login = "jwt", "app"
		return s.app != nil && s.verifyJWT(cred) == nil &&
			r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/app/")
	}
	if !strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token") {
		return false
	}
	t, known := s.tokens[cred]
	rec.Token = cred
	if !known || !t.expires.IsZero() && time.Now().After(t.expires) {
		return false
	}
	rec.Login = t.login
	return true
}

// writeJSON answers a GET with an ETag and 304 for a matching
// If-None-Match, and any call with the rate-limit headers.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	if r.Method == http.MethodGet {
		sum := sha256.Sum256(body)
		etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
		h.Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			s.rateHeaders(h) // a 304 costs nothing, as on GitHub
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if s.quota.remaining > 0 {
		s.quota.remaining--
	}
	s.rateHeaders(h)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"message": msg, "documentation_url": "https://docs.github.com/rest",
	})
}

// page answers a list with GitHub's page and per_page parameters and a
// Link header; wrap, if set, puts the page into an envelope.
func (s *Server) page(w http.ResponseWriter, r *http.Request, items []any, wrap func([]any) any) {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	per = min(per, s.opts.MaxPerPage)
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	n = max(n, 1)
	last := max((len(items)+per-1)/per, 1)
	from, to := min((n-1)*per, len(items)), min(n*per, len(items))
	if links := s.links(r, n, last, per); links != "" {
		w.Header().Set("Link", links)
	}
	pageItems := append([]any{}, items[from:to]...)
	if wrap != nil {
		s.writeJSON(w, r, http.StatusOK, wrap(pageItems))
		return
	}
	s.writeJSON(w, r, http.StatusOK, pageItems)
}

func (s *Server) links(r *http.Request, n, last, per int) string {
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(per))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, s.base(r), strings.TrimPrefix(r.URL.Path, "/"), q.Encode(), rel)
	}
	var parts []string
	if n < last {
		parts = append(parts, link(n+1, "next"), link(last, "last"))
	}
	if n > 1 {
		parts = append(parts, link(1, "first"), link(n-1, "prev"))
	}
	return strings.Join(parts, ", ")
}

// base is the API root as the caller reached it.
func (s *Server) base(r *http.Request) string {
	return "http://" + r.Host + s.opts.Prefix + "/"
}

// now is the server's clock for timestamps: a second later at each call.
func (s *Server) now() time.Time {
	s.clock++
	return epoch.Add(time.Duration(s.clock) * time.Second)
}

func (s *Server) id() int64 {
	s.nextID++
	return s.nextID
}
