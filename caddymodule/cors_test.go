package caddymodule

import (
	"net/http"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func corsRequest(t *testing.T, method, url string, header ...string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	n, _ := resp.Body.Read(buf)
	b.Write(buf[:n])
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: b.String()}
}

func TestPreflightsAreAnsweredByTheEdgeWithoutASession(t *testing.T) {
	e := startEdge(t, edgeOptions{site: `cesivi_cors {
		origins https://app.example.com https://*.apps.example.com
		methods MERGE DELETE
		headers Authorization X-RequestDigest IF-Match
		expose ETag
		max_age 10m
	}`})

	// A preflight from an allowed origin: 204 from the edge itself, no
	// session made, nothing sent on to a server.
	a := corsRequest(t, http.MethodOptions, e.URL+"/_api/web/lists", "Origin", "https://app.example.com",
		"Access-Control-Request-Method", "MERGE", "Access-Control-Request-Headers", "authorization, if-match")
	if a.Status != http.StatusNoContent || a.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		a.Header.Get("Access-Control-Allow-Methods") != "DELETE, GET, HEAD, MERGE, POST" ||
		a.Header.Get("Access-Control-Allow-Headers") != "authorization, if-match" || a.Header.Get("Access-Control-Max-Age") != "600" {
		t.Fatalf("preflight: %d %v %s", a.Status, a.Header, a.Body)
	}
	if a.Header.Get("Set-Cookie") != "" || a.Header.Get("X-Cesivi-Server-Id") != "" {
		t.Errorf("the preflight made a session or reached a server: %v", a.Header)
	}

	// Refused preflights say why, with no CORS headers.
	for _, c := range []struct{ name, origin, method, headers, why string }{
		{"another origin", "https://evil.example", "GET", "", "origin"},
		{"the apex of a wildcard", "https://apps.example.com", "GET", "", "origin"},
		{"a method not allowed", "https://app.example.com", "PUT", "", "PUT"},
		{"a header not allowed", "https://x.apps.example.com", "GET", "x-secret", "x-secret"},
	} {
		a := corsRequest(t, http.MethodOptions, e.URL+"/_api/web", "Origin", c.origin, "Access-Control-Request-Method", c.method,
			"Access-Control-Request-Headers", c.headers)
		if a.Status != http.StatusForbidden || !strings.Contains(a.Body, c.why) || a.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: %d %v %s; want 403 naming %q without CORS headers", c.name, a.Status, a.Header, a.Body, c.why)
		}
	}

	// Actual requests: the allowed origin may read the answer, 401 included
	// (so a script learns it must sign in); others get nothing to read.
	a = corsRequest(t, http.MethodGet, e.URL+"/health", "Origin", "https://x.apps.example.com")
	if a.Status != 200 || a.Header.Get("Access-Control-Allow-Origin") != "https://x.apps.example.com" ||
		a.Header.Get("Access-Control-Expose-Headers") != "ETag" || !strings.Contains(strings.Join(a.Header.Values("Vary"), ","), "Origin") {
		t.Errorf("actual GET: %d %v", a.Status, a.Header)
	}
	a = corsRequest(t, http.MethodGet, e.URL+"/_api/web", "Origin", "https://app.example.com", "Accept", "application/json")
	if a.Status != http.StatusUnauthorized || a.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("actual GET without a session: %d %v; want 401 the script can read", a.Status, a.Header)
	}
	a = corsRequest(t, http.MethodGet, e.URL+"/health", "Origin", "https://evil.example")
	if a.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin's actual request got %v", a.Header)
	}
	// An OPTIONS that is not a preflight goes on as any request does.
	if a := corsRequest(t, http.MethodOptions, e.URL+"/_api/web", "Origin", "https://app.example.com"); a.Status == http.StatusNoContent {
		t.Errorf("a plain OPTIONS was answered as a preflight: %d %v", a.Status, a.Header)
	}
}

func TestWithoutTheDirectiveNoOriginIsAllowed(t *testing.T) {
	e := startEdge(t, edgeOptions{})
	a := corsRequest(t, http.MethodOptions, e.URL+"/_api/web", "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET")
	if a.Header.Get("Access-Control-Allow-Origin") != "" || a.Status == http.StatusNoContent {
		t.Errorf("preflight without cesivi_cors: %d %v", a.Status, a.Header)
	}
}

func TestCORSConfigurationErrors(t *testing.T) {
	for _, c := range []struct{ name, input, want string }{
		{"credentials with any origin", "cesivi_cors {\n origins *\n credentials\n}", "credentials"},
		{"no origins", "cesivi_cors {\n methods DELETE\n}", "origins"},
		{"an origin with a path", "cesivi_cors {\n origins https://a.example/x\n}", "not an origin"},
		{"an unknown subdirective", "cesivi_cors {\n colour blue\n}", "unrecognized"},
		{"credentials with a value", "cesivi_cors {\n origins https://a.example\n credentials yes\n}", "argument"},
		{"a bad duration", "cesivi_cors {\n origins https://a.example\n max_age soon\n}", "max_age"},
		{"an argument on the directive", "cesivi_cors https://a.example", "argument"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h CORS
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(c.input))
			if err == nil {
				err = h.Provision(caddy.Context{})
			}
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(c.want)) {
				t.Fatalf("%v; want an error about %q", err, c.want)
			}
		})
	}
}
