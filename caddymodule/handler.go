package caddymodule

import (
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// ServeHTTP removes identity headers, then passes the request on.
func (s *StripIdentity) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	stripIdentityHeaders(r.Header, s.extra)
	return next.ServeHTTP(w, r)
}

// stripIdentityHeaders deletes the Cesivi namespace, the well-known
// spoofable names and extra. Header keys in a parsed request are canonical,
// so the prefix test is a plain string comparison.
func stripIdentityHeaders(h http.Header, extra []string) {
	for name := range h {
		if strings.HasPrefix(name, IdentityHeaderPrefix) {
			delete(h, name)
		}
	}
	for _, name := range spoofableHeaders {
		delete(h, name)
	}
	for _, name := range extra {
		delete(h, name)
	}
}
