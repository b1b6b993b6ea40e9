package caddymodule

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/cesivi/cesivi/internal/identity"
	"github.com/cesivi/cesivi/internal/oidclogin"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/websession"
	"github.com/cesivi/cesivi/keyring"
)

func init() {
	caddy.RegisterModule(Session{})
}

// The edge's own endpoints. They are answered by the edge and never reach
// an app server, so the single-use authorization code never crosses a
// reverse_proxy retry.
const (
	LoginPath    = "/oauth2/login"    // ?rd=<path>: start signing in
	CallbackPath = "/oauth2/callback" // the provider sends the browser back here
	LogoutPath   = "/oauth2/logout"   // end the session everywhere
	// CreateSessionPath (the seed's check) gives a client without a
	// session an anonymous one, then goes on to the app server.
	CreateSessionPath = "/api/session/create"
)

// DefaultAnonymous are the paths served without a signed-in user when the
// handler's anonymous list is not set.
var DefaultAnonymous = []string{"/health", "/health/*", "/api/session/*"}

// Session is the edge's session handler: it removes identity headers a
// client sent, answers the sign-in endpoints, resolves the session cookie,
// sends browsers without a session to the identity provider (and scripts a
// 401), and hands each request to the app servers with a signed identity
// assertion in X-Cesivi-Assertion. Place it before reverse_proxy.
type Session struct {
	// Anonymous lists the paths served without a signed-in user: exact
	// paths, or prefixes ending in "*". Requests on them still carry an
	// assertion (with the session, if there is one). Default:
	// /health /health/* /api/session/*.
	Anonymous []string `json:"anonymous,omitempty"`

	app    *App
	logger *slog.Logger
}

// CaddyModule returns the Caddy module information.
func (Session) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.cesivi_session", New: func() caddy.Module { return new(Session) }}
}

// Provision finds the cesivi app (the global cesivi option).
func (h *Session) Provision(ctx caddy.Context) error {
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
func (h *Session) Validate() error {
	for _, p := range h.Anonymous {
		if !strings.HasPrefix(p, "/") || strings.Contains(strings.TrimSuffix(p, "*"), "*") {
			return fmt.Errorf("cesivi_session: anonymous path %q: want /path or /prefix*", p)
		}
	}
	return nil
}

func (h *Session) anonymous(path string) bool {
	for _, p := range h.Anonymous {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(path, prefix) {
				return true
			}
		} else if path == p {
			return true
		}
	}
	return false
}

// ServeHTTP implements caddyhttp.MiddlewareHandler.
func (h *Session) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	stripIdentityHeaders(r.Header, nil)
	if hasDotSegment(r.URL.Path) {
		// "/health/../admin" would match an anonymous prefix here and be
		// resolved to /admin by an upstream that normalises paths.
		return h.refuse(w, errBadPath)
	}
	switch r.URL.Path {
	case LoginPath:
		return h.serveLogin(w, r)
	case CallbackPath:
		return h.serveCallback(w, r)
	case LogoutPath:
		return h.serveLogout(w, r)
	case BackChannelLogoutPath:
		return h.serveBackChannelLogout(w, r)
	}
	a := h.app
	anonymous := h.anonymous(r.URL.Path)

	var sess *state.Session
	var storeErr error // the store did not answer: never replace the cookie then
	if c, err := r.Cookie(h.cookieName(r)); err == nil {
		sess, err = a.res.sessions.Resolve(r.Context(), c.Value)
		switch {
		case err == nil:
			a.res.counters.sessionValid.Add(1)
		case errors.Is(err, keyring.ErrUnknownKey):
			// A key this edge cannot see yet (created elsewhere a moment
			// ago while the key store is unreachable) or a made-up key id:
			// go on without the session, but keep the cookie.
			a.res.counters.sessionInvalid.Add(1)
			sess = nil
		case errors.Is(err, websession.ErrInvalid):
			a.res.counters.sessionInvalid.Add(1)
			// Bad MAC, revoked key, ended session: the cookie is useless.
			h.clearCookie(w, r)
			sess = nil
		default:
			a.res.counters.sessionUnavailable.Add(1)
			// The store is unreachable: the session may well be valid,
			// so keep the cookie and ask the client to come back.
			if !anonymous {
				return h.refuse(w, storeUnavailable(err))
			}
			sess, storeErr = nil, err
		}
	}
	// API clients may present an access token from the same provider
	// (Authorization: Bearer). It is used when there is no signed-in
	// session, and never reaches an app server, like the session cookie.
	var bearer *oidclogin.TokenIdentity
	if token, ok := bearerToken(r.Header.Get("Authorization")); ok {
		r.Header.Del("Authorization")
		if (sess == nil || sess.UserID == "") && a.flow != nil {
			id, err := h.validateBearer(r.Context(), token)
			switch {
			case errors.Is(err, oidclogin.ErrTokenInvalid):
				a.res.counters.bearerInvalid.Add(1)
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				return h.refuse(w, errInvalidToken)
			case err != nil:
				return h.refuse(w, providerUnavailable(err))
			}
			a.res.counters.bearerValid.Add(1)
			bearer = id
		}
	}
	if sess == nil && bearer == nil && r.URL.Path == CreateSessionPath && r.Method == http.MethodGet {
		if storeErr != nil {
			// The client may hold a valid session the store could not
			// load: a new anonymous one would replace its cookie.
			return h.refuse(w, storeUnavailable(storeErr))
		}
		created, cookie, err := a.res.sessions.Create(r.Context(), &state.Session{})
		if err != nil {
			return h.refuse(w, storeUnavailable(err))
		}
		h.setCookie(w, r, cookie, created)
		sess = created
	}
	if !anonymous && (sess == nil || sess.UserID == "") && bearer == nil {
		return h.loginRequired(w, r)
	}

	if sess != nil && sess.UserID != "" && a.flow != nil {
		a.res.refresher.Maybe(sess, a.flow)
	}
	assertion := keyring.Assertion{Audience: a.AssertionAudience, Expires: time.Now().Add(time.Duration(a.AssertionTTL))}
	if sess != nil {
		assertion.SessionID = sess.ID
		assertion.Subject = sess.UserID
		assertion.Name = sess.Data[websession.DataName]
		assertion.Email = sess.Data[websession.DataEmail]
		assertion.Groups = websession.Groups(sess)
	}
	if bearer != nil {
		assertion.SessionID = ""
		assertion.Subject, assertion.Name, assertion.Email, assertion.Groups = bearer.Subject, bearer.Name, bearer.Email, bearer.Groups
	}
	token, err := a.res.ring.MintAssertion(assertion)
	if err != nil {
		return caddyhttp.Error(http.StatusInternalServerError, fmt.Errorf("minting the identity assertion: %w", err))
	}
	r.Header.Set(identity.AssertionHeader, token)
	if assertion.Subject != "" {
		// Caddy's access log reports the user from this placeholder.
		if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
			repl.Set("http.auth.user.id", assertion.Subject)
		}
	}
	// The session cookie is the edge's: app servers get the assertion.
	dropCookies(r, a.edgeCookies)
	return next.ServeHTTP(w, r)
}

// loginRequired sends a browser navigation to the identity provider and
// answers anything else (scripts, API clients, non-GET) 401 with a JSON
// body that names the login URL.
func (h *Session) loginRequired(w http.ResponseWriter, r *http.Request) error {
	h.app.res.counters.loginRequired.Add(1)
	if h.app.flow != nil && isNavigation(r) {
		return h.beginLogin(w, r, r.URL.RequestURI())
	}
	return h.refuse(w, loginRequired(r.URL.RequestURI(), h.app.flow != nil))
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

// isNavigation tells a browser loading a page from a script or API call.
func isNavigation(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.Header.Get("X-Requested-With") != "" || r.Header.Get("Authorization") != "" {
		return false
	}
	if m := r.Header.Get("Sec-Fetch-Mode"); m != "" && m != "navigate" {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Session)(nil)
	_ caddy.Validator             = (*Session)(nil)
	_ caddyhttp.MiddlewareHandler = (*Session)(nil)
)
