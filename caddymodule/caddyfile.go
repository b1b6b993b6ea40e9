package caddymodule

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// init registers the package's modules, its global option and its
// directives (doc.go lists them).
func init() {
	caddy.RegisterModule(App{})
	caddy.RegisterModule(StripIdentity{})
	caddy.RegisterModule(SessionGate{})
	caddy.RegisterModule(CORS{})
	caddy.RegisterModule(RateLimit{})
	httpcaddyfile.RegisterGlobalOption("cesivi", parseApp)
	// All directly before basic_auth, in this order (each registration
	// lands right before basic_auth): cesivi_cors first, since a preflight
	// carries no identity to strip or session to check (and a 429 then
	// carries the CORS headers a script needs to read it); then
	// cesivi_rate_limit, before any work for the request (its session and
	// user zones are counted by cesivi_session, once it has identified the
	// request); then cesivi_strip_identity, so nothing downstream sees a
	// spoofed header; then cesivi_session, before anything that could
	// answer for the user.
	httpcaddyfile.RegisterHandlerDirective("cesivi_cors", parseHandler[CORS])
	httpcaddyfile.RegisterDirectiveOrder("cesivi_cors", httpcaddyfile.Before, "basic_auth")
	httpcaddyfile.RegisterHandlerDirective("cesivi_rate_limit", parseHandler[RateLimit])
	httpcaddyfile.RegisterDirectiveOrder("cesivi_rate_limit", httpcaddyfile.Before, "basic_auth")
	httpcaddyfile.RegisterHandlerDirective("cesivi_strip_identity", parseHandler[StripIdentity])
	httpcaddyfile.RegisterDirectiveOrder("cesivi_strip_identity", httpcaddyfile.Before, "basic_auth")
	httpcaddyfile.RegisterHandlerDirective("cesivi_session", parseHandler[SessionGate])
	httpcaddyfile.RegisterDirectiveOrder("cesivi_session", httpcaddyfile.Before, "basic_auth")
}

// parseApp reads the global option
//
//	cesivi {
//		settings_dir <dir>
//		cookie_name <name>
//		cookie_secure auto|always
//		session_cache_ttl <duration>
//		assertion_audience <audience>
//		assertion_ttl <duration>
//		oidc {
//			issuer <url>
//			client_id <id>
//			client_secret <secret>
//			scopes <scope...>
//			redirect_url <url>
//			post_logout_redirect_url <url>
//			public_origins <origin...>
//			bearer_clients <client_id...>
//		}
//	}
//
// Use {env.NAME} or {file.PATH} placeholders for secrets: they are read
// when the config loads and never appear in the JSON config.
func parseApp(d *caddyfile.Dispenser, existing any) (any, error) {
	if existing != nil {
		return nil, d.Err("the cesivi global option may appear only once")
	}
	app := new(App)
	d.Next() // option name
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	for d.NextBlock(0) {
		var err error
		switch d.Val() {
		case "settings_dir":
			err = stringArg(d, &app.SettingsDir)
		case "cookie_name":
			err = stringArg(d, &app.CookieName)
		case "cookie_secure":
			err = stringArg(d, &app.CookieSecure)
		case "session_cache_ttl":
			err = durationArg(d, &app.SessionCacheTTL)
		case "assertion_audience":
			err = stringArg(d, &app.AssertionAudience)
		case "assertion_ttl":
			err = durationArg(d, &app.AssertionTTL)
		case "oidc":
			err = parseOIDC(d, app)
		default:
			err = d.Errf("cesivi: unrecognized subdirective %q", d.Val())
		}
		if err != nil {
			return nil, err
		}
	}
	return httpcaddyfile.App{Name: "cesivi", Value: caddyconfig.JSON(app, nil)}, nil
}

// parseOIDC reads the oidc block of the cesivi global option.
func parseOIDC(d *caddyfile.Dispenser, app *App) error {
	if app.OIDC != nil {
		return d.Err("oidc may appear only once")
	}
	app.OIDC = new(OIDC)
	o := app.OIDC
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "issuer":
			err = stringArg(d, &o.Issuer)
		case "client_id":
			err = stringArg(d, &o.ClientID)
		case "client_secret":
			err = stringArg(d, &o.ClientSecret)
		case "scopes":
			err = listArg(d, &o.Scopes)
		case "redirect_url":
			err = stringArg(d, &o.RedirectURL)
		case "post_logout_redirect_url":
			err = stringArg(d, &o.PostLogoutRedirectURL)
		case "public_origins":
			err = listArg(d, &o.PublicOrigins)
		case "bearer_clients":
			err = listArg(d, &o.BearerClients)
		default:
			err = d.Errf("oidc: unrecognized subdirective %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// stringArg sets *dst to the subdirective's one value.
func stringArg(d *caddyfile.Dispenser, dst *string) error {
	opt := d.Val()
	args := d.RemainingArgs()
	if len(args) != 1 {
		return d.Errf("%s takes exactly one value", opt)
	}
	*dst = args[0]
	return nil
}

// durationArg sets *dst to the subdirective's one duration.
func durationArg(d *caddyfile.Dispenser, dst *caddy.Duration) error {
	opt := d.Val()
	var v string
	if err := stringArg(d, &v); err != nil {
		return err
	}
	dur, err := caddy.ParseDuration(v)
	if err != nil {
		return d.Errf("%s: %v", opt, err)
	}
	*dst = caddy.Duration(dur)
	return nil
}

// listArg sets *dst to the subdirective's values (at least one).
func listArg(d *caddyfile.Dispenser, dst *[]string) error {
	*dst = nil
	return appendArgs(d, dst)
}

// appendArgs adds the subdirective's values (at least one) to *dst: the
// subdirective may be repeated.
func appendArgs(d *caddyfile.Dispenser, dst *[]string) error {
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.ArgErr()
	}
	*dst = append(*dst, args...)
	return nil
}

// parseHandler is the directive parser of a handler that reads its own
// Caddyfile tokens (UnmarshalCaddyfile).
func parseHandler[T any, PT interface {
	*T
	caddyhttp.MiddlewareHandler
	caddyfile.Unmarshaler
}](h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	m := PT(new(T))
	if err := m.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	return m, nil
}

// UnmarshalCaddyfile reads
//
//	cesivi_strip_identity [<header>...] {
//		header <name>...
//	}
func (s *StripIdentity) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	s.Headers = append(s.Headers, d.RemainingArgs()...)
	for d.NextBlock(0) {
		if d.Val() != "header" {
			return d.Errf("unknown subdirective %q (expected header)", d.Val())
		}
		if err := appendArgs(d, &s.Headers); err != nil {
			return err
		}
	}
	return nil
}

// UnmarshalCaddyfile reads
//
//	cesivi_session {
//		anonymous <path...>
//	}
func (s *SessionGate) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		if d.Val() != "anonymous" {
			return d.Errf("cesivi_session: unrecognized subdirective %q (expected anonymous)", d.Val())
		}
		if err := appendArgs(d, &s.Anonymous); err != nil {
			return err
		}
	}
	return nil
}

// UnmarshalCaddyfile reads
//
//	cesivi_rate_limit {
//		sync_interval <duration>
//		zone <name> {
//			match {
//				<matchers>
//			}
//			key client|session|user
//			events <n>
//			window <duration>
//			burst <n>
//			max_keys <n>
//		}
//	}
func (h *RateLimit) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		var err error
		switch d.Val() {
		case "sync_interval":
			err = durationArg(d, &h.SyncInterval)
		case "zone":
			err = h.parseZone(d)
		default:
			err = d.Errf("cesivi_rate_limit: unrecognized subdirective %q (expected zone or sync_interval)", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (h *RateLimit) parseZone(d *caddyfile.Dispenser) error {
	var z RateZone
	if !d.NextArg() {
		return d.Err("zone needs a name")
	}
	z.Name = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "match":
			set, merr := caddyhttp.ParseCaddyfileNestedMatcherSet(d)
			if merr != nil {
				return merr
			}
			z.MatcherSetsRaw = append(z.MatcherSetsRaw, set)
		case "key":
			err = stringArg(d, &z.Key)
		case "events":
			err = intArg(d, &z.Events)
		case "window":
			var w caddy.Duration
			err = durationArg(d, &w)
			z.Window = w
		case "burst":
			err = intArg(d, &z.Burst)
		case "max_keys":
			err = intArg(d, &z.MaxKeys)
		default:
			err = d.Errf("zone %s: unrecognized subdirective %q", z.Name, d.Val())
		}
		if err != nil {
			return err
		}
	}
	h.Zones = append(h.Zones, z)
	return nil
}

// intArg sets *dst to the subdirective's one integer.
func intArg(d *caddyfile.Dispenser, dst *int) error {
	opt := d.Val()
	var v string
	if err := stringArg(d, &v); err != nil {
		return err
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return d.Errf("%s: %q is not a whole number", opt, v)
	}
	*dst = n
	return nil
}

// Interface guards.
var (
	_ caddyfile.Unmarshaler = (*RateLimit)(nil)
	_ caddyfile.Unmarshaler = (*StripIdentity)(nil)
	_ caddyfile.Unmarshaler = (*SessionGate)(nil)
)
