package caddymodule

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// IdentityHeaderPrefix starts every header the edge uses to tell app
// servers who the user is (the signed assertion among them). Anything a
// client sends under this prefix is a spoofing attempt or a mistake.
const IdentityHeaderPrefix = "X-Cesivi-"

// spoofableHeaders are identity headers other auth proxies and app
// frameworks trust. Cesivi never sets them, and removes them so an app
// behind the edge cannot be fooled by a client that sends them.
var spoofableHeaders = []string{
	"X-Forwarded-User",
	"X-Forwarded-Email",
	"X-Forwarded-Groups",
	"X-Forwarded-Preferred-Username",
	"X-Forwarded-Access-Token",
	"X-Auth-Request-User",
	"X-Auth-Request-Email",
	"X-Auth-Request-Groups",
	"X-Auth-Request-Preferred-Username",
	"X-Auth-Request-Access-Token",
	"X-Remote-User",
	"X-Remote-Email",
	"X-Remote-Groups",
	"Remote-User",
	"X-User",
	"X-User-Id",
	"X-Email",
}

// StripIdentity (module cesivi_strip_identity) removes identity headers
// from every request before any other handler sees it. It is the first handler of every Cesivi route.
type StripIdentity struct {
	// Headers lists additional header names to remove (exact names,
	// case-insensitive). The built-in list and every X-Cesivi-* header are
	// always removed.
	Headers []string `json:"headers,omitempty"`

	extra []string // canonical forms of Headers
}

// CaddyModule returns the Caddy module information.
func (StripIdentity) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.cesivi_strip_identity",
		New: func() caddy.Module { return new(StripIdentity) },
	}
}

// Provision canonicalises the configured header names once, off the
// request path.
func (s *StripIdentity) Provision(caddy.Context) error {
	s.extra = make([]string, 0, len(s.Headers))
	for _, h := range s.Headers {
		s.extra = append(s.extra, http.CanonicalHeaderKey(strings.TrimSpace(h)))
	}
	return nil
}

// Validate refuses header names that could not appear on the wire.
func (s *StripIdentity) Validate() error {
	for _, h := range s.extra {
		if h == "" || strings.ContainsAny(h, " \t\r\n:") {
			return fmt.Errorf("cesivi_strip_identity: %q is not a header name", h)
		}
	}
	return nil
}

// ServeHTTP removes identity headers, then passes the request on.
func (s *StripIdentity) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	stripIdentityHeaders(r.Header, s.extra)
	return next.ServeHTTP(w, r)
}

// spoofableSet is spoofableHeaders as a set: stripping looks up each of
// the request's headers in it (a request has a handful) instead of
// deleting every listed name from the header map.
var spoofableSet = func() map[string]struct{} {
	m := make(map[string]struct{}, len(spoofableHeaders))
	for _, name := range spoofableHeaders {
		m[name] = struct{}{}
	}
	return m
}()

// stripIdentityHeaders deletes the Cesivi namespace, the well-known
// spoofable names and extra. Header keys in a parsed request are canonical,
// so the prefix test and the set lookup are plain string comparisons.
func stripIdentityHeaders(h http.Header, extra []string) {
	for name := range h {
		if strings.HasPrefix(name, IdentityHeaderPrefix) {
			delete(h, name)
			continue
		}
		if _, ok := spoofableSet[name]; ok {
			delete(h, name)
		}
	}
	for _, name := range extra {
		delete(h, name)
	}
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*StripIdentity)(nil)
	_ caddy.Validator             = (*StripIdentity)(nil)
	_ caddyhttp.MiddlewareHandler = (*StripIdentity)(nil)
)
