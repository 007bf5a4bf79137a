package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
)

func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDoc)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	return doc
}

// TestRouteTable: every route is public or needs credentials, and every
// authenticated route names its permission unless it is deliberately open
// to any caller; the OpenAPI document lists exactly the routes, with the
// same permissions. The portal's pages are routes of the table too, with
// their permissions, and are not in the document (checkPageRoute).
func TestRouteTable(t *testing.T) {
	doc := loadDoc(t)
	anyCaller := map[string]bool{"GET /api/v1/openapi.json": true, "GET /api/v1/whoami": true}
	inTable := map[string]bool{}
	for _, rt := range routes() {
		inTable[rt.method+" "+rt.path] = true
		if rt.access == authenticated && rt.perm == "" && !anyCaller[rt.pattern()] {
			t.Errorf("%s needs credentials but names no permission", rt.pattern())
		}
		if rt.access == authenticated && !rt.allowlisted {
			t.Errorf("%s is not behind the IP allowlist", rt.pattern())
		}
		item := doc.Paths.Find(rt.path)
		if rt.page {
			checkPageRoute(t, rt, item)
			continue
		}
		if item == nil || item.GetOperation(rt.method) == nil {
			t.Errorf("%s is not in the OpenAPI document", rt.pattern())
			continue
		}
		op := item.GetOperation(rt.method)
		perm, _ := op.Extensions["x-cairn-permission"].(string)
		if perm != string(rt.perm) {
			t.Errorf("%s: the document says permission %q, the route %q", rt.pattern(), perm, rt.perm)
		}
		if (rt.access == public) != (op.Security != nil && len(*op.Security) == 0) {
			t.Errorf("%s: public %v, but the document's security says otherwise", rt.pattern(), rt.access == public)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !inTable[method+" "+path] {
				t.Errorf("the document has %s %s, which no route serves", method, path)
			}
		}
	}
}

// checkPageRoute: a portal page is not part of the API (the document does
// not list it, and it is not under /api/), is behind the allowlist, and
// names a permission; only the assets, which hold no data, are public.
func checkPageRoute(t *testing.T, rt *route, item *openapi3.PathItem) {
	t.Helper()
	if item != nil && item.GetOperation(rt.method) != nil {
		t.Errorf("%s is a portal page, but the OpenAPI document lists it", rt.pattern())
	}
	if strings.HasPrefix(rt.path, "/api/") {
		t.Errorf("%s is a portal page under /api/", rt.pattern())
	}
	if !rt.allowlisted {
		t.Errorf("%s is not behind the IP allowlist", rt.pattern())
	}
	if rt.access == public && !strings.HasPrefix(rt.path, "/assets/") {
		t.Errorf("%s is a public portal page; only /assets/ may be", rt.pattern())
	}
	if rt.access == authenticated && rt.perm == "" {
		t.Errorf("%s is a portal page that names no permission", rt.pattern())
	}
}

// TestAnswersMatchTheDocument calls every route on a real server and
// validates each answer (status, content type, body) against the document.
func TestAnswersMatchTheDocument(t *testing.T) {
	doc := loadDoc(t)
	w := newWorld(t)
	doc.Servers = openapi3.Servers{{URL: w.srv.URL}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	text := func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(body)
		return string(b), err
	}
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", text)
	openapi3filter.RegisterBodyDecoder("text/csv", text)
	admin, viewer := w.keys["admin-bot"], w.keys["viewer-bot"]
	w.do("GET", "/api/v1/status", viewer, nil) // some access records for the history routes
	calls := []struct {
		method, path, bearer, body string
	}{
		{"GET", "/healthz", "", ""}, {"GET", "/readyz", "", ""},
		{"POST", "/api/v1/webhooks/github", "", `{"ref":"refs/heads/main"}`},
		{"GET", "/metrics", admin, ""}, {"GET", "/api/v1/openapi.json", viewer, ""}, {"GET", "/api/v1/whoami", viewer, ""},
		{"GET", "/api/v1/status", viewer, ""}, {"GET", "/api/v1/status", "", ""},
		{"GET", "/api/v1/adapters", viewer, ""}, {"GET", "/api/v1/adapters?limit=1", viewer, ""},
		{"GET", "/api/v1/adapters?limit=0", viewer, ""},
		{"GET", "/api/v1/adapters/prod/lse-fix-primary", viewer, ""}, {"GET", "/api/v1/adapters/prod/nothing", viewer, ""},
		{"GET", "/api/v1/adapters/prod/lse-fix-primary/history", viewer, ""},
		{"GET", "/api/v1/history", viewer, ""}, {"GET", "/api/v1/history?limit=1", viewer, ""},
		{"GET", "/api/v1/history/export?format=json", admin, ""}, {"GET", "/api/v1/history/export", admin, ""},
		{"GET", "/api/v1/history/export?format=xml", admin, ""},
		{"GET", "/api/v1/history/verify", viewer, ""},
		{"POST", "/api/v1/sync", admin, `{"reason": "checking the document"}`}, {"POST", "/api/v1/sync", admin, `{}`},
		{"POST", "/api/v1/sync", viewer, `{"reason": "not allowed"}`},
	}
	for _, c := range calls {
		req, _ := http.NewRequest(c.method, w.srv.URL+c.path, strings.NewReader(c.body))
		if c.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+c.bearer)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Errorf("%s %s: no route in the document: %v", c.method, c.path, err)
			continue
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
			Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			t.Errorf("%s %s (%d): the answer does not match the document: %v", c.method, c.path, resp.StatusCode, err)
		}
	}
}
