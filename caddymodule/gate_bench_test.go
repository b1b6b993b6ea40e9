package caddymodule

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/cesivi/cesivi/internal/identity"
)

// The per-request work of the edge's handlers, without the network: a
// request as the edge benchmark sends it (GET /health/live with two forged
// identity headers) through cesivi_session, a cached signed-in session or
// a cached bearer token, to a handler that does nothing. The strip
// benchmark is the floor: cesivi_strip_identity on the same request.

// benchGate is a cesivi_session handler of the edge e started.
func benchGate(b *testing.B) *SessionGate {
	b.Helper()
	v, err := caddy.ActiveContext().AppIfConfigured("cesivi")
	if err != nil {
		b.Fatal(err)
	}
	return &SessionGate{Anonymous: DefaultAnonymous, app: v.(*App), logger: slog.New(slog.DiscardHandler)}
}

// benchRequest is the edge benchmark's request with the header h, as Caddy
// hands it to its handlers.
func benchRequest(h http.Header) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/health/live", nil)
	r.Header = h.Clone()
	r.Header.Set("User-Agent", "Go-http-client/1.1")
	r.Header.Set("Accept-Encoding", "gzip")
	r.Header.Set(identity.AssertionHeader, "forged")
	r.Header.Set("X-Forwarded-User", "admin")
	repl := caddy.NewReplacer()
	return caddyhttp.PrepareRequest(r, repl, httptest.NewRecorder(), nil)
}

// runGate serves template's copies through h, checking the answer once.
func runGate(b *testing.B, h caddyhttp.MiddlewareHandler, template *http.Request, check func(*http.Request)) {
	b.Helper()
	w := httptest.NewRecorder()
	serve := func() *http.Request {
		r := *template
		r.Header = template.Header.Clone()
		var seen *http.Request
		err := h.ServeHTTP(w, &r, caddyhttp.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) error {
			seen = r
			return nil
		}))
		if err != nil {
			b.Fatal(err)
		}
		return seen
	}
	seen := serve()
	if seen == nil {
		b.Fatalf("the request did not reach the next handler: %d %s", w.Code, w.Body)
	}
	if check != nil {
		check(seen)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		serve()
	}
}

func signedIn(b *testing.B) func(*http.Request) {
	return func(r *http.Request) {
		if r.Header.Get(identity.AssertionHeader) == "forged" || r.Header.Get(identity.AssertionHeader) == "" ||
			r.Header.Get("X-Forwarded-User") != "" || r.Header.Get("Cookie") != "" || r.Header.Get("Authorization") != "" {
			b.Fatalf("forwarded header %v", r.Header)
		}
	}
}

func BenchmarkGateStripOnly(b *testing.B) {
	s := &StripIdentity{}
	if err := s.Provision(caddy.Context{}); err != nil {
		b.Fatal(err)
	}
	runGate(b, s, benchRequest(http.Header{}), nil)
}

func BenchmarkGateCachedSession(b *testing.B) {
	e := startEdge(b, edgeOptions{oidc: true, cacheTTL: "10s"})
	c := signIn(b, e)
	u, _ := url.Parse(e.URL)
	var cookie string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == DefaultCookieName {
			cookie = ck.String()
		}
	}
	runGate(b, benchGate(b), benchRequest(http.Header{"Cookie": {cookie}}), signedIn(b))
}

func BenchmarkGateCachedBearer(b *testing.B) {
	e := startEdge(b, edgeOptions{oidc: true, cacheTTL: "10s"})
	token := accessToken(b, e)
	runGate(b, benchGate(b), benchRequest(http.Header{"Authorization": {"Bearer " + token}}), signedIn(b))
}
