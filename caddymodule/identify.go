package caddymodule

import (
	"errors"
	"net/http"

	"github.com/cesivi/cesivi/internal/oidclogin"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/websession"
	"github.com/cesivi/cesivi/keyring"
)

// visit is what the steps of SessionGate.ServeHTTP learn about a request.
type visit struct {
	// anonymous: the path is served without a signed-in user.
	anonymous bool
	// session the cookie names; nil without one, with an invalid one, or
	// when the store did not answer (storeErr).
	session *state.Session
	// storeErr: the store did not answer for the cookie. The cookie must
	// then be neither cleared nor replaced.
	storeErr error
	// keptCookie: the cookie names a key this edge does not know (yet); it
	// is kept, so it must not be replaced either.
	keptCookie bool
	// bearer is the user of a valid bearer token, for a request without a
	// signed-in session.
	bearer *oidclogin.TokenIdentity
}

// signedIn reports whether the request comes from a user.
func (v *visit) signedIn() bool {
	return v.bearer != nil || (v.session != nil && v.session.UserID != "")
}

// identify finds who sends the request: the session cookie, else an
// access token (Authorization: Bearer) from the same provider.
func (h *SessionGate) identify(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := h.identifySession(w, r, v); err != nil {
		return err
	}
	return h.identifyBearer(w, r, v)
}

// identifySession resolves the session cookie. An invalid cookie is
// cleared; one the store could not check is kept (a store outage never
// signs anyone out), and the request refused unless its path is anonymous.
// A signed-in session's provider tokens are refreshed in the background
// when they are about to expire.
func (h *SessionGate) identifySession(w http.ResponseWriter, r *http.Request, v *visit) error {
	cookie, ok := lookupCookie(r, h.cookieName(r))
	if !ok {
		return nil
	}
	res := h.app.res
	sess, err := res.sessions.Resolve(r.Context(), cookie)
	switch {
	case err == nil:
		res.counters.sessionValid.Add(1)
		v.session = sess
	case errors.Is(err, keyring.ErrUnknownKey):
		// A key this edge cannot see yet (created elsewhere a moment ago
		// while the key store is unreachable) or a made-up key id: go on
		// without the session, but keep the cookie.
		res.counters.sessionInvalid.Add(1)
		v.keptCookie = true
	case errors.Is(err, websession.ErrInvalid):
		// Bad MAC, revoked key, ended session: the cookie is useless.
		res.counters.sessionInvalid.Add(1)
		h.clearCookie(w, r)
	default:
		res.counters.sessionUnavailable.Add(1)
		if !v.anonymous {
			return storeUnavailable(err)
		}
		v.storeErr = err
	}
	if v.session != nil && v.session.UserID != "" && h.app.flow != nil {
		res.refresher.Maybe(v.session, h.app.flow)
	}
	return nil
}

// identifyBearer takes the access token an API client presents. It is
// used only when there is no signed-in session, and never reaches an app
// server, like the session cookie.
func (h *SessionGate) identifyBearer(w http.ResponseWriter, r *http.Request, v *visit) error {
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		return nil
	}
	r.Header.Del("Authorization")
	if v.signedIn() || h.app.flow == nil {
		return nil
	}
	id, err := h.validateBearer(r, token)
	var budget *tooManyTokenChecks
	switch {
	case errors.As(err, &budget):
		return tooManyTokens(budget.wait)
	case errors.Is(err, oidclogin.ErrTokenInvalid):
		h.app.res.counters.bearerInvalid.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		return errInvalidToken
	case err != nil:
		return providerUnavailable(err)
	}
	h.app.res.counters.bearerValid.Add(1)
	v.bearer = id
	return nil
}
