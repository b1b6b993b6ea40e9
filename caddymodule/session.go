package caddymodule

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/cesivi/cesivi/internal/httperr"
)

// The edge's own endpoints. They are answered by the edge and never reach
// an app server, so the single-use authorization code never crosses a
// reverse_proxy retry.
const (
	LoginPath    = "/oauth2/login"    // ?rd=<path>: start signing in
	CallbackPath = "/oauth2/callback" // the provider sends the browser back here
	LogoutPath   = "/oauth2/logout"   // end the session everywhere
	// BackChannelLogoutPath receives the provider's logout tokens (OpenID
	// Connect Back-Channel Logout 1.0): register it as the client's
	// backchannel_logout_uri.
	BackChannelLogoutPath = "/oauth2/backchannel-logout"
	// CreateSessionPath (the seed's check) gives a client without a
	// session an anonymous one, then goes on to the app server.
	CreateSessionPath = "/api/session/create"
	// SessionPathPrefix starts the seed's session endpoints
	// (/api/session/create, /api/session/get): anonymous paths whose
	// whole answer is the client's session.
	SessionPathPrefix = "/api/session/"
)

// DefaultAnonymous are the paths served without a signed-in user when the
// handler's anonymous list is not set.
var DefaultAnonymous = []string{"/health", "/health/*", "/api/session/*"}

// SessionGate is the edge's session handler (module cesivi_session): it
// removes identity headers a client sent, answers the sign-in endpoints,
// resolves the session cookie, sends browsers without a session to the
// identity provider (and scripts a 401), and hands each request to the
// app servers with a signed identity assertion in X-Cesivi-Assertion.
// Place it before reverse_proxy.
type SessionGate struct {
	// Anonymous lists the paths served without a signed-in user: exact
	// paths, or prefixes ending in "*". Requests on them still carry an
	// assertion (with the session, if there is one). Default:
	// /health /health/* /api/session/*.
	Anonymous []string `json:"anonymous,omitempty"`

	app    *App
	logger *slog.Logger
}

// CaddyModule returns the Caddy module information.
func (SessionGate) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.cesivi_session", New: func() caddy.Module { return new(SessionGate) }}
}

// Provision finds the cesivi app (the global cesivi option).
func (h *SessionGate) Provision(ctx caddy.Context) error {
	h.logger = ctx.Slogger()
	if h.Anonymous == nil {
		h.Anonymous = DefaultAnonymous
	}
	v, err := ctx.AppIfConfigured("cesivi")
	if err != nil {
		return fmt.Errorf("cesivi_session needs the global cesivi option: %w", err)
	}
	app, ok := v.(*App)
	if !ok {
		return fmt.Errorf("cesivi_session: app cesivi is a %T", v)
	}
	h.app = app
	return nil
}

// Validate checks the path patterns.
func (h *SessionGate) Validate() error {
	for _, p := range h.Anonymous {
		if !strings.HasPrefix(p, "/") || strings.Contains(strings.TrimSuffix(p, "*"), "*") {
			return fmt.Errorf("cesivi_session: anonymous path %q: want /path or /prefix*", p)
		}
	}
	return nil
}

// ServeHTTP implements caddyhttp.MiddlewareHandler: the edge's endpoints
// answer for themselves; any other request is identified (session cookie,
// else bearer token), authorized (anonymous path, session creation, sign-in
// gate) and forwarded with the identity assertion. A step that turns the
// request down returns the refusal, which refuse writes.
func (h *SessionGate) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	stripIdentityHeaders(r.Header, nil)
	if hasDotSegment(r.URL.Path) {
		return h.refuse(w, r, errBadPath)
	}
	if serve := h.endpoint(r.URL.Path); serve != nil {
		// The edge's endpoints carry no identity it reads: session and
		// user zones that match them count by client address.
		if err := limitIdentity(r, &visit{}); err != nil {
			return h.refuse(w, r, err)
		}
		return serve(w, r)
	}
	v := &visit{anonymous: h.anonymous(r.URL.Path)}
	if err := h.identify(w, r, v); err != nil {
		return h.refuse(w, r, err)
	}
	if err := limitIdentity(r, v); err != nil {
		return h.refuse(w, r, err)
	}
	if err := h.authorize(w, r, v); err != nil {
		return h.refuse(w, r, err)
	}
	if err := h.forward(r, v); err != nil {
		return err
	}
	return next.ServeHTTP(w, r)
}

// endpoint returns the handler of the edge's own endpoint at path, or nil.
func (h *SessionGate) endpoint(path string) func(http.ResponseWriter, *http.Request) error {
	switch path {
	case LoginPath:
		return h.serveLogin
	case CallbackPath:
		return h.serveCallback
	case LogoutPath:
		return h.serveLogout
	case BackChannelLogoutPath:
		return h.serveBackChannelLogout
	}
	return nil
}

// refuse answers a request a step turned down: a browser is sent to sign
// in, an *httperr.Error is written (its cause logged). Anything else is the
// edge's own failure, returned for Caddy's error handling.
func (h *SessionGate) refuse(w http.ResponseWriter, r *http.Request, err error) error {
	var login *signInFirst
	if errors.As(err, &login) {
		// Sent to LoginPath, which starts the sign-in: a page load costs
		// neither a login state in Redis nor a sign-in start from the
		// client's allowance (a browser that follows spends one there; a
		// crawler, a prefetch or a link preview does not). The binding
		// cookie, whose path on plain HTTP is /oauth2/, is sent there.
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, LoginPath+"?rd="+url.QueryEscape(login.returnTo), http.StatusFound)
		return nil
	}
	e, ok := httperr.As(err)
	if !ok {
		return err
	}
	if e.Cause != nil {
		h.logger.Warn("request refused", "code", e.Code, "error", e.Cause)
	}
	httperr.Write(w, e)
	return nil
}

// hasDotSegment reports whether the (decoded) path has a "." or ".."
// segment, including the ";" forms some servers strip ("..;").
func hasDotSegment(path string) bool {
	for seg := range strings.SplitSeq(path, "/") {
		seg, _, _ = strings.Cut(seg, ";")
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*SessionGate)(nil)
	_ caddy.Validator             = (*SessionGate)(nil)
	_ caddyhttp.MiddlewareHandler = (*SessionGate)(nil)
)
