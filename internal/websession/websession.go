// Package websession is the edge's session behaviour, free of Caddy: it
// turns a session cookie into a session (the cookie, minted and verified
// with the farm's key ring, names a session kept in the distributed state
// store, so any edge can serve any request), starts the session of a
// sign-in (ending the one before), ends sessions (logout, back-channel
// logout), seals the provider's tokens kept in a session, and keeps them
// fresh (Refresher). Whatever changes a session goes through the Resolver,
// so this edge's cache never serves a copy older than its own writes.
//
// To keep the per-request cost near zero, resolved sessions are cached in
// process for a short time (CacheTTL). The cache is consistent across the
// farm because every deletion of a session (logout, revocation, id change)
// publishes a notice on state.SessionRevokedChannel that every edge's cache
// obeys at once; while that subscription is down the cache is bypassed and
// emptied, so a missed notice can never keep a revoked session alive. A
// cached session is also dropped when its own expiry passes.
//
// Consistency model: a session deleted on one edge stops working on every
// edge within the pub/sub delivery time (milliseconds); a cookie whose key
// is revoked stops working as soon as the edge's key ring learns of the
// revocation (keyring change notices, also sub-second), whatever the cache
// holds, because the cookie is verified on every request.
package websession

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cesivi/cesivi/internal/flight"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/keyring"
)

// ErrInvalid means the cookie does not name a live session (bad MAC,
// revoked or unknown key, expired, deleted): the caller clears the cookie.
// It is never returned when the store is merely unreachable; that error
// wraps state.ErrStoreUnavailable and the cookie must be kept.
var ErrInvalid = errors.New("websession: no valid session")

// Data keys under which the identity of a signed-in user is kept in the
// session's data bag (state.Session.UserID is the subject).
const (
	DataName   = "name"
	DataEmail  = "email"
	DataGroups = "groups" // a JSON array of strings
)

// DefaultCacheTTL bounds how long a resolved session is served from memory.
const DefaultCacheTTL = 10 * time.Second

// maxCached bounds the cache; past it the cache starts over (a farm edge
// with more live sessions than this just pays the store round trip more
// often).
const maxCached = 200_000

// Options configure a Resolver.
type Options struct {
	Ring     *keyring.Ring
	Sessions state.SessionStore
	// PubSub carries the revocation notices. Nil disables the cache
	// (every request loads from the store), which is always correct.
	PubSub state.PubSub
	// CacheTTL (default DefaultCacheTTL); negative disables the cache.
	CacheTTL time.Duration
	// AbsoluteLifetime is the store's (default state.DefaultAbsoluteLifetime):
	// cookies expire with it.
	AbsoluteLifetime time.Duration
	// StoreTimeout bounds the store's time for each load and create,
	// retries included (default DefaultStoreTimeout): a store that accepts
	// connections and never answers costs a request this long, then
	// state.ErrStoreUnavailable. It is set here, on the store's path only,
	// so a cache hit costs no timer.
	StoreTimeout time.Duration
	Now          func() time.Time
}

// DefaultStoreTimeout is Options.StoreTimeout's default.
const DefaultStoreTimeout = 1500 * time.Millisecond

// Resolver resolves and creates sessions. It is safe for concurrent use.
type Resolver struct {
	ring     *keyring.Ring
	sessions state.SessionStore
	ttl      time.Duration
	absolute time.Duration
	now      func() time.Time
	// storeTimeout: Options.StoreTimeout.
	storeTimeout time.Duration

	mu    sync.RWMutex
	cache map[string]cached
	// gen counts notices and resets. A load that began under another
	// generation may have read a session a notice has since revoked, so
	// its result is not cached (it is still returned: it was valid when
	// read, exactly as if the request had come a moment earlier).
	gen uint64
	// live is true while the revocation subscription is in place; the
	// cache is used only then.
	live atomic.Bool
	sub  state.Subscription

	hits, misses atomic.Uint64

	// refills coalesces the cache misses of one session: however many
	// requests find its copy expired at once, one reads the store.
	refills flight.Group[refillKey, refilled]
}

type cached struct {
	s       *state.Session
	validTo time.Time // the earlier of fetch+TTL and the session's expiry
}

// New returns a Resolver; with a PubSub it subscribes to revocation notices
// before it returns.
func New(ctx context.Context, o Options) (*Resolver, error) {
	if o.Ring == nil || o.Sessions == nil {
		return nil, errors.New("websession: a key ring and a session store are required")
	}
	r := &Resolver{ring: o.Ring, sessions: o.Sessions, ttl: o.CacheTTL, absolute: o.AbsoluteLifetime, now: o.Now,
		cache: map[string]cached{}}
	if r.absolute <= 0 {
		r.absolute = state.DefaultAbsoluteLifetime
	}
	if r.storeTimeout = o.StoreTimeout; r.storeTimeout <= 0 {
		r.storeTimeout = DefaultStoreTimeout
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.ttl == 0 {
		r.ttl = DefaultCacheTTL
	}
	if o.PubSub != nil && r.ttl > 0 {
		sub, err := o.PubSub.Subscribe(ctx, state.SessionRevokedChannel, state.Handler{
			OnMessage: r.onNotice,
			OnReset: func(connected bool) {
				// Messages may have been missed: start over, and use the
				// cache only while notices can reach it.
				r.live.Store(false)
				r.flush()
				r.live.Store(connected)
			},
		})
		if err != nil {
			return nil, fmt.Errorf("websession: subscribing to %s: %w", state.SessionRevokedChannel, err)
		}
		r.sub = sub
		r.live.Store(sub.Connected())
	}
	return r, nil
}

// Close ends the subscription.
func (r *Resolver) Close() error {
	if r.sub != nil {
		return r.sub.Close()
	}
	return nil
}

// Stats reports cache hits and misses (misses include bypasses).
func (r *Resolver) Stats() (hits, misses uint64) { return r.hits.Load(), r.misses.Load() }

// Resolve returns the session the cookie value names.
func (r *Resolver) Resolve(ctx context.Context, cookie string) (*state.Session, error) {
	c, err := r.ring.VerifySessionCookie(cookie)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	// The id's hex form on the stack: a hit looks it up without
	// allocating (the compiler does not copy a []byte converted for a
	// map index); only a miss makes it a string.
	var hexID [2 * keyring.SessionIDSize]byte
	hex.Encode(hexID[:], c.SessionID[:])
	now := r.now()
	if r.live.Load() {
		r.mu.RLock()
		e, ok := r.cache[string(hexID[:])]
		r.mu.RUnlock()
		if ok && now.Before(e.validTo) {
			r.hits.Add(1)
			return e.s, nil
		}
	}
	id := string(hexID[:])
	r.misses.Add(1)
	for r.live.Load() {
		r.mu.RLock()
		gen := r.gen
		r.mu.RUnlock()
		res, led, err := r.refills.Do(ctx, refillKey{id, gen}, r.storeTimeout, func(ctx context.Context) (refilled, error) {
			// A request that missed just before the previous refill
			// filled the cache, and came here just after it left, finds
			// the copy in the cache.
			r.mu.RLock()
			e, ok := r.cache[id]
			same := r.gen == gen
			r.mu.RUnlock()
			if ok && same && r.now().Before(e.validTo) {
				return refilled{s: e.s}, nil
			}
			s, fresh, err := r.loadAt(ctx, id, gen)
			return refilled{s: s, private: !fresh}, err
		})
		if err != nil {
			// The store's answer (never cached), or ctx's error.
			return nil, err
		}
		if res.private && !led {
			continue
		}
		return cloneSession(res.s), nil
	}
	// Without notices a refill cannot tell that a revocation overtook it:
	// every request reads the store itself.
	return r.load(ctx, id)
}

// refillKey names one refill of a session's cached copy: a caller that
// comes after a notice, a reset or this edge's own change (each bumps gen)
// never joins a refill that started before it.
type refillKey struct {
	id  string
	gen uint64
}

// refilled is what one refill read. private: the generation moved while
// it read (the session may have been revoked or changed meanwhile), so
// the copy answers the caller that started the refill only (it was valid
// when read, as if that request had come a moment earlier), is not
// cached, and the callers that joined start over.
type refilled struct {
	s       *state.Session
	private bool
}

// cloneSession copies what a caller could change in a session, so that
// the callers of one refill share no memory.
func cloneSession(s *state.Session) *state.Session {
	c := *s
	c.Tokens = bytes.Clone(s.Tokens)
	c.Data = maps.Clone(s.Data)
	return &c
}

// load reads the session from the store and, while notices can reach the
// cache, keeps what it read there: a caller that had to go to the store
// (the refresher, which must see other edges' writes, so it never joins a
// refill that started before it asked) leaves the newest copy behind for
// the requests that follow.
func (r *Resolver) load(ctx context.Context, id string) (*state.Session, error) {
	r.mu.RLock()
	gen := r.gen
	r.mu.RUnlock()
	s, _, err := r.loadAt(ctx, id, gen)
	return s, err
}

// loadAt is load for a caller that read the generation gen before it
// decided to load: the copy is cached only if nothing was revoked or
// changed since (fresh).
func (r *Resolver) loadAt(ctx context.Context, id string, gen uint64) (s *state.Session, fresh bool, err error) {
	now := r.now()
	// A derived context, not a deadline the store only reads: the
	// caller must leave at its own deadline even while an earlier turn
	// of the store's load batcher holds its queue (issue 13's bound on a
	// request's Redis time), which only a Done channel gives.
	ctx, cancel := context.WithTimeout(ctx, r.storeTimeout)
	defer cancel()
	s, err = r.sessions.Load(ctx, id)
	switch {
	case errors.Is(err, state.ErrNotFound):
		r.forget(id)
		return nil, false, fmt.Errorf("%w: the session has ended", ErrInvalid)
	case err != nil:
		return nil, false, err
	}
	if r.live.Load() {
		validTo := now.Add(r.ttl)
		if s.Expires.Before(validTo) {
			validTo = s.Expires
		}
		r.mu.Lock()
		if fresh = r.gen == gen && r.live.Load(); fresh {
			if len(r.cache) >= maxCached {
				r.cache = map[string]cached{}
			}
			r.cache[id] = cached{s: s, validTo: validTo}
		}
		r.mu.Unlock()
	}
	return s, fresh, nil
}

// Create stores a new session with a fresh id and returns it with its
// cookie value. The cookie expires with the session's absolute lifetime.
func (r *Resolver) Create(ctx context.Context, s *state.Session) (*state.Session, string, error) {
	id := keyring.NewSessionID()
	s.ID = id.String()
	sctx, cancel := context.WithTimeout(ctx, r.storeTimeout)
	defer cancel()
	if err := r.sessions.Create(sctx, s); err != nil {
		return nil, "", err
	}
	cookie, err := r.ring.MintSessionCookie(id, s.Created.Add(r.absolute))
	if err != nil {
		// A session nobody can name is useless; do not leave it behind.
		_ = r.sessions.Delete(context.WithoutCancel(ctx), s.ID)
		return nil, "", err
	}
	return s, cookie, nil
}

// Update writes what upd names and drops this edge's cached copy, so the
// next request of the session sees the change instead of the copy cached
// before it. Other edges see it when their copy expires (at most CacheTTL):
// updates publish no notice, so only changes that may be seen late go
// through here (ending a session goes through Delete).
func (r *Resolver) Update(ctx context.Context, id string, upd state.SessionUpdate) error {
	err := r.sessions.Update(ctx, id, upd)
	// After the write, so that a load racing it is not cached either (the
	// generation moves on).
	r.forget(id)
	return err
}

// Delete ends a session on every edge (the store publishes the notice; the
// local entry goes at once so this edge does not wait for its own echo).
// Tokens reads the session's sealed tokens from the store (never from the
// cache: sessions are loaded without them, see state.SessionStore.Load).
func (r *Resolver) Tokens(ctx context.Context, id string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, r.storeTimeout)
	defer cancel()
	return r.sessions.Tokens(ctx, id)
}

func (r *Resolver) Delete(ctx context.Context, id string) error {
	r.forget(id)
	return r.sessions.Delete(ctx, id)
}

func (r *Resolver) forget(id string) {
	r.mu.Lock()
	r.gen++
	delete(r.cache, id)
	r.mu.Unlock()
}

func (r *Resolver) flush() {
	r.mu.Lock()
	r.gen++
	r.cache = map[string]cached{}
	r.mu.Unlock()
}

func (r *Resolver) onNotice(payload string) {
	n, err := state.ParseSessionRevocation(payload)
	if err != nil {
		// Unknown notice: be safe, drop everything.
		r.flush()
		return
	}
	r.Revoked(n)
}

// Revoked drops what a revocation names from this edge's cache at once.
// The store's notice does the same on every edge, asynchronously; an edge
// that revoked sessions itself calls this so its very next request cannot
// be served from its cache.
func (r *Resolver) Revoked(n state.SessionRevocation) {
	if n.Kind == state.RevokedSession {
		r.forget(n.Value)
		return
	}
	r.mu.Lock()
	r.gen++
	for id, e := range r.cache {
		if (n.Kind == state.RevokedUser && e.s.UserID == n.Value) || (n.Kind == state.RevokedSID && e.s.SID == n.Value) {
			delete(r.cache, id)
		}
	}
	r.mu.Unlock()
}

// Groups returns the groups kept in a session's data. The slice is
// shared by every caller that reads the same groups: it must not be
// changed.
//
// A session's groups are the same on every request of it (and mostly
// the same among a farm's users), so their decoded form is kept, keyed
// by the encoded value, and a request costs a map lookup instead of a
// JSON decode, with a cached session or a strict one alike.
func Groups(s *state.Session) []string {
	g := s.Data[DataGroups]
	if g == "" {
		return nil
	}
	decodedGroups.mu.RLock()
	list, ok := decodedGroups.m[g]
	decodedGroups.mu.RUnlock()
	if ok {
		return list
	}
	list = decodeGroups(g)
	if len(g) > maxDecodedGroupsSize {
		return list
	}
	decodedGroups.mu.Lock()
	if len(decodedGroups.m) >= maxDecodedGroups {
		decodedGroups.m = map[string][]string{}
	}
	decodedGroups.m[g] = list
	decodedGroups.mu.Unlock()
	return list
}

// maxDecodedGroups bounds the decoded groups kept; past it they start
// over (an edge whose users have more distinct sets of groups than this
// just decodes more often).
const maxDecodedGroups = 4096

// maxDecodedGroupsSize: longer encoded groups are decoded every time, so
// the kept ones stay within maxDecodedGroups × this (16 MiB).
const maxDecodedGroupsSize = 4096

var decodedGroups = struct {
	mu sync.RWMutex
	m  map[string][]string
}{m: map[string][]string{}}

func decodeGroups(g string) []string {
	var list []string
	if err := json.Unmarshal([]byte(g), &list); err != nil {
		// Sessions signed in before groups were kept as JSON: one per line.
		return strings.Split(g, "\n")
	}
	return list
}

// encodeGroups is the DataGroups value of groups ("" for none). A group
// name may hold any character, a newline included: it stays one group.
func encodeGroups(groups []string) string {
	if len(groups) == 0 {
		return ""
	}
	b, _ := json.Marshal(groups)
	return string(b)
}
