// Package appserver is the Cesivi app server: it serves the HTTP API behind
// the edge, health and metrics, and owns the connections to storage and
// distributed state. It is stateless: everything that must outlive the
// process lives in PostgreSQL or Redis.
package appserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cesivi/cesivi/appserver/sharepoint"
	"github.com/cesivi/cesivi/appserver/webui"
	"github.com/cesivi/cesivi/internal/backends"
	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/filesweep"
	"github.com/cesivi/cesivi/internal/formdigest"
	"github.com/cesivi/cesivi/internal/health"
	"github.com/cesivi/cesivi/internal/hookdelivery"
	"github.com/cesivi/cesivi/internal/httperr"
	"github.com/cesivi/cesivi/internal/httpmetrics"
	"github.com/cesivi/cesivi/internal/identity"
	"github.com/cesivi/cesivi/internal/logging"
	"github.com/cesivi/cesivi/internal/permissions"
	"github.com/cesivi/cesivi/internal/webhook"
	"github.com/cesivi/cesivi/keyring"
)

// Server is one cesivi-server process.
type Server struct {
	settings *config.Settings
	log      *slog.Logger
	registry *prometheus.Registry
	health   *health.Runner
	handler  http.Handler
	backends *backends.Backends
	api      *sharepoint.Handler
	ui       *webui.UI
	// hooks calls list webhook receivers, under Cesivi:Webhooks' policy.
	hooks *webhook.Client

	// draining is set when shutdown begins: readiness answers 503 from then
	// on so load balancers stop routing here while in-flight work finishes.
	draining atomic.Bool
}

// New builds a server from validated settings. Its Redis and database
// clients connect lazily, so a server whose Redis or database is down still
// starts and reports the outage on /health/ready instead of crash-looping.
func New(s *config.Settings, logs *logging.Factory) (*Server, error) {
	registry := prometheus.NewRegistry()
	// A wrong master key or an unreachable key store stops the start here:
	// a server that cannot verify what its peers mint must not take
	// traffic. Redis and PostgreSQL connect lazily, so a server whose Redis
	// or database is down still starts and reports it on /health/ready.
	ctx, cancel := context.WithTimeout(context.Background(), keyRingOpenTimeout)
	defer cancel()
	b, err := backends.Open(ctx, s, backends.Options{Role: backends.Server, Logs: logs, Registerer: registry})
	if err != nil {
		return nil, err
	}
	hooks, err := webhook.New(webhook.Options{
		AllowList:         s.Webhooks.AllowedHosts,
		AllowPrivate:      s.Webhooks.AllowPrivateNetworks,
		ValidationTimeout: s.Webhooks.ValidationTimeout,
		ResponseTimeout:   s.Webhooks.DeliveryTimeout,
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("Cesivi:Webhooks:AllowedHosts: %w", err)
	}
	srv := &Server{
		settings: s,
		log:      logs.Logger("Cesivi.Server"),
		registry: registry,
		backends: b,
		hooks:    hooks,
	}
	srv.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	srv.health = &health.Runner{Checks: b.Checks(), Timeout: 2 * time.Second, CacheFor: healthCacheFor}
	srv.handler = srv.routes()
	return srv, nil
}

// Handler returns the server's HTTP handler (instrumented).
func (s *Server) Handler() http.Handler { return s.handler }

// Registry returns the Prometheus registry /metrics serves.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.serveHealth)
	mux.HandleFunc("GET /health/ready", s.serveReady)
	mux.HandleFunc("GET /health/live", s.serveLive)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry}))
	mux.HandleFunc("GET /{$}", s.serveRoot)
	mux.HandleFunc("GET /api/session/create", s.serveSessionCreate)
	mux.HandleFunc("GET /api/session/get", s.serveSessionGet)
	// The SharePoint API lives under /_api of every web (/_api,
	// /sites/dev/_api, /sites/dev/team/_api): no mux pattern matches
	// "anything, then /_api", so the fallback routes it.
	api := s.sharePoint()
	s.api = api
	// The web pages for people sit under {web}/_layouts/cesivi/ of every
	// web; their data comes from /_api like any other client's.
	ui, err := webui.New()
	if err != nil {
		panic(fmt.Sprintf("webui: embedded assets: %v", err)) // a build error, not a runtime one
	}
	s.ui = ui
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if sharepoint.IsAPIPath(r) {
			api.ServeHTTP(w, r)
			return
		}
		if webui.IsPagePath(r.URL.Path) {
			ui.ServeHTTP(w, r)
			return
		}
		s.serveNotFound(w, r)
	})

	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cesivi_assertions_refused_total",
		Help: "Requests refused because their identity assertion was missing or invalid, by reason.",
	}, []string{"reason"})
	s.registry.MustRegister(refused)
	verified := (&identity.Verifier{
		Ring:     s.backends.KeyRing,
		Audience: s.settings.Server.AssertionAudience,
		Required: s.settings.Server.RequireAssertion,
		// Probes and scrapes come straight from load balancers and
		// Prometheus; "/" names the server for humans.
		Public:  []string{"/", "/health", "/health/", "/metrics"},
		Refused: func(reason string) { refused.WithLabelValues(reason).Inc() },
	}).Wrap(mux)

	m := httpmetrics.New(s.registry)
	serverID := s.settings.Farm.ServerID
	return m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Which server answered, so a farm's balance can be seen from outside.
		w.Header().Set("X-Cesivi-Server-Id", serverID)
		verified.ServeHTTP(w, r)
	}), func(r *http.Request) string {
		// The mux sets Pattern on the request it passes on (a copy, once
		// the verifier has added the identity), not on r: ask it.
		if sharepoint.IsAPIPath(r) {
			return sharepoint.RouteLabel(r)
		}
		_, pattern := mux.Handler(r)
		return routeLabel(pattern)
	})
}

// sharePoint is the REST API over the process's storage, with form
// digests minted by the shared key ring (valid on every server).
func (s *Server) sharePoint() *sharepoint.Handler {
	h := &sharepoint.Handler{
		Store:       s.backends.Storage,
		Digests:     formdigest.Minter{Ring: s.backends.KeyRing},
		Log:         s.log,
		Blobs:       s.backends.Files,
		MaxUpload:   s.settings.Storage.Files.MaxUploadSize,
		MaxFileSize: s.settings.Storage.Files.MaxFileSize,
		Metrics:     sharepoint.NewMetrics(s.registry),
		Admins:      permissions.ParseAdministrators(s.settings.Sites.Administrators),
	}
	if s.backends.State != nil {
		h.UserContexts = s.backends.State.UserContexts
	}
	h.Receivers = receivers{s.hooks}
	return h
}

// receivers adapts the webhook client to what the REST API asks of it.
type receivers struct{ c *webhook.Client }

func (r receivers) CheckURL(raw string) error {
	_, err := webhook.CheckURL(raw)
	return err
}

func (r receivers) Validate(ctx context.Context, u string) error { return r.c.Validate(ctx, u) }

// routeLabel names a matched route pattern for metrics; unmatched paths
// share one label value so clients cannot create series at will.
func routeLabel(pattern string) string {
	if pattern == "" || pattern == "/" {
		return "unmatched"
	}
	if _, path, ok := strings.Cut(pattern, " "); ok { // drop the method
		return path
	}
	return pattern
}

// serveHealth is the basic check (a liveness probe in the seed's Kubernetes
// example): it reports every dependency but answers Degraded (200), not
// Unhealthy, when one is down, so an outage of Redis never restarts every
// server at once.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	rep := s.health.Run(r.Context(), true)
	writeHealth(w, r, rep)
}

// healthCacheFor is how long a health report is served again: probes and
// anonymous requests through the edges cost Redis and the database at
// most one check per period.
const healthCacheFor = time.Second

// writeHealth writes rep; to a request that came through an edge (it
// carries an assertion: anyone on the Internet may have sent it) only
// the status. The details (providers, pool figures, key ids) are for the
// server's own port, where load balancers and operators ask.
func writeHealth(w http.ResponseWriter, r *http.Request, rep health.Report) {
	if identity.FromContext(r.Context()) != nil {
		rep = health.Report{Status: rep.Status, TotalDuration: rep.TotalDuration}
	}
	health.Write(w, rep)
}

// serveReady fails (503) when a dependency is unreachable or the server is
// shutting down, so load balancers route around it.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	rep := s.health.Run(r.Context(), false)
	if s.draining.Load() {
		rep.Status = health.Unhealthy
		rep.Entries["Server"] = health.Entry{Status: health.Unhealthy, Description: "shutting down",
			Data: map[string]any{"serverId": s.settings.Farm.ServerID}}
	}
	writeHealth(w, r, rep)
}

// serveLive only says the process answers; it checks no dependency.
func (s *Server) serveLive(w http.ResponseWriter, _ *http.Request) {
	health.Write(w, health.Report{Status: health.Healthy, TotalDuration: health.FormatTimeSpan(0)})
}

func (s *Server) serveRoot(w http.ResponseWriter, r *http.Request) {
	// A browser gets the site home page; API clients keep the JSON name.
	if webui.WantsPage(r) {
		s.ui.ServeHTTP(w, r)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name":     "Cesivi Server",
		"serverId": s.settings.Farm.ServerID,
	})
}

func (s *Server) serveNotFound(w http.ResponseWriter, r *http.Request) {
	httperr.Write(w, httperr.New(http.StatusNotFound, "NotFound", fmt.Sprintf("no resource at %s %s", r.Method, r.URL.Path)))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Serve answers on ln until ctx is cancelled, then shuts down gracefully:
// readiness turns 503, the server keeps serving for ShutdownDelay so load
// balancers notice, then stops accepting and waits up to ShutdownTimeout
// for in-flight requests. It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	sweepCtx, stopSweeps := context.WithCancel(context.Background())
	defer stopSweeps()
	if s.backends.Storage != nil && s.backends.Files != nil && s.backends.State != nil {
		go filesweep.Loop(sweepCtx, s.settings.Storage.Files.SweepInterval, s.backends.State.Locks,
			s.backends.Storage, s.backends.Files,
			filesweep.Options{UploadTimeout: s.settings.Storage.Files.UploadTimeout,
				Swept: func(r filesweep.Result) { s.api.Metrics.Abandoned(r.AbandonedUploads) }}, s.log)
	}
	if s.backends.Storage != nil {
		go s.api.PruneRequestsEvery(sweepCtx, time.Hour)
	}
	if s.backends.Storage != nil && s.backends.State != nil {
		// List webhooks: every server scans for news and delivers.
		retries := s.settings.Webhooks.RetryCount
		if retries == 0 {
			retries = -1 // none (hookdelivery's 0 is its default)
		}
		d := hookdelivery.New(s.backends.Storage, s.backends.State.Queue, s.hooks, hookdelivery.Options{
			RetryCount: retries, RetryDelay: s.settings.Webhooks.RetryDelay, Lease: s.settings.Webhooks.DeliveryLease,
			Registerer: s.registry, Log: s.log})
		go func() {
			if err := d.Run(sweepCtx); err != nil && sweepCtx.Err() == nil {
				s.log.Error("webhook delivery stopped", "error", err)
			}
		}()
	}
	s.log.Info("listening", "address", ln.Addr().String(), "serverId", s.settings.Farm.ServerID,
		"storage", s.settings.Storage.Provider, "distributedState", s.settings.DistributedState.Provider)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.log.Info("shutting down", "delay", s.settings.Server.ShutdownDelay.String())
	if d := s.settings.Server.ShutdownDelay; d > 0 {
		time.Sleep(d)
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.settings.Server.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	s.log.Info("stopped")
	return nil
}

// keyRingOpenTimeout bounds the start-up read (and, on an empty store, the
// creation) of the key ring.
const keyRingOpenTimeout = 30 * time.Second

// KeyRing returns the server's key ring.
func (s *Server) KeyRing() *keyring.Ring { return s.backends.KeyRing }

// Close releases the server's connections.
func (s *Server) Close() { _ = s.backends.Close() }
