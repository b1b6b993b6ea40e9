package sharepoint

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics count what moves through document libraries. A nil *Metrics
// counts nothing.
type Metrics struct {
	uploaded, downloaded prometheus.Counter
	// uploads counts chunked upload sessions by what happened to them:
	// started, finished, cancelled, abandoned (ended by the sweep).
	// Sessions open across the farm are sum(started) - sum(finished) -
	// sum(cancelled) - sum(abandoned).
	uploads *prometheus.CounterVec
}

// NewMetrics registers the file metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		uploaded: prometheus.NewCounter(prometheus.CounterOpts{Name: "cesivi_files_uploaded_bytes_total",
			Help: "Bytes of file content received (simple uploads, chunks and attachments), stored or not."}),
		downloaded: prometheus.NewCounter(prometheus.CounterOpts{Name: "cesivi_files_downloaded_bytes_total",
			Help: "Bytes of file content sent ($value downloads, ranges included)."}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cesivi_files_upload_sessions_total",
			Help: "Chunked upload sessions by event: started, finished, cancelled, abandoned (ended by the files sweep)."}, []string{"event"}),
	}
	reg.MustRegister(m.uploaded, m.downloaded, m.uploads)
	for _, e := range []string{"started", "finished", "cancelled", "abandoned"} {
		m.uploads.WithLabelValues(e)
	}
	return m
}

func (m *Metrics) addUploaded(n int64) {
	if m != nil && n > 0 {
		m.uploaded.Add(float64(n))
	}
}

// Abandoned counts upload sessions the files sweep ended.
func (m *Metrics) Abandoned(n int) {
	if m != nil && n > 0 {
		m.uploads.WithLabelValues("abandoned").Add(float64(n))
	}
}

func (m *Metrics) uploadSession(event string) {
	if m != nil {
		m.uploads.WithLabelValues(event).Inc()
	}
}

// countingWriter counts the body bytes a download writes.
type countingWriter struct {
	http.ResponseWriter
	m *Metrics
}

func (w countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	if w.m != nil && n > 0 {
		w.m.downloaded.Add(float64(n))
	}
	return n, err
}

// Unwrap lets net/http's ResponseController reach the connection.
func (w countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// The counters, for tests.
func (m *Metrics) UploadedCounter() prometheus.Counter   { return m.uploaded }
func (m *Metrics) DownloadedCounter() prometheus.Counter { return m.downloaded }
func (m *Metrics) SessionCounter(event string) prometheus.Counter {
	return m.uploads.WithLabelValues(event)
}
