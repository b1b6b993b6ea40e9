package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/cesivi/cesivi/internal/oidclogin"
	"github.com/cesivi/cesivi/internal/state"
)

// dataTokenExpiry is the session data entry with the access token's expiry
// (Unix seconds, not secret), present only when the session holds a
// refresh token: reading it costs nothing per request, while the tokens
// themselves stay sealed.
const dataTokenExpiry = "tokexp"

// Refreshing starts this long before the access token expires.
const refreshEarly = 30 * time.Second

// refreshRetry is the least time between two attempts for one session on
// one edge after an attempt that did not conclude (a provider that is down
// is not asked on every request).
const refreshRetry = 30 * time.Second

// refresher keeps each session's provider tokens fresh, once per session
// across the farm: the edge that notices an expiring access token takes a
// lease on the session, reloads it from the store (another edge may just
// have refreshed it) and only then redeems the refresh token. Requests do
// not wait: the session stays valid while its tokens are renewed. When the
// provider refuses the refresh token (the user was disabled or signed out
// there), the session ends on every edge.
type refresher struct {
	mu       sync.Mutex
	attempts map[string]time.Time
}

// maybeRefresh starts a refresh in the background when sess's access token
// is about to expire.
func (h *Session) maybeRefresh(sess *state.Session) {
	exp, err := strconv.ParseInt(sess.Data[dataTokenExpiry], 10, 64)
	if err != nil || time.Now().Add(refreshEarly).Before(time.Unix(exp, 0)) || h.app.flow == nil {
		return
	}
	rf := &h.app.res.refresher
	rf.mu.Lock()
	if rf.attempts == nil {
		rf.attempts = map[string]time.Time{}
	}
	if last, ok := rf.attempts[sess.ID]; ok && time.Since(last) < refreshRetry {
		rf.mu.Unlock()
		return
	}
	for id, at := range rf.attempts { // keep the map small
		if time.Since(at) >= refreshRetry {
			delete(rf.attempts, id)
		}
	}
	rf.attempts[sess.ID] = time.Now()
	rf.mu.Unlock()
	go h.refresh(sess.ID)
}

func (h *Session) refresh(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := h.app.res
	// Only a provider that could not answer holds further attempts back
	// (refreshRetry); whatever else ends this attempt (done here, done by
	// another edge, refused) lets the session's next expiry be handled at
	// once.
	providerFailed := false
	defer func() {
		if !providerFailed {
			res.refresher.forget(id)
		}
	}()
	lease, err := res.provider.Locks.Acquire(ctx, "token-refresh:"+id, 30*time.Second)
	if err != nil {
		return // another edge is at it, or the store is down: a later request retries
	}
	defer lease.Release(context.WithoutCancel(ctx))
	sess, err := res.provider.Sessions.Load(ctx, id)
	if err != nil {
		return
	}
	exp, err := strconv.ParseInt(sess.Data[dataTokenExpiry], 10, 64)
	if err != nil || time.Now().Add(refreshEarly).Before(time.Unix(exp, 0)) {
		return // refreshed meanwhile by another edge
	}
	var tokens sessionTokens
	plain, err := res.ring.Unprotect(tokensPurpose, sess.Tokens)
	if err == nil {
		err = json.Unmarshal(plain, &tokens)
	}
	if err != nil {
		h.logger.Warn("session tokens unreadable; not refreshed", "error", err)
		return
	}
	fresh, err := h.app.flow.Refresh(ctx, tokens.RefreshToken)
	switch {
	case errors.Is(err, oidclogin.ErrRefreshRefused):
		res.counters.refreshRefused.Add(1)
		h.logger.Info("the provider refused a refresh token: session ended", "error", err)
		_ = res.sessions.Delete(ctx, id)
		return
	case err != nil:
		providerFailed = true
		res.counters.refreshFailed.Add(1)
		h.logger.Warn("token refresh failed; the session continues", "error", err)
		return
	}
	tokens.AccessToken, tokens.RefreshToken, tokens.Expiry = fresh.AccessToken, fresh.RefreshToken, fresh.Expiry
	if fresh.IDToken != "" {
		tokens.IDToken = fresh.IDToken
	}
	b, _ := json.Marshal(tokens)
	sealed, err := res.ring.Protect(tokensPurpose, b)
	if err != nil {
		return
	}
	upd := state.SessionUpdate{Tokens: &sealed, Set: map[string]string{dataTokenExpiry: strconv.FormatInt(fresh.Expiry.Unix(), 10)}}
	// A provider that does not say when the token expires, or issues
	// tokens that live less than refreshEarly, would be asked again on
	// every request: such sessions are not refreshed any more.
	if fresh.Expiry.IsZero() || time.Until(fresh.Expiry) <= refreshEarly {
		upd.Set, upd.Delete = nil, []string{dataTokenExpiry}
	}
	if err := res.provider.Sessions.Update(ctx, id, upd); err != nil {
		// The new refresh token is lost with this update; with a rotating
		// provider the next refresh will be refused and the user signs in
		// again. Nothing better is possible once the provider has answered.
		h.logger.Warn("refreshed tokens not saved", "error", err)
		return
	}
	res.counters.refreshOK.Add(1)
}

// forget clears a session's attempt record once an attempt concluded, so
// its next expiry is refreshed at once.
func (rf *refresher) forget(id string) {
	rf.mu.Lock()
	delete(rf.attempts, id)
	rf.mu.Unlock()
}
