package caddymodule

import (
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/cesivi/cesivi/internal/cors"
	"github.com/cesivi/cesivi/internal/httperr"
)

// CORS (module cesivi_cors) lets browser scripts of other origins call
// the farm (internal/cors decides). It comes before cesivi_session, so a
// preflight, which never carries a cookie or a token, is answered here
// without a session. Without the directive, no origin is allowed.
type CORS struct {
	Origins     []string       `json:"origins,omitempty"`
	Methods     []string       `json:"methods,omitempty"`
	Headers     []string       `json:"headers,omitempty"`
	Expose      []string       `json:"expose,omitempty"`
	Credentials bool           `json:"credentials,omitempty"`
	MaxAge      caddy.Duration `json:"max_age,omitempty"`

	checker *cors.Checker
}

// CaddyModule returns the Caddy module information.
func (CORS) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.cesivi_cors",
		New: func() caddy.Module { return new(CORS) },
	}
}

// Provision compiles the policy; what a browser would refuse or what is
// unsafe fails the configuration, not a request.
func (c *CORS) Provision(caddy.Context) error {
	checker, err := cors.Compile(cors.Policy{Origins: c.Origins, Methods: c.Methods, Headers: c.Headers, Expose: c.Expose,
		Credentials: c.Credentials, MaxAge: time.Duration(c.MaxAge)})
	if err != nil {
		return err
	}
	c.checker = checker
	return nil
}

// ServeHTTP answers preflights and marks the answers to actual requests.
func (c *CORS) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if cors.IsPreflight(r) {
		if err := c.checker.Preflight(r.Header, w.Header()); err != nil {
			httperr.Write(w, httperr.New(http.StatusForbidden, "CorsRefused", err.Error()))
			return nil
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	c.checker.Actual(r.Header, w.Header())
	return next.ServeHTTP(w, r)
}

// UnmarshalCaddyfile reads
//
//	cesivi_cors {
//		origins <origin...>
//		methods <method...>
//		headers <header...>
//		expose <header...>
//		credentials
//		max_age <duration>
//	}
func (c *CORS) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		var err error
		switch d.Val() {
		case "origins":
			err = appendArgs(d, &c.Origins)
		case "methods":
			err = appendArgs(d, &c.Methods)
		case "headers":
			err = appendArgs(d, &c.Headers)
		case "expose":
			err = appendArgs(d, &c.Expose)
		case "credentials":
			if d.NextArg() {
				return d.ArgErr()
			}
			c.Credentials = true
		case "max_age":
			err = durationArg(d, &c.MaxAge)
		default:
			err = d.Errf("cesivi_cors: unrecognized subdirective %q (expected origins, methods, headers, expose, credentials or max_age)", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*CORS)(nil)
	_ caddyhttp.MiddlewareHandler = (*CORS)(nil)
	_ caddyfile.Unmarshaler       = (*CORS)(nil)
)
