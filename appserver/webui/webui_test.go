package webui

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestShellAndHashedAssets(t *testing.T) {
	u, err := New()
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	u.ServeHTTP(rec, httptest.NewRequest("GET", "/sites/dev/_layouts/cesivi/", nil))
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("shell: %d %v", rec.Code, rec.Header())
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if strings.Contains(csp, "unsafe") || !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
	html := rec.Body.String()
	if strings.Contains(html, "{{") {
		t.Fatalf("unreplaced asset name in %s", html)
	}
	if len(html) > 200<<10 {
		t.Fatalf("shell is %d bytes", len(html))
	}
	refs := regexp.MustCompile(`/_layouts/cesivi/assets/[a-z]+\.[0-9a-f]{12}\.(js|css)`).FindAllString(html, -1)
	if len(refs) != 2 {
		t.Fatalf("asset references %v in %s", refs, html)
	}
	for _, ref := range refs {
		rec := httptest.NewRecorder()
		u.ServeHTTP(rec, httptest.NewRequest("GET", ref, nil))
		if rec.Code != 200 || rec.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Fatalf("%s: %d %v", ref, rec.Code, rec.Header())
		}
		if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, "javascript") && !strings.Contains(ct, "css") {
			t.Fatalf("%s: Content-Type %q", ref, ct)
		}
	}
	rec = httptest.NewRecorder()
	u.ServeHTTP(rec, httptest.NewRequest("GET", "/_layouts/cesivi/assets/app.000000000000.js", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("unknown asset: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	u.ServeHTTP(rec, httptest.NewRequest("POST", "/_layouts/cesivi/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", rec.Code)
	}
}

func TestNoInlineMarkupInScripts(t *testing.T) {
	// Trusted Types forbid string-to-HTML sinks; the script must not use them.
	b, err := static.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(string(b), sink) {
			t.Errorf("app.js uses %s", sink)
		}
	}
}

func TestWantsPage(t *testing.T) {
	for accept, want := range map[string]bool{
		"text/html,application/xhtml+xml,*/*;q=0.8": true,
		"application/json":                          false,
		"":                                          false,
		"*/*":                                       false,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		if got := WantsPage(r); got != want {
			t.Errorf("Accept %q: %v", accept, got)
		}
	}
}
