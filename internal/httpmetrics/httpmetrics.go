// Package httpmetrics counts and times HTTP requests under the metric names
// the seed's Prometheus queries use: http_requests_total (labels method,
// endpoint, status) and http_request_duration_seconds (a histogram with
// labels method, endpoint).
//
// The endpoint label is the matched route pattern ("/health/ready",
// "/_api/web/lists"), never the raw path, so label cardinality stays bounded
// whatever URLs clients send.
package httpmetrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the request collectors of one server.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New registers the collectors on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests handled, by method, route and status code.",
		}, []string{"method", "endpoint", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time from request start to the last byte of the response, in seconds.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "endpoint"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// Wrap returns next instrumented. route names the request's endpoint; it is
// called after next has run so that a mux has set r.Pattern.
func (m *Metrics) Wrap(next http.Handler, route func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		endpoint := route(r)
		method := normalizeMethod(r.Method)
		m.requests.WithLabelValues(method, endpoint, strconv.Itoa(sw.status)).Inc()
		m.duration.WithLabelValues(method, endpoint).Observe(time.Since(start).Seconds())
	})
}

// normalizeMethod folds unknown methods into one label value so a client
// cannot create series at will.
func normalizeMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, "MERGE":
		return m
	}
	return "OTHER"
}

type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and deadlines underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
