package caddymodule

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"time"

	"github.com/cesivi/cesivi/internal/oidclogin"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/websession"
)

func (h *SessionGate) serveLogin(w http.ResponseWriter, r *http.Request) error {
	if h.app.flow == nil {
		return h.loginPage(w, http.StatusNotFound, "sign-in is not configured on this edge")
	}
	return h.beginLogin(w, r, r.URL.Query().Get("rd"))
}

// beginLogin stores the login state (shared by every edge) and sends the
// browser to the provider.
func (h *SessionGate) beginLogin(w http.ResponseWriter, r *http.Request, returnTo string) error {
	if ok, wait := h.app.res.logins.allow(r); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		return h.loginPage(w, http.StatusTooManyRequests, "too many sign-ins started from your address; wait a moment")
	}
	binding := ""
	bindName, bindPath := h.bindingCookieName(r)
	if c, err := r.Cookie(bindName); err == nil && len(c.Value) == 22 {
		binding = c.Value
	} else {
		var b [16]byte
		rand.Read(b[:])
		binding = base64.RawURLEncoding.EncodeToString(b[:])
	}
	redirect := h.app.oidc.RedirectURL
	if redirect == "" {
		origin, ok := h.publicOrigin(r)
		if !ok {
			return h.loginPage(w, http.StatusBadRequest, "sign-in is not offered at this address: the edge's public_origins (or redirect_url) do not include it")
		}
		redirect = origin + CallbackPath
	}
	authURL, err := h.app.flow.Begin(r.Context(), oidclogin.BeginRequest{ReturnTo: returnTo, RedirectURL: redirect, Binding: binding})
	switch {
	case errors.Is(err, oidclogin.ErrBadReturnTo):
		return h.loginPage(w, http.StatusBadRequest, signInMessage(err))
	case errors.Is(err, state.ErrStoreUnavailable) || errors.Is(err, oidclogin.ErrProviderUnavailable):
		h.logger.Warn("sign-in cannot start", "error", err)
		w.Header().Set("Retry-After", "5")
		return h.loginPage(w, http.StatusServiceUnavailable, "sign-in is temporarily unavailable; try again in a moment")
	case err != nil:
		h.logger.Error("sign-in cannot start", "error", err)
		return h.loginPage(w, http.StatusInternalServerError, "sign-in could not start")
	}
	http.SetCookie(w, &http.Cookie{
		Name: bindName, Value: binding, Path: bindPath, MaxAge: int(oidclogin.DefaultStateTTL / time.Second),
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, authURL, http.StatusFound)
	return nil
}

// serveCallback completes a login begun on any edge and starts a new
// session (a fresh id, never the one the browser had: no fixation).
func (h *SessionGate) serveCallback(w http.ResponseWriter, r *http.Request) error {
	if h.app.flow == nil {
		return h.loginPage(w, http.StatusNotFound, "sign-in is not configured on this edge")
	}
	q := r.URL.Query()
	binding := ""
	bindName, _ := h.bindingCookieName(r)
	if c, err := r.Cookie(bindName); err == nil {
		binding = c.Value
	}
	res, err := h.app.flow.Complete(r.Context(), oidclogin.CompleteRequest{
		State: q.Get("state"), Code: q.Get("code"), Binding: binding,
		Error: q.Get("error"), ErrorDescription: q.Get("error_description"),
	})
	counters := &h.app.res.counters
	switch {
	case errors.Is(err, state.ErrStoreUnavailable) || errors.Is(err, oidclogin.ErrProviderUnavailable):
		counters.loginUnavailable.Add(1)
		h.logger.Warn("sign-in cannot complete", "error", err)
		w.Header().Set("Retry-After", "5")
		return h.loginPage(w, http.StatusServiceUnavailable, "sign-in is temporarily unavailable; start again in a moment")
	case errors.Is(err, oidclogin.ErrExchange) || errors.Is(err, oidclogin.ErrIDToken):
		counters.loginRefused.Add(1)
		h.logger.Warn("sign-in refused", "error", err)
		return h.loginPage(w, http.StatusBadGateway, signInMessage(err))
	case err != nil:
		counters.loginRefused.Add(1)
		h.logger.Info("sign-in callback refused", "error", err)
		return h.loginPage(w, http.StatusBadRequest, signInMessage(err))
	}

	previous := ""
	if c, err := r.Cookie(h.cookieName(r)); err == nil {
		previous = c.Value
	}
	sess, cookie, err := h.app.res.sessions.SignIn(r.Context(), websession.SignIn{
		UserID: res.Subject, SID: res.SID, Name: res.Name, Email: res.Email, Groups: res.Groups,
		Tokens: websession.Tokens{IDToken: res.IDToken, AccessToken: res.AccessToken, RefreshToken: res.RefreshToken, Expiry: res.Expiry},
	}, previous)
	switch {
	case errors.Is(err, websession.ErrSealing):
		h.logger.Error("session tokens not sealed at sign-in", "error", err)
		return h.loginPage(w, http.StatusInternalServerError, "the session could not be sealed")
	case err != nil:
		counters.loginUnavailable.Add(1)
		h.logger.Warn("session store unavailable at sign-in", "error", err)
		w.Header().Set("Retry-After", "5")
		return h.loginPage(w, http.StatusServiceUnavailable, "sign-in is temporarily unavailable; start again in a moment")
	}
	counters.loginOK.Add(1)
	h.setCookie(w, r, cookie, sess)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, res.ReturnTo, http.StatusFound)
	return nil
}

// serveLogout (POST) ends the session on every edge at once and, when the
// provider supports it, signs out there too (RP-initiated logout).
func (h *SessionGate) serveLogout(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		// Signing out changes state, so it takes a POST: the session
		// cookie is SameSite=Lax, which browsers do not send on a
		// cross-site POST, so another site cannot sign users out. A GET
		// (a "Sign out" link) gets a page with the button.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, err := fmt.Fprintf(w, "<!doctype html><title>Sign out</title><form method=\"post\" action=\"%s\"><button>Sign out</button></form>\n", LogoutPath)
		return err
	}
	var idToken string
	if c, err := r.Cookie(h.cookieName(r)); err == nil {
		idToken, err = h.app.res.sessions.Logout(r.Context(), c.Value)
		if err != nil && !errors.Is(err, websession.ErrInvalid) {
			// Not ended: say so rather than pretend the user is out.
			return h.refuse(w, r, storeUnavailable(err))
		}
	}
	h.clearCookie(w, r)
	w.Header().Set("Cache-Control", "no-store")
	target := "/"
	post := h.app.oidc.PostLogoutRedirectURL
	if post == "" {
		// An address the configuration does not name gets the first
		// configured one (or none: the provider's own page).
		if origin, ok := h.publicOrigin(r); ok || len(h.app.oidc.PublicOrigins) > 0 {
			post = origin + "/"
		}
	}
	if h.app.flow != nil && idToken != "" {
		if u, err := h.app.flow.EndSessionURL(r.Context(), idToken, post); err == nil && u != "" {
			target = u
		}
	}
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

// loginPage answers a sign-in endpoint with a short page that says what
// happened and how to start again.
func (h *SessionGate) loginPage(w http.ResponseWriter, status int, message string) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := fmt.Fprintf(w, "<!doctype html><title>Sign-in</title><p>%s</p><p><a href=\"%s\">Sign in again</a></p>\n",
		html.EscapeString(message), LoginPath+"?rd=%2F")
	return err
}
