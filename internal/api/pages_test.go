package api

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cairn-gitops/cairn/internal/history"
)

// TestPortalPages: the portal's pages go through the API's middleware. A
// browser without credentials is sent to the login, a caller without the
// page's permission gets the HTML error page, a viewer sees no "sync now"
// and is refused (403) when posting anyway, without the sync running.
func TestPortalPages(t *testing.T) {
	w := newWorld(t)
	viewer, admin := w.keys["viewer-bot"], w.keys["admin-bot"]
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	req, _ := http.NewRequest(http.MethodGet, w.srv.URL+"/adapters?health=Degraded", nil)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther ||
		loc != "/auth/login?next="+url.QueryEscape("/adapters?health=Degraded") {
		t.Errorf("no credentials: HTTP %d to %q, want 303 to the login", resp.StatusCode, loc)
	}

	for _, tc := range []struct {
		name, method, path, bearer string
		// code is the answer; want and unwanted what its body has or not.
		code           int
		want, unwanted []string
	}{
		{"viewer overview", "GET", "/", viewer, 200, []string{"Overview", `id="total-adapters">4<`}, []string{"Sync now"}},
		{"admin overview", "GET", "/", admin, 200, []string{"Sync now", "POST /api/v1/sync"}, []string{`action="/sync"`}},
		{"filtered list", "GET", "/adapters?health=Degraded", viewer, 200, []string{"eurex-fix-derivatives"}, []string{"kafka-orders-bridge"}},
		{"one adapter", "GET", "/adapters/uat/kafka-orders-bridge", viewer, 200, []string{"kafka-orders-bridge", "Progressing"}, nil},
		{"unknown adapter", "GET", "/adapters/prod/nothing", viewer, 404, []string{"404 Not Found"}, nil},
		{"audit log", "GET", "/audit", viewer, 200, []string{"Audit log", "Verify the chain"}, nil},
		{"bad key", "GET", "/", viewer + "x", 303, nil, nil},
		{"viewer posts sync", "POST", "/sync", viewer, 403, []string{"403 Forbidden", "you may not sync:create here"}, nil},
		{"admin posts sync without a session", "POST", "/sync", admin, 403, []string{"security token"}, nil},
		{"page route, other method", "DELETE", "/audit", viewer, 405, nil, nil},
	} {
		body := "reason=" + url.QueryEscape("posting anyway")
		req, _ := http.NewRequest(tc.method, w.srv.URL+tc.path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tc.bearer)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b := new(strings.Builder)
		_, _ = io.Copy(b, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s: HTTP %d, want %d", tc.name, resp.StatusCode, tc.code)
		}
		if tc.code != 405 && tc.code != 303 {
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("%s: Content-Type %q", tc.name, ct)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self'") {
				t.Errorf("%s: Content-Security-Policy %q", tc.name, csp)
			}
		}
		for _, s := range tc.want {
			if !strings.Contains(b.String(), s) {
				t.Errorf("%s: the page lacks %q", tc.name, s)
			}
		}
		for _, s := range tc.unwanted {
			if strings.Contains(b.String(), s) {
				t.Errorf("%s: the page has %q", tc.name, s)
			}
		}
	}
	if w.synced != 0 {
		t.Errorf("%d syncs ran; a refused post must not sync", w.synced)
	}
	if denied := w.records(history.AccessDenied); len(denied) == 0 || denied[0].Access.Request.Path != "/sync" {
		t.Error("the viewer's refused post is not in the audit trail")
	}
	resp, _ = w.do(http.MethodGet, "/assets/portal.css", "", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("the stylesheet: HTTP %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
