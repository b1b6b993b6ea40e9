package httpmetrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRequestsAreCountedByRouteAndStatus(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "missing" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("ok"))
	})
	route := func(r *http.Request) string {
		if r.Pattern == "" {
			return "unmatched"
		}
		return r.Pattern
	}
	h := m.Wrap(mux, route)
	for _, path := range []string{"/items/1", "/items/2", "/items/missing", "/nowhere/abc", "/nowhere/def"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("BREW", "/items/1", nil))

	want := `
# HELP http_requests_total HTTP requests handled, by method, route and status code.
# TYPE http_requests_total counter
http_requests_total{endpoint="GET /items/{id}",method="GET",status="200"} 2
http_requests_total{endpoint="GET /items/{id}",method="GET",status="404"} 1
http_requests_total{endpoint="unmatched",method="GET",status="404"} 2
http_requests_total{endpoint="unmatched",method="OTHER",status="405"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "http_requests_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.duration); n != 3 {
		t.Errorf("duration series = %d, want 3 (one per method and route pair)", n)
	}
}
