package caddymodule

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/cesivi/cesivi/internal/httperr"
	"github.com/cesivi/cesivi/internal/oidclogin"
	"github.com/cesivi/cesivi/internal/state"
)

// serveBackChannelLogout ends the sessions a verified logout token names,
// on every edge at once (the store publishes the revocation notices). A
// token is accepted once: its jti is remembered until it expires.
func (h *SessionGate) serveBackChannelLogout(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return backChannelError(w, http.StatusMethodNotAllowed, "back-channel logout takes a POST with logout_token")
	}
	if h.app.flow == nil {
		return backChannelError(w, http.StatusNotFound, "sign-in is not configured on this edge")
	}
	// A client that sends its body slowly must not hold the edge: the
	// provider posts a small form at once.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(backChannelReadTimeout))
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return backChannelError(w, http.StatusBadRequest, "the body is not a form")
	}
	claims, err := h.app.flow.VerifyLogoutToken(r.Context(), r.PostForm.Get("logout_token"))
	switch {
	case errors.Is(err, oidclogin.ErrProviderUnavailable):
		h.logger.Warn("back-channel logout: identity provider unavailable", "error", err)
		return backChannelRetry(w, "the provider's keys cannot be fetched")
	case err != nil:
		// Anyone can post forged tokens: one line per period says how
		// many, instead of one line each.
		if ok, suppressed := h.app.res.refusedLogouts.allow(time.Now()); ok {
			h.logger.Warn("back-channel logout refused", "error", err, "refused_since_last_line", suppressed)
		}
		return backChannelError(w, http.StatusBadRequest, "the logout token is not valid; the edge's log says why")
	}
	ttl := time.Until(claims.Expires)
	if ttl < time.Minute {
		ttl = time.Minute
	}
	res := h.app.res
	switch err := res.provider.Tickets.Put(r.Context(), "oidc:logout:"+claims.JTI, []byte{1}, ttl); {
	case errors.Is(err, state.ErrConflict):
		return backChannelError(w, http.StatusBadRequest, "this logout token was already used")
	case err != nil:
		return h.backChannelUnavailable(w, err)
	}
	n, err := res.sessions.EndSessions(r.Context(), claims.Subject, claims.SID)
	if err != nil {
		// Forget the token so the provider's retry is not taken for a
		// replay (ending sessions is idempotent).
		_, _ = res.provider.Tickets.Take(context.WithoutCancel(r.Context()), "oidc:logout:"+claims.JTI)
		return h.backChannelUnavailable(w, err)
	}
	h.logger.Info("back-channel logout", "sessions", n)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return nil
}

// backChannelReadTimeout bounds the reading of a logout request's body.
var backChannelReadTimeout = 10 * time.Second // a var for the tests

// logSampler lets one log line through per period and counts the others.
type logSampler struct {
	every time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// allow reports whether to log now and how many lines were held back
// since the last one.
func (s *logSampler) allow(now time.Time) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.last.IsZero() && now.Sub(s.last) < s.every {
		s.suppressed++
		return false, 0
	}
	n := s.suppressed
	s.last, s.suppressed = now, 0
	return true, n
}

func (h *SessionGate) backChannelUnavailable(w http.ResponseWriter, err error) error {
	h.logger.Warn("back-channel logout: session store unavailable", "error", err)
	return backChannelRetry(w, "sessions are temporarily unavailable")
}

// backChannelError refuses a logout token in the shape of the
// specification (section 2.8): the provider must not retry it.
func backChannelError(w http.ResponseWriter, status int, description string) error {
	httperr.WriteOAuth(w, status, "invalid_request", description, 0)
	return nil
}

// backChannelRetry answers 503: the provider may send the token again.
func backChannelRetry(w http.ResponseWriter, description string) error {
	httperr.WriteOAuth(w, http.StatusServiceUnavailable, "invalid_request", description, 5*time.Second)
	return nil
}
