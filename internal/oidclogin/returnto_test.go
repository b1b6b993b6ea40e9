package oidclogin_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/internal/oidclogin"
)

func TestSafeReturnTo(t *testing.T) {
	accept := []string{
		"/",
		"/app",
		"/app/page?x=1&y=%2F#frag",
		"/%2F%2Fevil", // encoded slashes stay in the path
		"/%5Cevil",
		"/a//b",
		"/a:b",
		"/..//evil", // resolves to a path on this origin
		"/café",
		"/search?q=https://elsewhere.example",
		"/" + strings.Repeat("a", 2047),
	}
	reject := []string{
		"",
		"//evil.example",
		"//evil.example/path",
		"/\\evil.example",
		"\\\\evil.example",
		"\\/evil.example",
		"/a\\b",
		"/\t/evil.example",
		"/\n/evil.example",
		"/\r/evil.example",
		"/ /evil.example",
		"/a b",
		"/\x00",
		"/\x7f",
		"/\u00a0",
		"/\u2028",
		"/\u202eevil",
		"/\ufeff",
		"/\xff",
		"https://evil.example",
		"http:/evil.example",
		"javascript:alert(1)",
		"JavaScript:alert(1)",
		"data:text/html,x",
		"evil.example",
		"%2F%2Fevil", // not a path at all: no leading slash
		"./relative",
		"?q=1",
		"#frag",
		" /app",
		"/" + strings.Repeat("a", 2048),
	}
	for _, s := range accept {
		if got, ok := oidclogin.SafeReturnTo(s); !ok || got != s {
			t.Errorf("SafeReturnTo(%q) = %q, %t; want it kept", s, got, ok)
		}
	}
	for _, s := range reject {
		if got, ok := oidclogin.SafeReturnTo(s); ok || got != "" {
			t.Errorf("SafeReturnTo(%q) = %q, %t; want it refused", s, got, ok)
		}
	}
}

func FuzzSafeReturnTo(f *testing.F) {
	for _, s := range []string{"/", "/app?x=1#y", "//evil", "/\\evil", "/\t/evil", "https://evil", "javascript:alert(1)", "/%2F%2Fevil", "/a:b", "\\\\evil", "/\u3000/evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := oidclogin.SafeReturnTo(s)
		if !ok {
			if got != "" {
				t.Fatalf("refused %q but returned %q", s, got)
			}
			return
		}
		if got != s {
			t.Fatalf("accepted %q as %q; want it unchanged", s, got)
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") || strings.ContainsAny(got, "\\\t\r\n ") {
			t.Fatalf("accepted %q", got)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("accepted %q, which url.Parse refuses: %v", got, err)
		}
		if u.Scheme != "" || u.Host != "" || u.User != nil {
			t.Fatalf("accepted %q: parses to scheme=%q host=%q", got, u.Scheme, u.Host)
		}
		// Resolved against a page of this site, as a browser does, it
		// stays on this site.
		base, _ := url.Parse("https://edge.example/some/page")
		if r := base.ResolveReference(u); r.Host != "edge.example" || r.Scheme != "https" {
			t.Fatalf("accepted %q resolves to %s", got, r)
		}
	})
}
