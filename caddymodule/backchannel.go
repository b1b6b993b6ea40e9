package caddymodule

import (
	"context"
	"errors"
	"net/http"
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
		h.logger.Warn("back-channel logout refused", "error", err)
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
