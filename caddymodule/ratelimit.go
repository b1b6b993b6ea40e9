package caddymodule

import (
	"container/list"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/ratelimit"
	"github.com/cesivi/cesivi/internal/ratesync"
)

// What a client address may do that writes to the shared Redis without a
// signed-in user: each sign-in start stores a login state (about 300
// bytes, 10 minutes) and each anonymous session about 500 bytes for 20
// minutes, so without limits one client could fill the Redis that holds
// every session (then writes fail or real sessions are evicted).
const (
	// Sign-in starts per client address and minute, counted by every edge
	// together (shared through Redis like cesivi_rate_limit's zones): a
	// start is the GET of LoginPath, never the redirect of a page load to
	// it, so a company behind one address spends one per sign-in, not one
	// per page its people open while signed out.
	loginEvents = 30
	loginWindow = time.Minute
	// limitSyncInterval is how often the edge's own limits sync with Redis.
	limitSyncInterval = 500 * time.Millisecond

	sessionBurst = 20
	sessionEvery = 2 * time.Second
	// Every client together may create anonymous sessions at this rate
	// per edge (with this burst): the bound on Redis memory a botnet can
	// take, whatever its number of addresses.
	sessionsGlobalBurst = 1000
	sessionsGlobalEvery = 5 * time.Millisecond

	// maxLimited bounds each table; past it, the least recently seen
	// address is forgotten (a fresh address gets a fresh burst anyway, so
	// forgetting the stalest costs the least).
	maxLimited = 100_000
)

// sharedLimit is one of the edge's own limits, shared by every edge through
// Redis (ratesync), for as long as the edge's resources live.
type sharedLimit struct {
	limiter *ratelimit.Limiter
	syncer  *ratesync.Syncer // nil without Redis
	stop    context.CancelFunc
	done    chan struct{}
}

// newSharedLimit starts the limit's sync when there is a Redis.
func newSharedLimit(name string, cfg ratelimit.Config, rdb redis.UniversalClient, prefix string, log *slog.Logger) *sharedLimit {
	cfg.Burst = max(1, cfg.Events/20)
	l := &sharedLimit{limiter: ratelimit.New(cfg)}
	if rdb == nil {
		l.limiter.SetShared(false)
		return l
	}
	l.syncer = ratesync.New(rdb, []ratesync.Zone{{Name: name, Window: cfg.Window, Limiter: l.limiter}},
		ratesync.Options{Prefix: prefix, Interval: limitSyncInterval, Logger: log})
	ctx, cancel := context.WithCancel(context.Background())
	l.stop, l.done = cancel, make(chan struct{})
	go func() { l.syncer.Run(ctx); close(l.done) }()
	return l
}

// allow takes one event for the request's client address.
func (l *sharedLimit) allow(r *http.Request) (bool, time.Duration) {
	return takeShared(r.Context(), l.limiter, l.syncer, clientKey(r))
}

// close pushes what is left and stops the sync.
func (l *sharedLimit) close() {
	if l != nil && l.stop != nil {
		l.stop()
		<-l.done
	}
}

// clientLimiter is a token bucket per client address, in this edge's
// memory (a farm of N edges lets a client do N times as much; the bound
// that matters, Redis memory, stays linear in the number of edges). IPv6
// addresses count per /64, the block one subscriber gets: otherwise a
// single host would have 2^64 fresh bursts.
type clientLimiter struct {
	burst float64
	every time.Duration
	max   int

	mu      sync.Mutex
	buckets map[string]*list.Element // of *bucket, most recent first
	order   list.List
}

type bucket struct {
	key    string
	tokens float64
	at     time.Time
}

func newClientLimiter(burst int, every time.Duration) *clientLimiter {
	return &clientLimiter{burst: float64(burst), every: every, max: maxLimited, buckets: map[string]*list.Element{}}
}

// allow takes a token for the request's client, or reports how long to wait.
func (l *clientLimiter) allow(r *http.Request) (bool, time.Duration) {
	return l.take(clientKey(r), time.Now())
}

func (l *clientLimiter) take(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if e, ok := l.buckets[key]; ok {
		l.order.MoveToFront(e)
		b = e.Value.(*bucket)
	} else {
		for len(l.buckets) >= l.max {
			oldest := l.order.Back()
			delete(l.buckets, oldest.Value.(*bucket).key)
			l.order.Remove(oldest)
		}
		b = &bucket{key: key, tokens: l.burst, at: now}
		l.buckets[key] = l.order.PushFront(b)
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()/l.every.Seconds())
	b.at = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.every))
	}
	b.tokens--
	return true, 0
}

// clientKey is the request's client address as Caddy determined it
// (trusted_proxies), an IPv6 address reduced to its /64.
func clientKey(r *http.Request) string { return clientKeyOf(clientIP(r), r.RemoteAddr) }

// clientIP is the client address Caddy determined ("" when it did not).
func clientIP(r *http.Request) string {
	ip, _ := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string)
	return ip
}

// clientKeyOf is clientKey of a request whose client address is ip
// (clientIP) and whose peer is remoteAddr.
func clientKeyOf(ip, remoteAddr string) string {
	if ip == "" {
		ip, _, _ = net.SplitHostPort(remoteAddr)
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	return ratelimit.ClientKey(addr)
}
