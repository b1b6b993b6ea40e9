package caddymodule

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// normalizeOrigins checks the public_origins setting: each one is
// scheme://host[:port], http or https, with nothing after the host; they
// are kept in lower case without a trailing slash.
func normalizeOrigins(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, o := range in {
		o = strings.TrimSuffix(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("cesivi: oidc public_origins %q: want scheme://host[:port], http or https, and nothing after the host", o)
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return out, nil
}

// publicOrigin is the origin sign-in and sign-out send the browser back
// to, derived from the request only when configuration allows it: one of
// public_origins, or, when none is set, a loopback address (development:
// make run, the local farm). A Host header anyone can write must never
// choose where the provider sends an authorization code.
func (h *SessionGate) publicOrigin(r *http.Request) (string, bool) {
	origin := strings.ToLower(h.requestOrigin(r))
	allowed := h.app.oidc.PublicOrigins
	if len(allowed) == 0 {
		return origin, isLoopbackHost(r.Host)
	}
	for _, o := range allowed {
		if o == origin {
			return origin, true
		}
	}
	return allowed[0], false
}

// isLoopbackHost reports whether a Host header names this machine:
// localhost or a loopback IP, with any port.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
