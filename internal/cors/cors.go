// Package cors decides Cross-Origin Resource Sharing at the edge, as the
// Fetch standard's CORS protocol describes it: which origins may read the
// farm's answers from a browser script, with which methods and headers,
// and whether with credentials. It answers preflights itself, so a
// preflight (which never carries a cookie or a token) needs no session.
//
// It imports nothing of Caddy; caddymodule's cesivi_cors is the glue.
package cors

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Policy is what an operator configures. The zero value allows nothing.
type Policy struct {
	// Origins are exact origins ("https://app.example.com"), patterns
	// with a leading wildcard label ("https://*.example.com": any
	// subdomain, not the apex) or "*" (any origin; refused with
	// Credentials).
	Origins []string
	// Methods a script may use beyond the safelisted GET, HEAD and POST
	// (SharePoint clients also send MERGE, PATCH, PUT and DELETE).
	Methods []string
	// Headers a script may send beyond the safelisted ones (Accept,
	// Accept-Language, Content-Language, Content-Type); "*" for any
	// (refused with Credentials, where the standard reads it literally).
	Headers []string
	// Expose are the answer headers a script may read beyond the
	// safelisted ones (ETag, Retry-After for SharePoint clients).
	Expose []string
	// Credentials lets scripts send cookies and read the answers to
	// requests that carried them (Access-Control-Allow-Credentials).
	Credentials bool
	// MaxAge is how long a browser may keep a preflight's answer (0:
	// the browser's default, 5 s in Chromium and Firefox).
	MaxAge time.Duration
}

// MaxMaxAge is the longest MaxAge accepted: browsers cap it anyway
// (Firefox at 24 h, Chromium at 2 h), and a long one keeps a withdrawn
// permission alive in browsers.
const MaxMaxAge = 24 * time.Hour

// Checker is a compiled Policy, safe for concurrent use.
type Checker struct {
	any         bool
	exact       map[string]bool
	suffixes    []originSuffix
	methods     map[string]bool
	allowMethod string // Access-Control-Allow-Methods
	anyHeader   bool
	headers     map[string]bool // lower-cased
	expose      string
	credentials bool
	maxAge      string
}

type originSuffix struct{ scheme, suffix, port string }

// safelisted request headers: a preflight never has to ask for them
// (the standard also bounds their values; the browser checks that).
var safelistedHeaders = map[string]bool{"accept": true, "accept-language": true, "content-language": true, "content-type": true}

var safelistedMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost}

// Compile checks p and makes its Checker. What a browser would refuse or
// what would be unsafe is an error that names the setting.
func Compile(p Policy) (*Checker, error) {
	c := &Checker{exact: map[string]bool{}, methods: map[string]bool{}, headers: map[string]bool{}, credentials: p.Credentials}
	if len(p.Origins) == 0 {
		return nil, errors.New("cors: origins: name at least one origin (a policy without one allows nothing)")
	}
	for _, o := range p.Origins {
		if err := c.addOrigin(o, p.Credentials); err != nil {
			return nil, err
		}
	}
	for _, m := range safelistedMethods {
		c.methods[m] = true
	}
	for _, m := range p.Methods {
		if !isToken(m) {
			return nil, fmt.Errorf("cors: methods: %q is not an HTTP method", m)
		}
		if m == "*" {
			return nil, errors.New("cors: methods: name the methods; * is read literally when credentials are allowed and hides what is allowed otherwise")
		}
		c.methods[strings.ToUpper(m)] = true
	}
	names := make([]string, 0, len(c.methods))
	for m := range c.methods {
		names = append(names, m)
	}
	slices.Sort(names)
	c.allowMethod = strings.Join(names, ", ")
	for _, h := range p.Headers {
		if h == "*" {
			if p.Credentials {
				return nil, errors.New("cors: headers: * cannot be used with credentials (browsers read it as a header named *); name the headers")
			}
			c.anyHeader = true
			continue
		}
		if !isToken(h) {
			return nil, fmt.Errorf("cors: headers: %q is not a header name", h)
		}
		c.headers[strings.ToLower(h)] = true
	}
	for _, h := range p.Expose {
		if !isToken(h) || h == "*" {
			return nil, fmt.Errorf("cors: expose: %q is not a header name (name each header to expose)", h)
		}
	}
	c.expose = strings.Join(p.Expose, ", ")
	switch {
	case p.MaxAge < 0:
		return nil, errors.New("cors: max_age: must not be negative")
	case p.MaxAge > MaxMaxAge:
		return nil, fmt.Errorf("cors: max_age: %v is longer than %v", p.MaxAge, MaxMaxAge)
	case p.MaxAge > 0:
		c.maxAge = strconv.Itoa(int(p.MaxAge / time.Second))
	}
	return c, nil
}

func (c *Checker) addOrigin(o string, credentials bool) error {
	if o == "*" {
		if credentials {
			return errors.New("cors: origins: * cannot be used with credentials (browsers refuse it, and any site could act as the signed-in user); name the origins")
		}
		c.any = true
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("cors: origins: %q is not an origin (scheme://host[:port], nothing after it)", o)
	}
	host := strings.ToLower(u.Hostname())
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		if rest == "" || strings.Contains(rest, "*") || !strings.Contains(rest, ".") {
			return fmt.Errorf("cors: origins: %q: a wildcard stands for the leftmost labels of a domain with at least two labels (https://*.example.com)", o)
		}
		c.suffixes = append(c.suffixes, originSuffix{scheme: u.Scheme, suffix: "." + rest, port: u.Port()})
		return nil
	}
	if strings.Contains(host, "*") {
		return fmt.Errorf("cors: origins: %q: a wildcard may only be the leftmost label", o)
	}
	c.exact[u.Scheme+"://"+strings.ToLower(u.Host)] = true
	return nil
}

// Allowed reports whether a request from origin (the Origin header) may
// read answers.
func (c *Checker) Allowed(origin string) bool {
	if origin == "" || origin == "null" {
		// "null" is what sandboxed frames and file: pages send: allowing
		// it allows every such document, whoever made it.
		return false
	}
	if c.any {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.Path != "" || u.User != nil {
		return false
	}
	if c.exact[u.Scheme+"://"+strings.ToLower(u.Host)] {
		return true
	}
	host := strings.ToLower(u.Hostname())
	for _, s := range c.suffixes {
		if u.Scheme == s.scheme && u.Port() == s.port && strings.HasSuffix(host, s.suffix) && len(host) > len(s.suffix) {
			return true
		}
	}
	return false
}

// IsPreflight reports whether r is a CORS preflight: OPTIONS with Origin
// and Access-Control-Request-Method.
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// Refusal says why a preflight was refused, for the developer reading the
// answer in the browser's network panel.
type Refusal struct{ Reason string }

func (r *Refusal) Error() string { return r.Reason }

// Preflight answers a preflight: the headers to send with a 204, or a
// Refusal (send 403 without CORS headers, so the browser blocks the
// request the script was about to make).
func (c *Checker) Preflight(req http.Header, out http.Header) error {
	out.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	origin := req.Get("Origin")
	if !c.Allowed(origin) {
		return &Refusal{Reason: "this origin may not call the farm from a browser script (cesivi_cors origins)"}
	}
	method := strings.TrimSpace(req.Get("Access-Control-Request-Method"))
	if !c.methods[method] {
		return &Refusal{Reason: fmt.Sprintf("the method %s is not allowed from browser scripts (cesivi_cors methods)", sanitize(method))}
	}
	var asked []string
	for _, v := range req.Values("Access-Control-Request-Headers") {
		for _, h := range strings.Split(v, ",") {
			if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
				asked = append(asked, h)
			}
		}
	}
	for _, h := range asked {
		if !c.anyHeader && !c.headers[h] && !safelistedHeaders[h] {
			return &Refusal{Reason: fmt.Sprintf("the header %s is not allowed from browser scripts (cesivi_cors headers)", sanitize(h))}
		}
	}
	c.allowOrigin(origin, out)
	out.Set("Access-Control-Allow-Methods", c.allowMethod)
	if len(asked) > 0 {
		out.Set("Access-Control-Allow-Headers", strings.Join(asked, ", "))
	}
	if c.maxAge != "" {
		out.Set("Access-Control-Max-Age", c.maxAge)
	}
	return nil
}

// Actual adds to out what the answer to an actual (not preflight) request
// from an allowed origin needs, and Vary: Origin whenever the answer
// depends on it, so no shared cache serves one origin's answer to another.
func (c *Checker) Actual(req http.Header, out http.Header) {
	if !c.any || c.credentials {
		out.Add("Vary", "Origin")
	}
	origin := req.Get("Origin")
	if !c.Allowed(origin) {
		return
	}
	c.allowOrigin(origin, out)
	if c.expose != "" {
		out.Set("Access-Control-Expose-Headers", c.expose)
	}
}

func (c *Checker) allowOrigin(origin string, out http.Header) {
	if c.any && !c.credentials {
		out.Set("Access-Control-Allow-Origin", "*")
		return
	}
	out.Set("Access-Control-Allow-Origin", origin)
	if c.credentials {
		out.Set("Access-Control-Allow-Credentials", "true")
	}
}

// isToken: an RFC 9110 token (method and header names).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b <= ' ' || b >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, b) >= 0 {
			return false
		}
	}
	return true
}

// sanitize keeps a client's value printable and short in a message.
func sanitize(s string) string {
	if len(s) > 64 || !isToken(s) {
		return "(as sent)"
	}
	return s
}
