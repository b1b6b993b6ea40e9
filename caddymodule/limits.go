package caddymodule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cesivi/cesivi/internal/httperr"
	"github.com/cesivi/cesivi/internal/ratelimit"
	"github.com/cesivi/cesivi/internal/ratesync"
)

// RateLimit (module cesivi_rate_limit) limits requests per client
// address, per session or per signed-in user, in zones that each match a
// route group (e.g. /_api/* writes, sign-in starts). The counters are
// shared by every edge of the farm through its Redis (internal/ratesync):
// counted locally, synchronised every sync_interval, so a farm of N edges
// does not allow N times the limit and no request waits for Redis unless
// its edge has already admitted a zone's burst of requests Redis has not
// confirmed. docs/edge.md ("Rate limits") states the bound.
type RateLimit struct {
	Zones []RateZone `json:"zones,omitempty"`
	// SyncInterval is how often counts are pushed to Redis and the farm's
	// totals pulled back. Default: 500ms.
	SyncInterval caddy.Duration `json:"sync_interval,omitempty"`

	zones   []*rateZone
	syncer  *ratesync.Syncer
	limited *prometheus.CounterVec
}

// RateZone is one limit: at most Events requests per Window for each key
// among the requests its matchers select.
type RateZone struct {
	// Name identifies the zone's counters in Redis: zones of the same
	// name on several edges share them, so give every edge the same zones.
	Name           string                   `json:"name"`
	MatcherSetsRaw caddyhttp.RawMatcherSets `json:"match,omitempty" caddy:"namespace=http.matchers"`
	// Key is what is counted: "client" (the client address as Caddy's
	// trusted_proxies determine it, IPv6 by /64), "session" (the session
	// cookie's session, else the client address) or "user" (the signed-in
	// user, by session or bearer token, else the client address).
	// Default: client.
	Key    string         `json:"key,omitempty"`
	Events int            `json:"events"`
	Window caddy.Duration `json:"window"`
	// Burst is how many requests per key one edge admits that Redis has
	// not confirmed yet; the farm admits at most Events - 1 + N×Burst with
	// N edges. Default: Events/20 (at least 1).
	Burst int `json:"burst,omitempty"`
	// MaxKeys bounds the keys an edge holds for the zone (the least
	// recently seen is forgotten first). Default: 100000.
	MaxKeys int `json:"max_keys,omitempty"`
}

// Zone keys.
const (
	RateKeyClient  = "client"
	RateKeySession = "session"
	RateKeyUser    = "user"
)

type rateZone struct {
	RateZone
	matchers caddyhttp.MatcherSets
	limiter  *ratelimit.Limiter
}

// CaddyModule returns the Caddy module information.
func (RateLimit) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.cesivi_rate_limit", New: func() caddy.Module { return new(RateLimit) }}
}

// Provision builds the zones' limiters and starts their sync with the
// farm's Redis (none with a memory state provider: each edge then limits
// alone). The limiters live as long as this config; a reload pushes what
// is left and the new config's limiters learn the farm's totals from
// Redis within a burst.
func (h *RateLimit) Provision(ctx caddy.Context) error {
	if h.SyncInterval == 0 {
		h.SyncInterval = caddy.Duration(500 * time.Millisecond)
	}
	var sync []ratesync.Zone
	for i := range h.Zones {
		z := &rateZone{RateZone: h.Zones[i]}
		if z.Key == "" {
			z.Key = RateKeyClient
		}
		if z.Burst == 0 {
			z.Burst = max(1, z.Events/20)
		}
		if z.MatcherSetsRaw != nil {
			mods, err := ctx.LoadModule(&h.Zones[i], "MatcherSetsRaw")
			if err != nil {
				return fmt.Errorf("cesivi_rate_limit: zone %s: matchers: %w", z.Name, err)
			}
			if err := z.matchers.FromInterface(mods); err != nil {
				return fmt.Errorf("cesivi_rate_limit: zone %s: matchers: %w", z.Name, err)
			}
		}
		z.limiter = ratelimit.New(ratelimit.Config{Events: z.Events, Window: time.Duration(z.Window), Burst: z.Burst, MaxKeys: z.MaxKeys})
		h.zones = append(h.zones, z)
		sync = append(sync, ratesync.Zone{Name: z.Name, Window: time.Duration(z.Window), Limiter: z.limiter})
	}
	if err := h.validate(); err != nil {
		return err
	}
	if err := h.registerMetrics(ctx); err != nil {
		return err
	}
	v, err := ctx.AppIfConfigured("cesivi")
	if err != nil {
		return fmt.Errorf("cesivi_rate_limit needs the global cesivi option: %w", err)
	}
	app, ok := v.(*App)
	if !ok {
		return fmt.Errorf("cesivi_rate_limit: app cesivi is a %T", v)
	}
	b := app.res.backends
	if b.Redis == nil {
		for _, z := range h.zones {
			z.limiter.SetShared(false)
		}
		return nil
	}
	h.syncer = ratesync.New(b.Redis, sync, ratesync.Options{
		Prefix: b.Settings.DistributedState.KeyPrefix + "ratelimit:", Interval: time.Duration(h.SyncInterval), Logger: ctx.Slogger(),
	})
	go h.syncer.Run(ctx) // ctx ends when this config is unloaded
	return nil
}

func (h *RateLimit) validate() error {
	if len(h.Zones) == 0 {
		return fmt.Errorf("cesivi_rate_limit: no zone")
	}
	names := map[string]bool{}
	for _, z := range h.zones {
		switch {
		case z.Name == "":
			return fmt.Errorf("cesivi_rate_limit: a zone has no name")
		case names[z.Name]:
			return fmt.Errorf("cesivi_rate_limit: zone %s is defined twice", z.Name)
		case z.Key != RateKeyClient && z.Key != RateKeySession && z.Key != RateKeyUser:
			return fmt.Errorf("cesivi_rate_limit: zone %s: key %q: want client, session or user", z.Name, z.Key)
		case z.Events < 1:
			return fmt.Errorf("cesivi_rate_limit: zone %s: events must be at least 1", z.Name)
		case z.Window < caddy.Duration(time.Second):
			return fmt.Errorf("cesivi_rate_limit: zone %s: window must be at least 1s", z.Name)
		case z.Burst < 1 || z.Burst > z.Events:
			return fmt.Errorf("cesivi_rate_limit: zone %s: burst must be between 1 and events (%d)", z.Name, z.Events)
		case z.MaxKeys < 0:
			return fmt.Errorf("cesivi_rate_limit: zone %s: max_keys must not be negative", z.Name)
		}
		names[z.Name] = true
	}
	if h.SyncInterval < caddy.Duration(10*time.Millisecond) {
		return fmt.Errorf("cesivi_rate_limit: sync_interval must be at least 10ms")
	}
	return nil
}

// registerMetrics counts refusals per zone (zone names are bounded by the
// configuration; never a key) in the config's registry, which several
// sites' handlers share.
func (h *RateLimit) registerMetrics(ctx caddy.Context) error {
	h.limited = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "cesivi", Subsystem: "edge",
		Name: "rate_limited_total", Help: "Requests refused with 429 by cesivi_rate_limit, by zone."}, []string{"zone"})
	reg := ctx.GetMetricsRegistry()
	if reg == nil {
		return nil
	}
	if err := reg.Register(h.limited); err != nil {
		var already prometheus.AlreadyRegisteredError
		if !errors.As(err, &already) {
			return err
		}
		h.limited = already.ExistingCollector.(*prometheus.CounterVec)
	}
	return nil
}

// rateChecksVar holds, for cesivi_session, the zones that count sessions
// or users: only it knows them, after it has read the cookie or the token.
const rateChecksVar = "cesivi.rate_checks"

type rateChecks struct {
	h     *RateLimit
	zones []*rateZone
}

// ServeHTTP counts the request in every zone that matches it: per client
// at once, per session or user when cesivi_session has identified it
// (limitIdentity).
func (h *RateLimit) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	var later []*rateZone
	client := ""
	for _, z := range h.zones {
		match, err := z.matchers.AnyMatchWithError(r)
		if err != nil {
			return caddyhttp.Error(http.StatusInternalServerError, err)
		}
		if !match {
			continue
		}
		if z.Key != RateKeyClient {
			later = append(later, z)
			continue
		}
		if client == "" {
			client = clientKey(r)
		}
		if e := h.take(r.Context(), z, "c:"+client); e != nil {
			httperr.Write(w, e)
			return nil
		}
	}
	if len(later) > 0 {
		caddyhttp.SetVar(r.Context(), rateChecksVar, &rateChecks{h: h, zones: later})
	}
	return next.ServeHTTP(w, r)
}

// limitIdentity counts an identified request in the session and user
// zones of the cesivi_rate_limit before it (if any); a request without a
// session or user counts by its client address.
func limitIdentity(r *http.Request, v *visit) error {
	c, _ := caddyhttp.GetVar(r.Context(), rateChecksVar).(*rateChecks)
	if c == nil {
		return nil
	}
	for _, z := range c.zones {
		var key string
		switch {
		case z.Key == RateKeyUser && v.bearer != nil:
			key = "u:" + digest(v.bearer.Subject)
		case z.Key == RateKeyUser && v.session != nil && v.session.UserID != "":
			key = "u:" + digest(v.session.UserID)
		case z.Key == RateKeySession && v.session != nil:
			key = "s:" + digest(v.session.ID)
		default:
			key = "c:" + clientKey(r)
		}
		if e := c.h.take(r.Context(), z, key); e != nil {
			return e
		}
	}
	return nil
}

// digest keeps session ids (bearer secrets) and user ids out of Redis key
// names and the edge's memory: the counters need only tell them apart.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}

// unconfirmedWait bounds how long a request waits for sync rounds when
// its edge has admitted a burst Redis has not confirmed yet.
const unconfirmedWait = time.Second

// take counts one request of key in z, or returns the refusal.
func (h *RateLimit) take(ctx context.Context, z *rateZone, key string) *httperr.Error {
	if ok, wait := takeShared(ctx, z.limiter, h.syncer, key); !ok {
		if h.limited != nil {
			h.limited.WithLabelValues(z.Name).Inc()
		}
		return tooManyRequests(z, wait)
	}
	return nil
}

// takeShared counts one event of key in l, shared by s (nil: this edge
// alone), or reports how long to wait. A refusal because this edge's
// unconfirmed burst is spent waits for the next sync rounds (at most
// unconfirmedWait), which tell whether the farm has room: a burst of a
// client's parallel requests is delayed by a Redis round trip, not refused.
func takeShared(ctx context.Context, l *ratelimit.Limiter, s *ratesync.Syncer, key string) (bool, time.Duration) {
	deadline := time.Now().Add(unconfirmedWait)
	for {
		ok, retry := l.Allow(key)
		if ok {
			return true, 0
		}
		if retry > 0 {
			return false, retry
		}
		if s == nil || time.Now().After(deadline) {
			return false, time.Second
		}
		wctx, cancel := context.WithDeadline(ctx, deadline)
		s.Wait(wctx)
		cancel()
		if ctx.Err() != nil {
			return false, time.Second
		}
	}
}

// keyNames say what a zone counts, in a refusal's message.
var keyNames = map[string]string{RateKeyClient: "client address", RateKeySession: "session", RateKeyUser: "user"}

// tooManyRequests says which limit the request met and when to retry
// (Retry-After, which PnPjs and browsers' fetch retries honour).
func tooManyRequests(z *rateZone, wait time.Duration) *httperr.Error {
	secs := int((wait + time.Second - 1) / time.Second)
	return &httperr.Error{Status: http.StatusTooManyRequests, Code: "TooManyRequests",
		Message: fmt.Sprintf("too many requests: the limit %q allows %d per %v per %s; retry in %d s",
			z.Name, z.Events, time.Duration(z.Window), keyNames[z.Key], secs),
		RetryAfter: time.Duration(secs) * time.Second}
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*RateLimit)(nil)
	_ caddyhttp.MiddlewareHandler = (*RateLimit)(nil)
)
