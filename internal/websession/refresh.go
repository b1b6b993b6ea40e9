package websession

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cesivi/cesivi/internal/oidclogin"
	"github.com/cesivi/cesivi/internal/state"
)

// RefreshEarly is how long before the access token's expiry a refresh
// starts.
const RefreshEarly = 30 * time.Second

// refreshRetry is the least time between two attempts for one session on
// one edge after an attempt that did not conclude (a provider that is down
// is not asked on every request).
const refreshRetry = 30 * time.Second

// refreshLease bounds one attempt, and the lease that makes it the farm's
// only one for the session.
const refreshLease = 30 * time.Second

// TokenSource redeems refresh tokens at the identity provider
// (*oidclogin.Flow). A refusal wraps oidclogin.ErrRefreshRefused; any other
// error means the provider could not answer.
type TokenSource interface {
	Refresh(ctx context.Context, refreshToken string) (*oidclogin.Tokens, error)
}

// RefreshStats counts concluded refreshes by outcome.
type RefreshStats struct {
	OK      uint64 // new tokens saved
	Refused uint64 // the provider refused the refresh token: the session ended
	Failed  uint64 // the provider could not answer: retried later
}

// Refresher keeps each session's provider tokens fresh, once per session
// across the farm: the edge that notices an expiring access token takes a
// lease on the session, claims the session with the lease's fence,
// reloads it from the store (another edge may just have refreshed it) and
// only then redeems the refresh token, so a provider that rotates refresh
// tokens never sees one twice. Its writes carry the fence: an edge whose
// lease was lost meanwhile (a Redis failover) can neither end the session
// nor overwrite it once the next holder has claimed it. Requests do not wait:
// the session stays valid while its tokens are renewed. When the provider
// refuses the refresh token (the user was disabled or signed out there),
// the session ends on every edge.
//
// Every read and write goes through the Resolver, so this edge's cache
// holds the refreshed session as soon as it is saved (a request after the
// refresh does not see the old expiry and start again), and an edge that
// finds the session already refreshed elsewhere caches what it found.
type Refresher struct {
	sessions *Resolver
	locks    state.Locker
	logger   *slog.Logger

	mu       sync.Mutex
	attempts map[string]time.Time // session id → start of the attempt in progress or held back
	pruneAt  int                  // prune attempts when it holds this many

	ok, refused, failed atomic.Uint64
	// background counts the refreshes Maybe started that have not
	// returned yet (InFlight).
	background atomic.Int64
}

// NewRefresher returns a Refresher over the resolver's sessions; locks
// gives the farm-wide lease. A nil logger discards.
func NewRefresher(sessions *Resolver, locks state.Locker, logger *slog.Logger) *Refresher {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Refresher{sessions: sessions, locks: locks, logger: logger, attempts: map[string]time.Time{}, pruneAt: minPruneAt}
}

// Stats reports the refreshes concluded so far.
func (rf *Refresher) Stats() RefreshStats {
	return RefreshStats{OK: rf.ok.Load(), Refused: rf.refused.Load(), Failed: rf.failed.Load()}
}

// InFlight is the number of background refreshes under way. It counts a
// refresh from before Maybe returns, so a caller that sees 0 after its
// calls to Maybe knows none of them left work running.
func (rf *Refresher) InFlight() int64 { return rf.background.Load() }

// due reports whether s holds a refresh token whose access token expires
// within RefreshEarly.
func (rf *Refresher) due(s *state.Session) bool {
	exp, ok := tokenExpiry(s)
	return ok && !rf.sessions.now().Add(RefreshEarly).Before(exp)
}

// Maybe starts a refresh in the background when s's access token is about
// to expire, unless this edge already has an attempt for s under way (or
// held back after the provider failed to answer).
func (rf *Refresher) Maybe(s *state.Session, src TokenSource) {
	if !rf.due(s) || !rf.begin(s.ID) {
		return
	}
	rf.background.Add(1)
	go func() {
		defer rf.background.Add(-1)
		ctx, cancel := context.WithTimeout(context.Background(), refreshLease)
		defer cancel()
		rf.Refresh(ctx, s.ID, src)
	}()
}

// begin records an attempt for the session, or reports that one is
// already recorded.
func (rf *Refresher) begin(id string) bool {
	now := rf.sessions.now()
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if last, ok := rf.attempts[id]; ok && now.Sub(last) < refreshRetry {
		return false
	}
	if len(rf.attempts) >= rf.pruneAt {
		// Keep the map small. Scanning it on every call made each request
		// O(sessions held back) during a provider outage (20,000 failing
		// sessions: seconds of mutex-held CPU); scanning when it has doubled
		// since the last scan makes each call O(1) amortised.
		for other, at := range rf.attempts {
			if now.Sub(at) >= refreshRetry {
				delete(rf.attempts, other)
			}
		}
		rf.pruneAt = max(minPruneAt, 2*len(rf.attempts))
	}
	rf.attempts[id] = now
	return true
}

// minPruneAt is the size below which the attempts map is never scanned.
const minPruneAt = 1024

// forget clears a session's attempt record once an attempt concluded, so
// its next expiry is refreshed at once.
func (rf *Refresher) forget(id string) {
	rf.mu.Lock()
	delete(rf.attempts, id)
	rf.mu.Unlock()
}

// Refresh renews the session's tokens now if they are still due once the
// farm-wide lease is held. It is what Maybe runs in the background.
func (rf *Refresher) Refresh(ctx context.Context, id string, src TokenSource) {
	// Only a provider that could not answer, or a refused claim, holds
	// further attempts back (refreshRetry); whatever else ends this attempt
	// (done here, done by another edge, refused) lets the session's next
	// expiry be handled at once. The record goes last, after the cache has
	// the outcome.
	holdBack := false
	defer func() {
		if !holdBack {
			rf.forget(id)
		}
	}()
	lease, err := rf.locks.Acquire(ctx, "token-refresh:"+id, refreshLease)
	if err != nil {
		return // another edge is at it, or the store is down: a later request retries
	}
	defer lease.Release(context.WithoutCancel(ctx))
	// Claim the session for this lease before reading it: from here on an
	// edge that held an earlier lease (lost to a Redis failover, or while
	// it was paused) and is still at the provider cannot write its answer,
	// neither the tokens it got nor the end of the session on a refusal of
	// the refresh token this edge is about to redeem. A refused claim means
	// a newer holder has the session: this attempt is over.
	fence := lease.Fence()
	switch err := rf.sessions.Update(ctx, id, state.SessionUpdate{Fence: &fence}); {
	case errors.Is(err, state.ErrFenced):
		// Normally this edge's lease was lost before it could claim, and
		// the next holder is at work. But a claim refused to the lease's
		// holder means the lease's fence counter went back (evicted under
		// volatile-lru): then no claim succeeds until the session ends,
		// and retrying on every request would only cost round trips.
		holdBack = true
		rf.logger.Warn("token refresh not started: the session is claimed by a newer lease (or the lease's fence counter was lost)")
		return
	case err != nil:
		return // ended, or the store is down: a later request retries
	}
	s, err := rf.sessions.load(ctx, id)
	if err != nil || !rf.due(s) {
		return // ended, unreachable, or refreshed meanwhile by another edge (now cached here)
	}
	// The tokens as they are now (Load leaves them out): the conditional
	// writes below compare against exactly these.
	read, err := rf.sessions.Tokens(ctx, id)
	if err != nil {
		return // ended, or the store is down: a later request retries
	}
	tokens, err := OpenTokens(rf.sessions.ring, read)
	if err != nil {
		// Sealed under a key no longer in the ring, or gone (a tokens key
		// evicted under volatile-lru): no retry on every request will
		// read them, so attempts are held back like a failing provider's.
		holdBack = true
		rf.logger.Warn("session tokens unreadable; not refreshed", "error", err)
		return
	}
	fresh, err := src.Refresh(ctx, tokens.RefreshToken)
	switch {
	case errors.Is(err, oidclogin.ErrRefreshRefused):
		// Another edge may have redeemed the same refresh token: one that
		// took the lease after this edge lost it (the fence refuses this
		// write even before that edge has saved what it got), or one that
		// held it before and saved late (the tokens are no longer the ones
		// read). Either way the refusal is about a token the session no
		// longer needs; the session ends only when neither is the case.
		none := []byte{}
		cerr := rf.sessions.Update(ctx, id, state.SessionUpdate{Tokens: &none, IfTokens: &read, Fence: &fence})
		switch {
		case errors.Is(cerr, state.ErrFenced):
			rf.logger.Info("the provider refused a refresh token after this edge's lease passed to another: session kept")
			return
		case errors.Is(cerr, state.ErrConflict):
			rf.logger.Info("the provider refused a refresh token another edge had already renewed: session kept")
			return
		}
		rf.refused.Add(1)
		rf.logger.Info("the provider refused a refresh token: session ended", "error", err)
		_ = rf.sessions.Delete(ctx, id)
		return
	case err != nil:
		holdBack = true
		rf.failed.Add(1)
		rf.logger.Warn("token refresh failed; the session continues", "error", err)
		return
	}
	if err := rf.save(ctx, id, s, read, tokens, fresh, fence); err != nil {
		if errors.Is(err, state.ErrFenced) {
			// This edge's lease passed to another edge, which decides the
			// session now (see docs/edge.md, "Token refresh").
			rf.logger.Info("refreshed tokens discarded: the lease passed to another edge meanwhile")
			return
		}
		// The new refresh token is lost with this update; with a rotating
		// provider the next refresh will be refused and the user signs in
		// again. Nothing better is possible once the provider has answered.
		rf.logger.Warn("refreshed tokens not saved", "error", err)
		return
	}
	rf.ok.Add(1)
}

// save writes the refreshed tokens and their expiry through the resolver,
// provided the stored tokens are still readTokens.
func (rf *Refresher) save(ctx context.Context, id string, read *state.Session, readTokens []byte, tokens Tokens, fresh *oidclogin.Tokens, fence state.Fence) error {
	userID := read.UserID
	tokens.AccessToken, tokens.RefreshToken, tokens.Expiry = fresh.AccessToken, fresh.RefreshToken, fresh.Expiry
	if fresh.IDToken != "" {
		tokens.IDToken = fresh.IDToken
	}
	sealed, err := SealTokens(rf.sessions.ring, tokens)
	if err != nil {
		return err
	}
	// Written only under this edge's fence and over the tokens this
	// refresh started from: an edge that lost its lease and redeemed the
	// same refresh token late must not overwrite what the lease's next
	// holder saved, nor write at all once that holder has claimed the
	// session (it decides the session's fate from then on).
	upd := state.SessionUpdate{Tokens: &sealed, IfTokens: &readTokens, Fence: &fence,
		Set: map[string]string{DataTokenExpiry: strconv.FormatInt(fresh.Expiry.Unix(), 10)}}
	if id := fresh.Identity; id != nil {
		// The provider's word on who the user is now: a group removed there
		// is no longer asserted after the next refresh (not after 8 h).
		if id.Subject != userID {
			return fmt.Errorf("the refreshed ID token is for another user")
		}
		upd.Set[DataName], upd.Set[DataEmail] = id.Name, id.Email
		if g := encodeGroups(id.Groups); g != "" {
			upd.Set[DataGroups] = g
		} else {
			upd.Delete = append(upd.Delete, DataGroups)
		}
	}
	// A provider that does not say when the token expires, or issues
	// tokens that live less than RefreshEarly, would be asked again on
	// every request: such sessions are not refreshed any more.
	if fresh.Expiry.IsZero() || fresh.Expiry.Sub(rf.sessions.now()) <= RefreshEarly {
		delete(upd.Set, DataTokenExpiry)
		upd.Delete = append(upd.Delete, DataTokenExpiry)
	}
	return rf.sessions.Update(ctx, id, upd)
}
