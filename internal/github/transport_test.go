package github

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestResponsesCarryNoCredential checks that the request a response points
// at, which go-github keeps in its errors, is the caller's, without the
// Authorization header.
func TestResponsesCarryNoCredential(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sekrit" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	tr := &tokenTransport{next: http.DefaultTransport, token: "sekrit"}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.Header.Get("Authorization") != "" || req.Header.Get("Authorization") != "" {
		t.Fatalf("status %d, response request header %q", resp.StatusCode, resp.Request.Header.Get("Authorization"))
	}
}

func TestCacheEvictsTheLeastRecentlyUsed(t *testing.T) {
	calls := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls[r.URL.Path+" "+r.Header.Get("If-None-Match")]++
		etag := `"` + r.URL.Path + `"`
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprint(w, "body of "+r.URL.Path)
	}))
	defer srv.Close()
	c := newCacheTransport(http.DefaultTransport, 2)
	get := func(path string) string {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		resp, err := c.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		return string(b)
	}
	for _, p := range []string{"/a", "/b", "/a", "/c", "/a", "/b"} {
		if got := get(p); !strings.HasSuffix(got, p) {
			t.Fatalf("%s answered %q", p, got)
		}
	}
	// /a stays cached (used most), /b was evicted by /c and fetched anew.
	if calls[`/a "/a"`] != 2 || calls["/b "] != 2 || calls["/c "] != 1 {
		t.Fatalf("calls = %v", calls)
	}
}
