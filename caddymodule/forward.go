package caddymodule

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/cesivi/cesivi/internal/identity"
	"github.com/cesivi/cesivi/internal/websession"
	"github.com/cesivi/cesivi/keyring"
)

// forward prepares the request for the app servers: the identity
// assertion in X-Cesivi-Assertion, the user in {http.auth.user.id}, and
// the edge's own cookies removed (app servers get the assertion instead).
func (h *SessionGate) forward(r *http.Request, v *visit) error {
	a := h.assertion(v)
	// Bound to this request as the app server will receive it: the method
	// and the request URI the proxy sends (directives that rewrite the
	// request must come before cesivi_session).
	a.Request = r.Method + " " + r.URL.RequestURI()
	token, err := h.app.res.ring.MintAssertion(a)
	if err != nil {
		return caddyhttp.Error(http.StatusInternalServerError, fmt.Errorf("minting the identity assertion: %w", err))
	}
	// AssertionHeader is canonical: no need for Set's canonicalisation.
	r.Header[identity.AssertionHeader] = []string{token}
	if a.Subject != "" {
		// Caddy's access log reports the user from this placeholder.
		if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
			repl.Set("http.auth.user.id", a.Subject)
		}
	}
	dropCookies(r, h.app.edgeCookies)
	return nil
}

// assertion says who the request is from: the session's user (and the
// session id), or a bearer token's user (without one), or no one.
func (h *SessionGate) assertion(v *visit) keyring.Assertion {
	// One clock read for both ends (MintAssertion would read it again for
	// a zero IssuedAt).
	now := time.Now()
	a := keyring.Assertion{Audience: h.app.AssertionAudience, IssuedAt: now, Expires: now.Add(time.Duration(h.app.AssertionTTL))}
	if s := v.session; s != nil {
		a.SessionID, a.Subject = s.ID, s.UserID
		a.Name, a.Email, a.Groups = s.Data[websession.DataName], s.Data[websession.DataEmail], websession.Groups(s)
	}
	if b := v.bearer; b != nil {
		a.SessionID = ""
		a.Subject, a.Name, a.Email, a.Groups = b.Subject, b.Name, b.Email, b.Groups
	}
	return a
}

// dropCookies removes the named cookies from the request's Cookie headers
// (the app servers must never see the session cookie). A request without
// them costs a substring search, no allocation.
func dropCookies(r *http.Request, names []string) {
	lines := r.Header["Cookie"]
	present := false
	for _, line := range lines {
		for _, n := range names {
			present = present || strings.Contains(line, n)
		}
	}
	if !present {
		return
	}
	// The kept cookies are joined into one line of at most the lines'
	// size: one allocation.
	size := 0
	for _, line := range lines {
		size += len(line) + 2
	}
	var kept strings.Builder
	kept.Grow(size)
	for _, line := range lines {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			// Go's cookie parser trims the name ("cesivi_session =v" is
			// the session cookie to it): the same rule here.
			name, _, _ := strings.Cut(part, "=")
			name = strings.TrimSpace(name)
			part = strings.TrimSpace(part)
			if part == "" || slices.Contains(names, name) {
				continue
			}
			if kept.Len() > 0 {
				kept.WriteString("; ")
			}
			kept.WriteString(part)
		}
	}
	if kept.Len() == 0 {
		r.Header.Del("Cookie")
		return
	}
	r.Header["Cookie"] = []string{kept.String()}
}
