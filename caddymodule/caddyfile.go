package caddymodule

import (
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
