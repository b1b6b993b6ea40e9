package state

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Sentinel errors. Providers wrap them with %w and callers test with
// errors.Is.
var (
	// ErrNotFound: the session, entry or lock does not exist (or expired).
	ErrNotFound = errors.New("state: not found")
	// ErrConflict: the operation lost a race or the caller does not hold
	// what it claims to (a lock held by someone else, a session id taken).
	ErrConflict = errors.New("state: conflict")
	// ErrStoreUnavailable: the store could not be reached or did not answer
	// in time. It never means "not found".
	ErrStoreUnavailable = errors.New("state: store unavailable")
)

// Defaults for Options.
const (
	DefaultIdleTimeout      = 20 * time.Minute
	DefaultAbsoluteLifetime = 8 * time.Hour
	DefaultCacheMaxTTL      = 5 * time.Minute
	DefaultTokenCacheMaxTTL = time.Minute
)

// Logger categories the seed names.
const (
	SessionLogCategory     = "Cesivi.Server.Services.DistributedSessionStateStore"
	UserContextLogCategory = "Cesivi.Server.Authorization.DistributedUserContextCache"
	TokenLogCategory       = "Cesivi.Server.Authentication.DistributedTokenCache"
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

// Session is one login session. Tokens are opaque: the caller encrypts them
// with the key ring before storing and decrypts after loading, so the store
// never holds a usable token.
type Session struct {
	ID       string
	UserID   string
	SID      string // OpenID Connect session id ("sid" claim), may be empty
	Tokens   []byte
	Data     map[string]string
	Created  time.Time
	LastSeen time.Time // as of the last TTL refresh (at most IdleTimeout/4 old)
	Expires  time.Time // the earlier of LastSeen+IdleTimeout and Created+AbsoluteLifetime
}

// SessionUpdate names what changed; only that is written.
type SessionUpdate struct {
	Tokens *[]byte           // nil: unchanged
	Set    map[string]string // data entries to set
	Delete []string          // data entries to remove
}

// SessionStore keeps sessions with a sliding idle timeout and an absolute
// lifetime.
type SessionStore interface {
	// Create stores a new session. An empty s.ID gets a fresh random id;
	// Created and LastSeen are set from the clock. An existing id is
	// ErrConflict.
	Create(ctx context.Context, s *Session) error
	// Load returns the session and slides its expiry, in one round trip.
	// The expiry is refreshed at most every IdleTimeout/4.
	Load(ctx context.Context, id string) (*Session, error)
	// Update writes only what upd names.
	Update(ctx context.Context, id string, upd SessionUpdate) error
	// Delete removes a session; a missing one is not an error.
	Delete(ctx context.Context, id string) error
	// ListUser returns the user's live sessions, pruning dead index entries.
	ListUser(ctx context.Context, userID string) ([]*Session, error)
	// RevokeUser deletes every session of the user and returns how many.
	RevokeUser(ctx context.Context, userID string) (int, error)
	// RevokeSID deletes every session with the OpenID Connect sid.
	RevokeSID(ctx context.Context, sid string) (int, error)
}

// UserContextCache caches what a user may do, per server and shared,
// invalidated across the farm.
type UserContextCache interface {
	// Get returns the user's cached context, calling load on a miss. A
	// value loaded while an invalidation for the user raced it is returned
	// to this caller but not cached.
	Get(ctx context.Context, userID string, load func(context.Context) ([]byte, error)) ([]byte, error)
	// Invalidate drops the user's entry on every server; "*" drops all.
	Invalidate(ctx context.Context, userID string) error
}

// Locker hands out leases.
type Locker interface {
	// Acquire takes the named lease for ttl, renewing it in the background
	// at ttl/3 until Release. A lease held by someone else is ErrConflict.
	Acquire(ctx context.Context, name string, ttl time.Duration) (*Lease, error)
}

// PubSub is a small facade over publish/subscribe. Delivery is at most
// once: a subscriber that was disconnected has missed messages, which is
// what Handler.OnReset is for.
type PubSub interface {
	Publish(ctx context.Context, channel, payload string) error
	// Subscribe calls h.OnMessage for each message until the subscription
	// is closed. It returns once the first subscription is in place.
	Subscribe(ctx context.Context, channel string, h Handler) (Subscription, error)
}

// Handler receives a subscription's events. Both functions run on the
// subscription's goroutine.
type Handler struct {
	OnMessage func(payload string)
	// OnReset is called when the subscription is (re)established and when
	// its connection is lost: messages may have been missed, so anything
	// derived from them must be dropped. connected tells which.
	OnReset func(connected bool)
}

// Subscription is an active subscription.
type Subscription interface {
	// Connected reports whether the subscription is currently in place.
	Connected() bool
	Close() error
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
