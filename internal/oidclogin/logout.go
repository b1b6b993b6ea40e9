package oidclogin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// ErrLogoutToken: a back-channel logout token is malformed, not signed by
// the provider, not for this client, expired, or not a logout token.
var ErrLogoutToken = errors.New("oidclogin: invalid logout token")

// BackChannelLogoutEvent is the event a logout token must carry.
const BackChannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// LogoutClaims name what a back-channel logout ends: every session with the
// OpenID sid, or else every session of the subject.
type LogoutClaims struct {
	Subject string
	SID     string
	// JTI identifies the token; the caller keeps it until Expires so the
	// same token cannot be replayed.
	JTI     string
	Expires time.Time
}

// VerifyLogoutToken checks a back-channel logout token (OpenID Connect
// Back-Channel Logout 1.0, section 2.6): signed by the provider's keys
// (JWKS), issuer, audience = this client, not expired, the logout event
// present, no nonce (so an ID token cannot pass for one), a sub or a sid,
// and a jti for replay protection.
func (f *Flow) VerifyLogoutToken(ctx context.Context, raw string) (*LogoutClaims, error) {
	if raw == "" || len(raw) > 16<<10 {
		return nil, fmt.Errorf("%w: missing or oversized", ErrLogoutToken)
	}
	p, err := f.provider(ctx)
	if err != nil {
		return nil, err
	}
	hctx := oidc.ClientContext(ctx, f.cfg.HTTPClient)
	tok, err := p.verifier.Verify(hctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrLogoutToken, f.describe(err, raw))
	}
	var c struct {
		Subject string                     `json:"sub"`
		SID     string                     `json:"sid"`
		JTI     string                     `json:"jti"`
		Nonce   *string                    `json:"nonce"`
		Events  map[string]json.RawMessage `json:"events"`
	}
	if err := tok.Claims(&c); err != nil {
		return nil, fmt.Errorf("%w: claims: %s", ErrLogoutToken, f.describe(err, raw))
	}
	switch {
	case c.Events[BackChannelLogoutEvent] == nil:
		return nil, fmt.Errorf("%w: no back-channel logout event", ErrLogoutToken)
	case c.Nonce != nil:
		return nil, fmt.Errorf("%w: a logout token must not carry a nonce", ErrLogoutToken)
	case c.Subject == "" && c.SID == "":
		return nil, fmt.Errorf("%w: neither sub nor sid", ErrLogoutToken)
	case c.JTI == "":
		return nil, fmt.Errorf("%w: no jti", ErrLogoutToken)
	}
	return &LogoutClaims{Subject: c.Subject, SID: c.SID, JTI: c.JTI, Expires: tok.Expiry}, nil
}
