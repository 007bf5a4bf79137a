package portal

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/cairn-gitops/cairn/internal/auth/identity"
	"github.com/cairn-gitops/cairn/internal/auth/mask"
	"github.com/cairn-gitops/cairn/internal/auth/oidclogin"
	"github.com/cairn-gitops/cairn/internal/auth/rbac"
	"github.com/cairn-gitops/cairn/internal/history"
	"github.com/cairn-gitops/cairn/internal/status"
	"github.com/cairn-gitops/cairn/render"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// contentSecurityPolicy lets a page load only the portal's own CSS and
// script, post forms only to cairn, and be framed by nobody.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// CSRF is what the portal needs of the browser login (*oidclogin.Handler):
// the token of the request's session for its forms, and the check of a
// posted one.
type CSRF interface {
	RequestCSRFToken(r *http.Request) (string, bool)
	CheckCSRF(r *http.Request) bool
}

var _ CSRF = (*oidclogin.Handler)(nil)

// Options are the portal's sources; Status is required.
type Options struct {
	// Status is the reconciler's status.
	Status *status.Store
	// History is the audit store; nil: history and audit parts say there
	// is none.
	History history.Store
	// Rendered returns an adapter's release as last rendered; nil: none.
	Rendered func(key string) (render.Release, bool)
	// CSRF gives and checks the forms' tokens; nil: no form can be posted.
	CSRF   CSRF
	Logger *slog.Logger
}

// Caller is the request's caller as the API server's middleware admitted
// it. The page decides what to show with Authorizer and masks it with
// Masker.
type Caller struct {
	Who        identity.Principal
	Authorizer *rbac.Authorizer
	Masker     *mask.Masker
	// RequestID is the request's id, shown on error pages.
	RequestID string
	// Sync asks for a manual sync of everything for this caller, recorded
	// in the audit trail as the API records its own; an error says why it
	// cannot (a standby replica). nil: this server cannot sync.
	Sync func(ctx context.Context, reason string) error
}

// may says whether the caller may do perm on res.
func (c Caller) may(perm rbac.Permission, res rbac.Resource) bool {
	return c.Authorizer != nil && c.Authorizer.Decide(c.Who, perm, res).Allowed
}

// mayAnywhere says whether the caller may do perm somewhere.
func (c Caller) mayAnywhere(perm rbac.Permission) bool {
	return c.Authorizer != nil && c.Authorizer.DecideAny(c.Who, perm).Allowed
}

// Portal serves the pages. Safe for concurrent use.
type Portal struct {
	opts  Options
	pages map[string]*template.Template
}

// New returns the portal.
func New(opts Options) *Portal {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Status == nil {
		opts.Status = status.NewStore("", "")
	}
	return &Portal{opts: opts, pages: parsePages()}
}

// pageNames are the templates beside layout.html, one per page.
var pageNames = []string{"overview", "adapters", "adapter", "audit", "error"}

// parsePages parses each page with the layout; the templates are embedded,
// so an error is a bug that every test run catches.
func parsePages() map[string]*template.Template {
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html"))
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFiles, "templates/"+name+".html"))
	}
	return pages
}

// funcs are the templates' helpers; each returns plain text, escaped by
// html/template where it is used.
var funcs = template.FuncMap{
	"short": shortRevision,
	"value": valueText,
	"join":  strings.Join,
	"field": func(name, label, value string, choices []string) selectField {
		return selectField{Name: name, Label: label, Value: value, Choices: choices}
	},
}

// selectField is a filter's drop-down: the query parameter, its label,
// the value chosen and the values offered.
type selectField struct {
	Name, Label, Value string
	Choices            []string
}

// shortRevision is the first 12 characters of a commit hash.
func shortRevision(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// valueText shows a change's before or after value: a string as itself,
// anything else as compact JSON, nothing as "—".
func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// layout is what every page's frame shows.
type layout struct {
	Title string
	// Nav names the navigation entry of the page.
	Nav string
	Who identity.Principal
	// CSRF is the session's token for the page's forms; "" when the caller
	// has no browser session (the forms are then not shown).
	CSRF string
	// Page is the page's own data.
	Page any
}

// render writes page name with code. The page is rendered into a buffer
// first, so that a template error answers 500 rather than half a page.
func (p *Portal) render(w http.ResponseWriter, r *http.Request, c Caller, code int, name, title string, data any) {
	l := layout{Title: title, Nav: name, Who: c.Who, Page: data}
	if p.opts.CSRF != nil {
		l.CSRF, _ = p.opts.CSRF.RequestCSRFToken(r)
	}
	var buf bytes.Buffer
	if err := p.pages[name].ExecuteTemplate(&buf, "layout", l); err != nil {
		p.opts.Logger.ErrorContext(r.Context(), "portal: rendering a page", "page", name, "error", err)
		p.Error(w, r, http.StatusInternalServerError, "the page could not be rendered", c.RequestID)
		return
	}
	writeHTML(w, code, buf.Bytes())
}

func writeHTML(w http.ResponseWriter, code int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Del("Content-Length")
	w.WriteHeader(code)
	_, _ = w.Write(body) // the browser may have gone; nothing to do
}

// errorPage is the data of the error page.
type errorPage struct {
	Status    int
	Text      string
	Message   string
	RequestID string
}

// Error answers the portal's error page: the status, a message that must
// hold nothing secret (it is shown as text), and the request id.
func (p *Portal) Error(w http.ResponseWriter, r *http.Request, code int, message, requestID string) {
	var buf bytes.Buffer
	data := layout{Title: http.StatusText(code), Nav: "error",
		Page: errorPage{Status: code, Text: http.StatusText(code), Message: message, RequestID: requestID}}
	if err := p.pages["error"].ExecuteTemplate(&buf, "layout", data); err != nil {
		p.opts.Logger.ErrorContext(r.Context(), "portal: rendering the error page", "error", err)
		http.Error(w, http.StatusText(code), code)
		return
	}
	writeHTML(w, code, buf.Bytes())
}

// Asset serves an embedded asset named by the path's last element.
func (p *Portal) Asset(w http.ResponseWriter, r *http.Request) {
	name := path.Base(r.URL.Path)
	b, err := fs.ReadFile(assetFiles, "assets/"+name)
	if err != nil || strings.HasPrefix(name, ".") {
		http.Error(w, "no such asset", http.StatusNotFound)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b)
}

// maskAs returns v with the masked fields masked, as the API masks its
// answers. A value whose masked form no longer fits its type (a number
// masked into a string) is an error: the page fails rather than show it.
func maskAs[T any](m *mask.Masker, v T) (T, error) {
	if !m.Enabled() {
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v, fmt.Errorf("portal: masking: %w", err)
	}
	if b, err = m.JSON(b); err != nil {
		return v, fmt.Errorf("portal: masking: %w", err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		return v, fmt.Errorf("portal: masking: %w", err)
	}
	return out, nil
}

// adapterResource is an adapter as RBAC sees it.
func adapterResource(a status.Adapter) rbac.Resource {
	return rbac.Resource{Environment: a.Environment, Adapter: a.Name, Labels: a.Labels}
}
