package webui

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func TestShellAndHashedAssets(t *testing.T) {
	u, err := New()
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	u.ServeHTTP(rec, httptest.NewRequest("GET", "/sites/dev/_layouts/cesivi/", nil))
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-cache" || rec.Header().Get("X-Frame-Options") != "DENY" {
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
	// Trusted Types forbid string-to-HTML sinks; no script may use them.
	scripts, err := fs.Glob(static, "static/*.js")
	if err != nil || len(scripts) < 2 {
		t.Fatalf("scripts %v %v", scripts, err)
	}
	for _, name := range scripts {
		b, err := static.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute(\"on"} {
			if strings.Contains(string(b), sink) {
				t.Errorf("%s uses %s", name, sink)
			}
		}
	}
	// The shell: no inline script, style or event handler (the CSP would
	// block them; the test says so before a browser does).
	idx, err := static.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`<script(?:\s[^>]*)?>[^<]`, `<style`, `\sstyle=`, `\son[a-z]+=`, `javascript:`} {
		if m := regexp.MustCompile(`(?i)` + re).FindString(string(idx)); m != "" {
			t.Errorf("index.html has inline code: %q", m)
		}
	}
}

// Every module the shell loads, and every module they import, is served
// under its hashed name; the whole page (shell and every asset) stays
// under 200 KB.
func TestModuleImportsResolveToHashedAssets(t *testing.T) {
	u, err := New()
	if err != nil {
		t.Fatal(err)
	}
	get := func(p string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		u.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		return rec
	}
	shell := get("/_layouts/cesivi/").Body.String()
	total := len(shell)
	hashed := regexp.MustCompile(`/_layouts/cesivi/assets/([a-z]+\.[0-9a-f]{12}\.(?:js|css))`)
	imports := regexp.MustCompile(`(?:from|import)\s*\(?\s*"\./([^"]+)"`)
	queue := []string{}
	for _, m := range hashed.FindAllStringSubmatch(shell, -1) {
		queue = append(queue, m[1])
	}
	seen := map[string]bool{}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		rec := get("/_layouts/cesivi/assets/" + name)
		if rec.Code != 200 {
			t.Fatalf("%s: %d", name, rec.Code)
		}
		total += rec.Body.Len()
		for _, m := range imports.FindAllStringSubmatch(rec.Body.String(), -1) {
			if !regexp.MustCompile(`^[A-Za-z0-9_-]+\.[0-9a-f]{12}\.js$`).MatchString(m[1]) {
				t.Errorf("%s imports %q, not a hashed name", name, m[1])
			}
			queue = append(queue, m[1])
		}
	}
	// Every embedded script is reachable from the shell: none is dead weight.
	scripts, _ := fs.Glob(static, "static/*.js")
	js := 0
	for n := range seen {
		if strings.HasSuffix(n, ".js") {
			js++
		}
	}
	if js != len(scripts) {
		t.Errorf("the shell reaches %d scripts of %d: %v", js, len(scripts), seen)
	}
	if total > 200<<10 {
		t.Errorf("the page with its assets is %d bytes, over 200 KB", total)
	}
	t.Logf("page with assets: %d bytes in %d files", total, len(seen)+1)
}

// A module's hashed name changes when a module it imports changes, so a
// browser never pairs a cached module with a stale import; a missing
// import or a cycle is refused when the server starts.
func TestImportHashingFollowsImports(t *testing.T) {
	build := func(files map[string]string) (*UI, error) {
		fsys := fstest.MapFS{"index.html": {Data: []byte(`<script type="module" src="/_layouts/cesivi/assets/{{a.js}}"></script>`)}}
		for n, b := range files {
			fsys[n] = &fstest.MapFile{Data: []byte(b)}
		}
		return newFrom(fsys)
	}
	nameOf := func(u *UI, base string) string {
		for n := range u.assets {
			if strings.HasPrefix(n, strings.TrimSuffix(base, ".js")+".") {
				return n
			}
		}
		return ""
	}
	u1, err := build(map[string]string{"a.js": `import { b } from "./b.js";`, "b.js": `export const b = 1;`})
	if err != nil {
		t.Fatal(err)
	}
	u2, err := build(map[string]string{"a.js": `import { b } from "./b.js";`, "b.js": `export const b = 2;`})
	if err != nil {
		t.Fatal(err)
	}
	a1, a2 := nameOf(u1, "a.js"), nameOf(u2, "a.js")
	if a1 == "" || a1 == a2 {
		t.Fatalf("a.js named %q and %q: its name must follow b.js", a1, a2)
	}
	if body := string(u1.assets[a1].body); !strings.Contains(body, `"./`+nameOf(u1, "b.js")+`"`) {
		t.Fatalf("a.js not rewritten: %s", body)
	}
	if !strings.Contains(string(u1.index), a1) {
		t.Fatalf("shell %s does not name %s", u1.index, a1)
	}
	if _, err := build(map[string]string{"a.js": `import "./missing.js";`}); err == nil {
		t.Error("a missing import was accepted")
	}
	if _, err := build(map[string]string{"a.js": `import "./b.js";`, "b.js": `import("./a.js");`}); err == nil {
		t.Error("an import cycle was accepted")
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

// TestCSPDirectives holds the page's policy to what the pages need: the
// PDF preview's same-origin frame and nothing else framed, embedded or
// run as a worker; the pages themselves never framed.
func TestCSPDirectives(t *testing.T) {
	got := map[string]string{}
	for _, d := range strings.Split(CSP, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		if _, dup := got[name]; dup {
			t.Errorf("directive %s twice", name)
		}
		got[name] = value
	}
	want := map[string]string{
		"default-src":               "'none'",
		"script-src":                "'self'",
		"style-src":                 "'self'",
		"img-src":                   "'self' data:",
		"connect-src":               "'self'",
		"frame-src":                 "'self'",
		"frame-ancestors":           "'none'",
		"base-uri":                  "'none'",
		"require-trusted-types-for": "'script'",
		"trusted-types":             "'none'",
	}
	for name, value := range want {
		if got[name] != value {
			t.Errorf("%s is %q, want %q", name, got[name], value)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			// object-src, child-src or worker-src would widen what
			// default-src 'none' forbids.
			t.Errorf("unexpected directive %s %s", name, got[name])
		}
	}
}
