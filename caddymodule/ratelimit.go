package caddymodule

import (
	"container/list"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/cesivi/cesivi/internal/ratelimit"
)

// What a client address may do that writes to the shared Redis without a
// signed-in user: each sign-in start stores a login state (about 300
// bytes, 10 minutes) and each anonymous session about 500 bytes for 20
// minutes, so without limits one client could fill the Redis that holds
// every session (then writes fail or real sessions are evicted).
const (
	loginBurst = 20
	loginEvery = 2 * time.Second

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
func clientKey(r *http.Request) string {
	ip, _ := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string)
	if ip == "" {
		ip, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	return ratelimit.ClientKey(addr)
}
