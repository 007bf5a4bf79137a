package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
)

// maxWebhookBody bounds a webhook's body; GitHub caps payloads at 25 MB,
// but a push event to a config repository is far smaller.
const maxWebhookBody = 5 << 20

// Options configure the handler.
type Options struct {
	// Branch is the branch followed; pushes to other branches are ignored.
	Branch string
	// Trigger asks the reconciler for a reconcile now.
	Trigger func()
	// Ready reports whether the process is ready to serve (it has fetched
	// once, or it is a standby replica).
	Ready func() bool
	// WebhookSecret verifies GitHub's signatures; empty refuses webhooks.
	WebhookSecret []byte
	Logger        *slog.Logger
}

// Handler serves the endpoints.
type Handler struct {
	opts Options
	mux  *http.ServeMux

	mu   sync.Mutex
	seen map[string]bool // delivery ids, bounded
	ring []string
}

// New returns the handler.
func New(opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &Handler{opts: opts, mux: http.NewServeMux(), seen: map[string]bool{}}
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	h.mux.HandleFunc("GET /readyz", h.readyz)
	h.mux.HandleFunc("POST /api/v1/webhooks/github", h.webhook)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) readyz(w http.ResponseWriter, _ *http.Request) {
	if h.opts.Ready != nil && !h.opts.Ready() {
		writeError(w, http.StatusServiceUnavailable, "not ready", "the branch has not been fetched yet")
		return
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
}

// webhook verifies, deduplicates and acts on a GitHub delivery.
func (h *Handler) webhook(w http.ResponseWriter, r *http.Request) {
	if len(h.opts.WebhookSecret) == 0 {
		writeError(w, http.StatusForbidden, "webhooks disabled", "no webhook secret is configured")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body too large", "webhook bodies are limited to 5 MiB")
		return
	}
	if !validSignature(h.opts.WebhookSecret, body, r.Header.Get("X-Hub-Signature-256")) {
		h.opts.Logger.Warn("webhook: bad or missing signature", "remote", r.RemoteAddr)
		writeError(w, http.StatusUnauthorized, "bad signature", "X-Hub-Signature-256 is missing or does not match")
		return
	}
	if id := r.Header.Get("X-GitHub-Delivery"); id != "" && h.repeated(id) {
		writeJSON(w, http.StatusOK, map[string]string{"result": "duplicate delivery ignored"})
		return
	}
	switch r.Header.Get("X-GitHub-Event") {
	case "ping":
		writeJSON(w, http.StatusOK, map[string]string{"result": "pong"})
	case "push":
		h.push(w, body)
	default:
		writeJSON(w, http.StatusAccepted, map[string]string{"result": "event ignored"})
	}
}

func (h *Handler) push(w http.ResponseWriter, body []byte) {
	var ev struct {
		Ref string `json:"ref"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		writeError(w, http.StatusBadRequest, "malformed JSON", "the push event could not be parsed")
		return
	}
	if ev.Ref != "refs/heads/"+h.opts.Branch {
		writeJSON(w, http.StatusAccepted, map[string]string{"result": "push to another branch ignored"})
		return
	}
	h.opts.Trigger()
	writeJSON(w, http.StatusAccepted, map[string]string{"result": "reconcile triggered"})
}

// validSignature checks "sha256=<hex>" against the body's HMAC.
func validSignature(secret, body []byte, header string) bool {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// repeated notes a delivery id and reports whether it was seen before.
func (h *Handler) repeated(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen[id] {
		return true
	}
	h.seen[id] = true
	h.ring = append(h.ring, id)
	if len(h.ring) > 4096 {
		delete(h.seen, h.ring[0])
		h.ring = h.ring[1:]
	}
	return false
}

// apiError is the stable shape of every error answer.
type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, code int, short, msg string) {
	writeJSON(w, code, apiError{Error: short, Message: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to do

}
