package state

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for Options.
const (
	DefaultIdleTimeout      = 20 * time.Minute
	DefaultAbsoluteLifetime = 8 * time.Hour
	DefaultCacheMaxTTL      = 5 * time.Minute
	DefaultTokenCacheMaxTTL = time.Minute
)

// Options are shared by the providers. The zero value is useful.
type Options struct {
	// IdleTimeout is the sliding session timeout (default 20 min).
	IdleTimeout time.Duration
	// AbsoluteLifetime bounds a session whatever its activity (default 8 h).
	AbsoluteLifetime time.Duration
	// CacheMaxTTL bounds every user-context cache entry (default 5 min).
	CacheMaxTTL time.Duration
	// TokenCacheMaxTTL bounds how long a validated bearer token is trusted
	// without asking the provider again (default 1 min): a token revoked at
	// the provider works at most this much longer.
	TokenCacheMaxTTL time.Duration
	// Now is the clock (default time.Now); tests inject a fake one.
	Now func() time.Time
	// Registerer receives the provider's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Unused names the caches this process never consults, whose metrics
	// are therefore not registered (they would read 0 forever and
	// mislead): an app server validates no bearer token, an edge reads no
	// user context. The caches themselves still work.
	Unused Caches
	// SessionLog, CacheLog and TokenLog default to a discarding logger.
	SessionLog, CacheLog, TokenLog *slog.Logger
}

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.AbsoluteLifetime <= 0 {
		o.AbsoluteLifetime = DefaultAbsoluteLifetime
	}
	if o.CacheMaxTTL <= 0 {
		o.CacheMaxTTL = DefaultCacheMaxTTL
	}
	if o.TokenCacheMaxTTL <= 0 {
		o.TokenCacheMaxTTL = DefaultTokenCacheMaxTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SessionLog == nil {
		o.SessionLog = slog.New(slog.DiscardHandler)
	}
	if o.CacheLog == nil {
		o.CacheLog = slog.New(slog.DiscardHandler)
	}
	if o.TokenLog == nil {
		o.TokenLog = slog.New(slog.DiscardHandler)
	}
	return o
}

// Caches is a set of the provider's two-layer caches.
type Caches uint8

// The caches of a provider.
const (
	UserContextCacheSet Caches = 1 << iota
	TokenCacheSet
)

// RegistererFor is the Registerer for cache c's metrics: nil when the
// process does not use c.
func (o Options) RegistererFor(c Caches) prometheus.Registerer {
	if o.Unused&c != 0 {
		return nil
	}
	return o.Registerer
}

// Provider bundles one provider's capabilities. Close releases its
// connections and background goroutines.
type Provider struct {
	// Name is "InMemory" or "Redis", as in Cesivi:DistributedState:Provider.
	Name         string
	Sessions     SessionStore
	UserContexts UserContextCache
	// Tokens caches validated bearer tokens (the seed's distributed token
	// cache), keyed by the token's SHA-256 in hex; Get's load asks the
	// identity provider.
	Tokens  UserContextCache
	Locks   Locker
	PubSub  PubSub
	Queue   Queue
	Tickets Tickets
	// Ping reports whether the store answers (for /health/ready).
	Ping  func(ctx context.Context) error
	Close func() error
}

// NewID returns a random 256-bit id, URL-safe base64 without padding. It
// stays in the contract because it is the id format: session ids travel in
// cookies and must stay cookie-safe whichever provider made them, and
// WorkerOptions' default consumer name is one.
func NewID() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
