package caddymodule

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// Sign-ins a client address may start: a burst of loginBurst, then one
// every loginEvery. Each start stores a login state (about 300 bytes, 10
// minutes) in the shared Redis, so without a limit one client could fill
// the Redis that also holds every session.
const (
	loginBurst = 20
	loginEvery = 2 * time.Second
	// maxLimited bounds the table; past it, it starts over.
	maxLimited = 100_000
)

// loginLimiter is a token bucket per client address, in this edge's memory
// (a farm of N edges lets a client start N times as many; the bound that
// matters, Redis memory, stays linear in the number of edges).
type loginLimiter struct {
	mu      sync.Mutex
	buckets map[string]bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// allow takes a token for the request's client, or reports how long to wait.
func (l *loginLimiter) allow(r *http.Request) (bool, time.Duration) {
	ip, _ := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string)
	if ip == "" {
		ip, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil || len(l.buckets) >= maxLimited {
		l.buckets = map[string]bucket{}
	}
	b, ok := l.buckets[ip]
	if !ok {
		b = bucket{tokens: loginBurst, at: now}
	}
	b.tokens = min(loginBurst, b.tokens+now.Sub(b.at).Seconds()/loginEvery.Seconds())
	b.at = now
	if b.tokens < 1 {
		l.buckets[ip] = b
		return false, time.Duration((1 - b.tokens) * float64(loginEvery))
	}
	b.tokens--
	l.buckets[ip] = b
	return true, 0
}
