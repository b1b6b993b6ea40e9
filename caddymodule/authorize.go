package caddymodule

import (
	"net/http"
	"strings"
	"time"

	"github.com/cesivi/cesivi/internal/state"
)

// signInFirst is authorize's verdict for a browser navigation that needs a
// user: refuse sends the browser to LoginPath, to come back to returnTo.
type signInFirst struct{ returnTo string }

func (*signInFirst) Error() string { return "sign-in required" }

// authorize lets the request through or turns it down: a client without a
// session gets one at CreateSessionPath; a path outside the anonymous list
// needs a signed-in user (browsers are sent to sign in, anything else gets
// 401 LoginRequired with the login URL).
func (h *SessionGate) authorize(w http.ResponseWriter, r *http.Request, v *visit) error {
	// A cookie kept for a key this edge does not know yet is not replaced:
	// during a key roll-out it names the user's real session.
	if v.session == nil && v.bearer == nil && !v.keptCookie && r.URL.Path == CreateSessionPath && r.Method == http.MethodGet {
		if err := h.createSession(w, r, v); err != nil {
			return err
		}
	}
	if v.storeErr != nil && strings.HasPrefix(r.URL.Path, SessionPathPrefix) {
		// The session endpoints answer about the client's session: sent
		// on without it, they would tell a signed-in user "no session"
		// because Redis blinked. Other anonymous paths (/health) go on.
		return storeUnavailable(v.storeErr)
	}
	if v.anonymous || v.signedIn() {
		return nil
	}
	h.app.res.counters.loginRequired.Add(1)
	if h.app.flow != nil && isNavigation(r) {
		return &signInFirst{returnTo: r.URL.RequestURI()}
	}
	return loginRequired(r.URL.RequestURI(), h.app.flow != nil)
}

// createSession gives the client an anonymous session (the seed's check).
func (h *SessionGate) createSession(w http.ResponseWriter, r *http.Request, v *visit) error {
	if v.storeErr != nil {
		// The client may hold a valid session the store could not load: a
		// new anonymous one would replace its cookie.
		return storeUnavailable(v.storeErr)
	}
	res := h.app.res
	if ok, wait := res.anonSessions.allow(r); !ok {
		return tooManySessions(wait)
	}
	if ok, wait := res.allSessions.take("", time.Now()); !ok {
		return tooManySessions(wait)
	}
	created, cookie, err := res.sessions.Create(r.Context(), &state.Session{})
	if err != nil {
		return storeUnavailable(err)
	}
	h.setCookie(w, r, cookie, created)
	v.session = created
	return nil
}

// anonymous reports whether path is served without a signed-in user.
func (h *SessionGate) anonymous(path string) bool {
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
