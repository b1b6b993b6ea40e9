package cors

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func mustCompile(t *testing.T, p Policy) *Checker {
	t.Helper()
	c, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConfigurationsBrowsersWouldRefuseOrThatAreUnsafeAreErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		p    Policy
		want string
	}{
		{"no origin", Policy{}, "origins"},
		{"any origin with credentials", Policy{Origins: []string{"*"}, Credentials: true}, "credentials"},
		{"any header with credentials", Policy{Origins: []string{"https://a.example"}, Headers: []string{"*"}, Credentials: true}, "credentials"},
		{"a path", Policy{Origins: []string{"https://a.example/app"}}, "not an origin"},
		{"no scheme", Policy{Origins: []string{"a.example"}}, "not an origin"},
		{"another scheme", Policy{Origins: []string{"ftp://a.example"}}, "not an origin"},
		{"a wildcard inside", Policy{Origins: []string{"https://a.*.example"}}, "leftmost"},
		{"a wildcard over a top-level domain", Policy{Origins: []string{"https://*.com"}}, "two labels"},
		{"a method with a space", Policy{Origins: []string{"https://a.example"}, Methods: []string{"GE T"}}, "method"},
		{"any method", Policy{Origins: []string{"https://a.example"}, Methods: []string{"*"}}, "methods"},
		{"a header with a colon", Policy{Origins: []string{"https://a.example"}, Headers: []string{"X-A:"}}, "header"},
		{"expose *", Policy{Origins: []string{"https://a.example"}, Expose: []string{"*"}}, "expose"},
		{"a negative max age", Policy{Origins: []string{"https://a.example"}, MaxAge: -time.Second}, "negative"},
		{"a max age past a day", Policy{Origins: []string{"https://a.example"}, MaxAge: 48 * time.Hour}, "longer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(c.p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Compile(%+v) = %v; want an error about %q", c.p, err, c.want)
			}
		})
	}
}

func TestOriginsMatchExactlyOrByLeadingWildcard(t *testing.T) {
	c := mustCompile(t, Policy{Origins: []string{"https://App.Example.com", "https://*.example.org", "http://localhost:3000"}})
	for origin, want := range map[string]bool{
		"https://app.example.com":         true,
		"https://APP.example.com":         true,
		"http://app.example.com":          false, // another scheme
		"https://app.example.com:8443":    false, // another port
		"https://evil-app.example.com":    false,
		"https://app.example.com.evil.io": false,
		"https://a.example.org":           true,
		"https://a.b.example.org":         true,
		"https://example.org":             false, // the apex is not a subdomain
		"https://evilexample.org":         false,
		"https://a.example.org:444":       false,
		"http://localhost:3000":           true,
		"http://localhost":                false,
		"null":                            false,
		"":                                false,
		"https://user@app.example.com":    false,
		"https://app.example.com/path":    false,
	} {
		if got := c.Allowed(origin); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", origin, got, want)
		}
	}
	if any := mustCompile(t, Policy{Origins: []string{"*"}}); !any.Allowed("https://whoever.example") || any.Allowed("null") {
		t.Error("* must allow any origin but null")
	}
}

func preflight(origin, method, headers string) http.Header {
	h := http.Header{}
	h.Set("Origin", origin)
	h.Set("Access-Control-Request-Method", method)
	if headers != "" {
		h.Set("Access-Control-Request-Headers", headers)
	}
	return h
}

func TestPreflightsAreAnsweredOrRefusedWithTheReason(t *testing.T) {
	c := mustCompile(t, Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"MERGE", "delete"},
		Headers: []string{"Authorization", "X-RequestDigest", "IF-Match"}, Credentials: true, MaxAge: 10 * time.Minute})

	out := http.Header{}
	if err := c.Preflight(preflight("https://app.example.com", "MERGE", "authorization, x-requestdigest,content-type"), out); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Access-Control-Allow-Origin":      "https://app.example.com",
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "DELETE, GET, HEAD, MERGE, POST",
		"Access-Control-Allow-Headers":     "authorization, x-requestdigest, content-type",
		"Access-Control-Max-Age":           "600",
	}
	for k, v := range want {
		if out.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, out.Get(k), v)
		}
	}
	if !strings.Contains(out.Get("Vary"), "Origin") {
		t.Errorf("Vary = %q", out.Get("Vary"))
	}

	for _, c2 := range []struct {
		name string
		req  http.Header
		want string
	}{
		{"another origin", preflight("https://evil.example", "GET", ""), "origin"},
		{"a method not allowed", preflight("https://app.example.com", "PUT", ""), "PUT"},
		{"a header not allowed", preflight("https://app.example.com", "GET", "authorization, x-secret"), "x-secret"},
	} {
		out := http.Header{}
		err := c.Preflight(c2.req, out)
		if err == nil || !strings.Contains(err.Error(), c2.want) {
			t.Errorf("%s: %v; want a refusal naming %q", c2.name, err, c2.want)
		}
		if out.Get("Access-Control-Allow-Origin") != "" || out.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s: a refusal carries CORS headers: %v", c2.name, out)
		}
	}
}

func TestActualRequestsGetTheOriginAndExposedHeadersOnlyWhenAllowed(t *testing.T) {
	c := mustCompile(t, Policy{Origins: []string{"https://app.example.com"}, Expose: []string{"ETag", "Retry-After"}})
	out := http.Header{}
	c.Actual(http.Header{"Origin": {"https://app.example.com"}}, out)
	if out.Get("Access-Control-Allow-Origin") != "https://app.example.com" || out.Get("Access-Control-Expose-Headers") != "ETag, Retry-After" ||
		out.Get("Vary") != "Origin" || out.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("allowed origin: %v", out)
	}
	out = http.Header{}
	c.Actual(http.Header{"Origin": {"https://evil.example"}}, out)
	if out.Get("Access-Control-Allow-Origin") != "" || out.Get("Vary") != "Origin" {
		t.Errorf("another origin: %v; want only Vary: Origin", out)
	}
	out = http.Header{}
	c.Actual(http.Header{}, out)
	if out.Get("Vary") != "Origin" || len(out) != 1 {
		t.Errorf("no origin: %v; want only Vary: Origin (a cache must not give this answer to a script)", out)
	}
	any := mustCompile(t, Policy{Origins: []string{"*"}})
	out = http.Header{}
	any.Actual(http.Header{"Origin": {"https://x.example"}}, out)
	if out.Get("Access-Control-Allow-Origin") != "*" || out.Get("Vary") != "" {
		t.Errorf("any origin without credentials: %v; want * and no Vary", out)
	}
}

func FuzzPreflightNeverAllowsWhatThePolicyDoesNot(f *testing.F) {
	f.Add("https://app.example.com", "GET", "authorization")
	f.Add("https://a.app.example.com", "DELETE", "x-a, x-b")
	f.Add("null", "PUT", "")
	c, err := Compile(Policy{Origins: []string{"https://app.example.com"}, Methods: []string{"DELETE"}, Headers: []string{"Authorization"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, origin, method, headers string) {
		out := http.Header{}
		if c.Preflight(preflight(origin, method, headers), out) != nil {
			return
		}
		if !strings.EqualFold(origin, "https://app.example.com") || !map[string]bool{"GET": true, "HEAD": true, "POST": true, "DELETE": true}[strings.TrimSpace(method)] {
			t.Fatalf("allowed origin %q method %q", origin, method)
		}
		for _, h := range strings.Split(strings.ToLower(headers), ",") {
			if h = strings.TrimSpace(h); h != "" && h != "authorization" && !safelistedHeaders[h] {
				t.Fatalf("allowed header %q", h)
			}
		}
	})
}
