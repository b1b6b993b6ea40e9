package statekit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cesivi/cesivi/internal/flight"
	"github.com/cesivi/cesivi/internal/state"
)

// UserContextShared is the shared layer of the user-context cache, provided
// by a provider. The version token returned by Read is passed back to Write,
// which must not store the value if an Invalidate for the user (or "*")
// happened in between.
type UserContextShared interface {
	// Read returns the shared value (ok) and when it expires, so a local
	// copy never outlives it.
	Read(ctx context.Context, userID string) (val []byte, exp time.Time, ok bool, version any, err error)
	// Write reports whether it stored the value.
	Write(ctx context.Context, userID string, version any, val []byte, ttl time.Duration) (bool, error)
	// Invalidate bumps the user's version ("*": every user's) and drops
	// the shared value.
	Invalidate(ctx context.Context, userID string) error
}

// CacheKind names one use of the two-layer cache: its invalidation channel,
// its metrics and its logger.
type CacheKind struct {
	Channel                    string
	HitsMetric, RequestsMetric string
	HitsHelp, RequestsHelp     string
}

// UserContextKind is the permission cache the seed describes.
var UserContextKind = CacheKind{
	Channel:    UserContextChannel,
	HitsMetric: "usercontext_cache_hits_total", HitsHelp: "User-context cache lookups answered from a cache (local or shared).",
	RequestsMetric: "usercontext_cache_requests_total", RequestsHelp: "User-context cache lookups.",
}

// TokenKind is the distributed token cache: who a validated bearer token
// is for, keyed by the token's SHA-256, invalidated on TokenChannel.
var TokenKind = CacheKind{
	Channel:    TokenChannel,
	HitsMetric: "token_cache_hits_total", HitsHelp: "Bearer-token validations answered from a cache (local or shared).",
	RequestsMetric: "token_cache_requests_total", RequestsHelp: "Bearer-token validations.",
}

// The invalidation channels. Only the providers' caches publish and
// subscribe on them, so they are the kit's, not the contract's; the payload
// is a user id (a token hash), or "*" for every entry.
const (
	UserContextChannel = "usercontext:invalidated"
	TokenChannel       = "token:invalidated"
)

// NewUserContextCache builds the permission cache: NewSharedCache with
// UserContextKind, opt.CacheMaxTTL and opt.CacheLog.
func NewUserContextCache(ctx context.Context, shared UserContextShared, ps state.PubSub, opt state.Options) (state.UserContextCache, state.Subscription, error) {
	opt = opt.WithDefaults()
	return NewSharedCache(ctx, shared, ps, UserContextKind, opt.CacheMaxTTL, opt.CacheLog, opt.RegistererFor(state.UserContextCacheSet), opt.Now)
}

// NewTokenCache builds the distributed token cache: NewSharedCache with
// TokenKind, opt.TokenCacheMaxTTL and opt.TokenLog.
func NewTokenCache(ctx context.Context, shared UserContextShared, ps state.PubSub, opt state.Options) (state.UserContextCache, state.Subscription, error) {
	opt = opt.WithDefaults()
	return NewSharedCache(ctx, shared, ps, TokenKind, opt.TokenCacheMaxTTL, opt.TokenLog, opt.RegistererFor(state.TokenCacheSet), opt.Now)
}

// NewSharedCache builds the two-layer cache both providers use: a local
// map per server in front of shared, kept coherent by messages on
// kind.Channel. It subscribes at once; close the returned Subscription
// when done.
func NewSharedCache(ctx context.Context, shared UserContextShared, ps state.PubSub, kind CacheKind, maxTTL time.Duration,
	log *slog.Logger, reg prometheus.Registerer, now func() time.Time) (state.UserContextCache, state.Subscription, error) {
	c := &userContextCache{
		shared: shared, ps: ps, channel: kind.Channel, maxTTL: maxTTL, now: now, log: log,
		entries: map[string]localEntry{}, maxEntries: MaxLocalEntries,
		hits: counter(reg, kind.HitsMetric, kind.HitsHelp),
		reqs: counter(reg, kind.RequestsMetric, kind.RequestsHelp),
	}
	sub, err := ps.Subscribe(ctx, kind.Channel, state.Handler{OnMessage: c.onMessage, OnReset: c.onReset})
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	c.sub = sub
	c.mu.Unlock()
	return c, sub, nil
}

type localEntry struct {
	val []byte
	exp time.Time
}

type userContextCache struct {
	shared  UserContextShared
	ps      state.PubSub
	channel string
	maxTTL  time.Duration
	now     func() time.Time
	log     *slog.Logger
	hits    prometheus.Counter
	reqs    prometheus.Counter

	mu         sync.Mutex
	gen        uint64 // bumped by every invalidation and reset
	entries    map[string]localEntry
	maxEntries int
	sub        state.Subscription

	refills flight.Group[refillKey, refilled]
}

// refillTimeout bounds one refill (shared read, load, shared write), which
// runs detached from the cancellation of the caller that started it: long
// enough for a token introspection (its HTTP client gives up after 10 s,
// after up to 2 s waiting for a slot).
const refillTimeout = 15 * time.Second

// refillKey names one refill: a caller that comes after an invalidation
// (which bumps gen) never joins a refill that started before it.
type refillKey struct {
	key string
	gen uint64
}

// refilled is what one refill found.
type refilled struct {
	val []byte
	hit bool // read from the shared layer
	// private: an invalidation overtook the refill (the shared layer
	// refused the write, or this server's generation moved on), so the
	// value answers only the caller that started it, is not cached, and
	// the callers that joined start over.
	private bool
}

// Get answers from the local layer, else from one refill per key and
// generation: concurrent misses of a key wait for the refill in flight
// (one shared read, at most one load), each with a copy of its value.
func (c *userContextCache) Get(ctx context.Context, userID string, load func(context.Context) ([]byte, error)) ([]byte, error) {
	c.reqs.Inc()
	for {
		now := c.now()
		c.mu.Lock()
		// Without a live subscription this server may miss invalidations,
		// so the local layer is bypassed (and empty: onReset flushed it).
		live := c.sub != nil && c.sub.Connected()
		if e, ok := c.entries[userID]; ok && live && now.Before(e.exp) {
			c.mu.Unlock()
			c.hits.Inc()
			return clone(e.val), nil
		}
		gen := c.gen
		c.mu.Unlock()

		r, led, err := c.refills.Do(ctx, refillKey{userID, gen}, refillTimeout, func(ctx context.Context) (refilled, error) {
			return c.refill(ctx, userID, gen, live, now, load)
		})
		if err != nil {
			// The refill's error (never cached), or ctx's.
			return nil, err
		}
		if r.private && !led {
			continue
		}
		if r.hit {
			c.hits.Inc()
		}
		// The refill's value is never handed out itself: no two callers
		// (nor the local layer) share its bytes.
		return clone(r.val), nil
	}
}

// refill reads the shared layer and, on a miss, loads and shares the
// value; it caches it locally while nothing has invalidated the key since
// gen.
func (c *userContextCache) refill(ctx context.Context, userID string, gen uint64, live bool, now time.Time,
	load func(context.Context) ([]byte, error)) (refilled, error) {
	// A caller that missed the local layer just before the previous
	// refill filled it, and came to the flights just after that refill
	// left, finds the value here.
	c.mu.Lock()
	if e, ok := c.entries[userID]; ok && live && c.gen == gen && now.Before(e.exp) {
		c.mu.Unlock()
		return refilled{val: e.val, hit: true}, nil
	}
	c.mu.Unlock()
	val, exp, ok, ver, err := c.shared.Read(ctx, userID)
	if err != nil {
		return refilled{}, err
	}
	if !ok {
		exp = now.Add(c.maxTTL)
		if val, err = load(ctx); err != nil {
			return refilled{}, err
		}
		stored, err := c.shared.Write(ctx, userID, ver, val, c.maxTTL)
		if err != nil {
			// The value is still right for this refill's callers; the
			// next reader loads again.
			c.log.Warn("cache entry not shared", "key", userID, "error", err)
			return refilled{val: val}, nil
		}
		if !stored {
			// Invalidated while loading (the message may still be on its
			// way): return it to the caller that loaded it only.
			return refilled{val: val, private: true}, nil
		}
	}
	// The local copy lives no longer than the shared entry (a bearer
	// token revoked at the provider is trusted at most maxTTL after its
	// validation, on every server), and never longer than maxTTL.
	if limit := now.Add(c.maxTTL); exp.IsZero() || exp.After(limit) {
		exp = limit
	}
	c.mu.Lock()
	fresh := c.gen == gen
	if fresh && live && now.Before(exp) {
		c.makeRoomLocked(now)
		c.entries[userID] = localEntry{val: clone(val), exp: exp}
	}
	c.mu.Unlock()
	return refilled{val: val, hit: ok, private: !fresh}, nil
}

// MaxLocalEntries bounds each server's local layer: a server that sees a
// new bearer token on every request must not grow without end.
const MaxLocalEntries = 10_000

// makeRoomLocked keeps the local layer under MaxLocalEntries: at the
// bound it drops every expired entry and, if that frees less than a tenth,
// a tenth of the others (the shared layer still holds them: a dropped
// entry costs one read). Amortised, each insert pays O(1).
func (c *userContextCache) makeRoomLocked(now time.Time) {
	if len(c.entries) < c.maxEntries {
		return
	}
	for k, e := range c.entries {
		if !now.Before(e.exp) {
			delete(c.entries, k)
		}
	}
	excess := len(c.entries) - c.maxEntries*9/10
	for k := range c.entries { // map order: an arbitrary choice
		if excess <= 0 {
			break
		}
		delete(c.entries, k)
		excess--
	}
}

// LocalLen is the number of entries in this server's local layer.
func (c *userContextCache) LocalLen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *userContextCache) Invalidate(ctx context.Context, userID string) error {
	if userID == "" {
		return errors.New("state: invalidate: empty user id")
	}
	if err := c.shared.Invalidate(ctx, userID); err != nil {
		return err
	}
	c.drop(userID)
	return c.ps.Publish(ctx, c.channel, userID)
}

func (c *userContextCache) drop(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if userID == "*" {
		clear(c.entries)
	} else {
		delete(c.entries, userID)
	}
}

func (c *userContextCache) onMessage(payload string) {
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		c.log.Debug("cache entry invalidated", "key", payload)
	}
	c.drop(payload)
}

func (c *userContextCache) onReset(connected bool) {
	c.log.Info("cache flushed", "channel", c.channel, "subscribed", connected)
	c.drop("*")
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// counter registers a counter on reg, reusing one already registered under
// the name (several providers in one process share it).
func counter(reg prometheus.Registerer, name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(prometheus.Counter); ok {
				return existing
			}
		}
	}
	return c
}
