package sharepoint

import (
	"net/http"
	"net/url"
	"strings"
)

// publicOrigin is the scheme and host clients reach the farm at, for the
// absolute URLs clients follow (odata.nextLink, odata.id, WebFullUrl).
// The edge sets X-Forwarded-Proto and X-Forwarded-Host on what it
// forwards (replacing what a client sent); they are trusted only on a
// request that carries a verified assertion, that is, came through an
// edge.
func publicOrigin(r *http.Request, viaEdge bool) string {
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if viaEdge {
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" && validHost(h) {
			host = h
		}
	}
	if !validHost(host) {
		host = "localhost"
	}
	return scheme + "://" + host
}

func firstValue(h string) string {
	v, _, _ := strings.Cut(h, ",")
	return strings.TrimSpace(v)
}

// validHost accepts a host[:port] made of the characters a host name,
// an IPv4 or a bracketed IPv6 address may have: it ends up in URLs.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_':
		default:
			return false
		}
	}
	return true
}

// absURL is the absolute public URL of a server-relative path.
func (c *call) absURL(serverRelative string) string {
	if serverRelative == "/" {
		return c.origin
	}
	return c.origin + pathEscape(serverRelative)
}

// pathEscape escapes a server-relative URL for a link, keeping '/'.
func pathEscape(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
