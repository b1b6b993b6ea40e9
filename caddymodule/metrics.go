package caddymodule

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cesivi/cesivi/internal/websession"
)

// edgeCounters live with the shared resources, so they survive config
// reloads; collectors reading them are registered in each config's
// registry (Caddy's /metrics, or the metrics handler).
type edgeCounters struct {
	// Sessions resolved from a cookie, by outcome.
	sessionValid, sessionInvalid, sessionUnavailable atomic.Uint64
	// Sign-ins completed at the callback, by outcome.
	loginOK, loginRefused, loginUnavailable atomic.Uint64
	// Requests that needed a signed-in user and had none.
	loginRequired atomic.Uint64
	// Bearer tokens presented, by outcome.
	bearerValid, bearerInvalid atomic.Uint64
}

// collectorSet is the Registerer the backends register their metrics on:
// it keeps them, and registerMetrics registers them in each config's
// registry (a collector may be in several).
type collectorSet struct {
	mu         sync.Mutex
	collectors []prometheus.Collector
}

func (s *collectorSet) Register(c prometheus.Collector) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.collectors = append(s.collectors, c)
	return nil
}

func (s *collectorSet) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = s.Register(c)
	}
}

func (s *collectorSet) Unregister(c prometheus.Collector) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, have := range s.collectors {
		if have == c {
			s.collectors = append(s.collectors[:i], s.collectors[i+1:]...)
			return true
		}
	}
	return false
}

func (s *collectorSet) all() []prometheus.Collector {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]prometheus.Collector(nil), s.collectors...)
}

// registerMetrics adds the edge's collectors, and its backends' (the
// token cache, the key ring, the session store), to the config's registry.
// Labels are bounded (outcomes only: never a user or session id).
func registerMetrics(ctx caddy.Context, r *resources) error {
	reg := ctx.GetMetricsRegistry()
	if reg == nil {
		return nil
	}
	c := &r.counters
	counter := func(name, help string, labels prometheus.Labels, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "cesivi", Subsystem: "edge", Name: name, Help: help, ConstLabels: labels,
		}, func() float64 { return float64(v.Load()) })
	}
	hits := prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "cesivi", Subsystem: "edge",
		Name: "session_cache_hits_total", Help: "Sessions served from the edge's farm-invalidated memory cache."},
		func() float64 { h, _ := r.sessions.Stats(); return float64(h) })
	misses := prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "cesivi", Subsystem: "edge",
		Name: "session_cache_misses_total", Help: "Sessions loaded from the distributed state store."},
		func() float64 { _, m := r.sessions.Stats(); return float64(m) })
	const refreshHelp = "Refreshes of sessions' provider tokens, by result (refused: the session ended; failed: provider unreachable, retried later)."
	refresh := func(result string, v func(websession.RefreshStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "cesivi", Subsystem: "edge", Name: "token_refreshes_total", Help: refreshHelp,
			ConstLabels: prometheus.Labels{"result": result},
		}, func() float64 { return float64(v(r.refresher.Stats())) })
	}
	const sessHelp = "Session cookies resolved, by result (valid, invalid: cleared, unavailable: store down, cookie kept)."
	const loginHelp = "Sign-ins completed at the callback, by result."
	const bearerHelp = "Bearer access tokens presented by API clients, by result (validations are cached farm-wide)."
	for _, col := range append(r.collectors.all(),
		hits, misses,
		counter("sessions_total", sessHelp, prometheus.Labels{"result": "valid"}, &c.sessionValid),
		counter("sessions_total", sessHelp, prometheus.Labels{"result": "invalid"}, &c.sessionInvalid),
		counter("sessions_total", sessHelp, prometheus.Labels{"result": "unavailable"}, &c.sessionUnavailable),
		counter("logins_total", loginHelp, prometheus.Labels{"result": "ok"}, &c.loginOK),
		counter("logins_total", loginHelp, prometheus.Labels{"result": "refused"}, &c.loginRefused),
		counter("logins_total", loginHelp, prometheus.Labels{"result": "unavailable"}, &c.loginUnavailable),
		counter("login_required_total", "Requests that needed a signed-in user and had none.", nil, &c.loginRequired),
		counter("bearer_tokens_total", bearerHelp, prometheus.Labels{"result": "valid"}, &c.bearerValid),
		counter("bearer_tokens_total", bearerHelp, prometheus.Labels{"result": "invalid"}, &c.bearerInvalid),
		refresh("ok", func(s websession.RefreshStats) uint64 { return s.OK }),
		refresh("refused", func(s websession.RefreshStats) uint64 { return s.Refused }),
		refresh("failed", func(s websession.RefreshStats) uint64 { return s.Failed }),
	) {
		if err := reg.Register(col); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return err
			}
		}
	}
	return nil
}
