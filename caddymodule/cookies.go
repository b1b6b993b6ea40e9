package caddymodule

import (
	"net/http"
	"strings"
	"time"

	"github.com/cesivi/cesivi/internal/state"
)

// bindingCookie ties a login to the browser that started it (login CSRF):
// the login state in the store keeps only its hash. Every tab of a browser
// shares one value, so several tabs can sign in at once.
const bindingCookie = "cesivi_login"

// hostPrefix is the cookie prefix browsers accept only from a secure origin,
// for the whole host (Path=/, no Domain): a sibling subdomain or a network
// attacker on plain HTTP cannot plant such a cookie. On HTTPS the edge's
// cookies carry it; on plain HTTP (development, probes) they cannot.
const hostPrefix = "__Host-"

// secure reports whether the client reached this site over HTTPS: the
// request came in over TLS, or cookie_secure says the edge sits behind a
// load balancer that terminates TLS.
func (h *SessionGate) secure(r *http.Request) bool {
	return r.TLS != nil || h.app.CookieSecure == CookieSecureAlways
}

// cookieName is the session cookie's name for this request.
func (h *SessionGate) cookieName(r *http.Request) string {
	if h.secure(r) {
		return h.app.hostCookieName
	}
	return h.app.CookieName
}

// bindingCookieName and bindingCookiePath are the login cookie's. Its path
// is "/" on HTTP too: a sign-in often starts from a protected page (not
// under /oauth2/), and a browser must send the cookie there for every tab
// to reuse one binding; the edge removes it from requests to app servers.
func (h *SessionGate) bindingCookieName(r *http.Request) (name, path string) {
	if h.secure(r) {
		return hostPrefix + bindingCookie, "/"
	}
	return bindingCookie, "/"
}

// setCookie sets the session cookie: HttpOnly, SameSite=Lax, Secure on
// HTTPS, expiring with the session's absolute lifetime.
func (h *SessionGate) setCookie(w http.ResponseWriter, r *http.Request, value string, s *state.Session) {
	maxAge := int(time.Until(s.Created.Add(state.DefaultAbsoluteLifetime)) / time.Second)
	if maxAge < 1 {
		maxAge = 1
	}
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(r), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteLaxMode,
	})
}

func (h *SessionGate) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteLaxMode,
	})
}

// requestOrigin is scheme://host of the request as the client sent it.
func (h *SessionGate) requestOrigin(r *http.Request) string {
	scheme := "http"
	if h.secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// maxFastCookieBytes bounds the Cookie header lookupCookie reads itself:
// below it the header cannot hold more cookies than net/http accepts
// (GODEBUG httpcookiemaxnum, at least 3000 by default, and each cookie
// takes at least two bytes), so both read it alike.
const maxFastCookieBytes = 4096

// lookupCookie returns the first valid value of the cookie name in r, as
// r.Cookie(name) does, without allocating: the edge reads its session
// cookie on every request. Longer headers go through r.Cookie itself.
func lookupCookie(r *http.Request, name string) (string, bool) {
	lines := r.Header["Cookie"]
	size := 0
	for _, line := range lines {
		size += len(line)
	}
	if size >= maxFastCookieBytes {
		c, err := r.Cookie(name)
		if err != nil {
			return "", false
		}
		return c.Value, true
	}
	for _, line := range lines {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			n, v, _ := strings.Cut(trimCookieSpace(part), "=")
			if trimCookieSpace(n) != name {
				continue
			}
			if v, ok := cookieValue(v); ok {
				return v, true
			}
		}
	}
	return "", false
}

// trimCookieSpace is textproto.TrimString: ASCII space, tab, CR, LF.
func trimCookieSpace(s string) string {
	for len(s) > 0 && isCookieSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isCookieSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isCookieSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// cookieValue is net/http's reading of a cookie value in a request: the
// surrounding double quotes removed, and no byte a value cannot hold.
func cookieValue(v string) (string, bool) {
	if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' {
			return "", false
		}
	}
	return v, true
}
