package caddymodule

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("cesivi_strip_identity", parseStripIdentity)
	// Before every auth directive, so nothing downstream sees a spoofed header.
	httpcaddyfile.RegisterDirectiveOrder("cesivi_strip_identity", httpcaddyfile.Before, "basic_auth")
}

// parseStripIdentity reads
//
//	cesivi_strip_identity [<header>...] {
//		header <name>...
//	}
func parseStripIdentity(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	s := new(StripIdentity)
	if err := s.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	return s, nil
}

// UnmarshalCaddyfile implements caddyfile.Unmarshaler.
func (s *StripIdentity) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	s.Headers = append(s.Headers, d.RemainingArgs()...)
	for d.NextBlock(0) {
		switch d.Val() {
		case "header":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			s.Headers = append(s.Headers, args...)
		default:
			return d.Errf("unknown subdirective %q (expected header)", d.Val())
		}
	}
	return nil
}

var _ caddyfile.Unmarshaler = (*StripIdentity)(nil)

func init() {
	httpcaddyfile.RegisterGlobalOption("cesivi", parseApp)
	httpcaddyfile.RegisterHandlerDirective("cesivi_session", parseSession)
	// After cesivi_strip_identity (registered first, also before
	// basic_auth), before anything that could answer for the user.
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
		opt := d.Val()
		switch opt {
		case "settings_dir", "cookie_name", "cookie_secure", "assertion_audience":
			v, err := oneArg(d)
			if err != nil {
				return nil, err
			}
			switch opt {
			case "settings_dir":
				app.SettingsDir = v
			case "cookie_name":
				app.CookieName = v
			case "cookie_secure":
				app.CookieSecure = v
			default:
				app.AssertionAudience = v
			}
		case "session_cache_ttl", "assertion_ttl":
			v, err := oneArg(d)
			if err != nil {
				return nil, err
			}
			dur, err := caddy.ParseDuration(v)
			if err != nil {
				return nil, d.Errf("%s: %v", opt, err)
			}
			if opt == "session_cache_ttl" {
				app.SessionCacheTTL = caddy.Duration(dur)
			} else {
				app.AssertionTTL = caddy.Duration(dur)
			}
		case "oidc":
			if app.OIDC != nil {
				return nil, d.Err("oidc may appear only once")
			}
			app.OIDC = new(OIDC)
			if d.NextArg() {
				return nil, d.ArgErr()
			}
			for nesting := d.Nesting(); d.NextBlock(nesting); {
				sub := d.Val()
				if sub == "scopes" || sub == "bearer_clients" {
					args := d.RemainingArgs()
					if len(args) == 0 {
						return nil, d.ArgErr()
					}
					if sub == "scopes" {
						app.OIDC.Scopes = args
					} else {
						app.OIDC.BearerClients = args
					}
					continue
				}
				v, err := oneArg(d)
				if err != nil {
					return nil, err
				}
				switch sub {
				case "issuer":
					app.OIDC.Issuer = v
				case "client_id":
					app.OIDC.ClientID = v
				case "client_secret":
					app.OIDC.ClientSecret = v
				case "redirect_url":
					app.OIDC.RedirectURL = v
				case "post_logout_redirect_url":
					app.OIDC.PostLogoutRedirectURL = v
				default:
					return nil, d.Errf("oidc: unrecognized subdirective %q", sub)
				}
			}
		default:
			return nil, d.Errf("cesivi: unrecognized subdirective %q", opt)
		}
	}
	return httpcaddyfile.App{Name: "cesivi", Value: caddyconfig.JSON(app, nil)}, nil
}

func oneArg(d *caddyfile.Dispenser) (string, error) {
	opt := d.Val()
	args := d.RemainingArgs()
	if len(args) != 1 {
		return "", d.Errf("%s takes exactly one value", opt)
	}
	return args[0], nil
}

// parseSession reads
//
//	cesivi_session {
//		anonymous <path...>
//	}
func parseSession(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	s := new(Session)
	if err := s.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	return s, nil
}

// UnmarshalCaddyfile implements caddyfile.Unmarshaler.
func (s *Session) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "anonymous":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			s.Anonymous = append(s.Anonymous, args...)
		default:
			return d.Errf("cesivi_session: unrecognized subdirective %q (expected anonymous)", d.Val())
		}
	}
	return nil
}

var _ caddyfile.Unmarshaler = (*Session)(nil)
