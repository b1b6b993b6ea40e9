package oidclogin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// ErrRefreshRefused: the provider refused the refresh token (invalid_grant:
// expired, revoked, already used, or the user was disabled). The session it
// belongs to must end.
var ErrRefreshRefused = errors.New("oidclogin: the identity provider refused the refresh token")

// Tokens are what a refresh returns.
type Tokens struct {
	AccessToken, RefreshToken, IDToken string
	Expiry                             time.Time
	// Identity is who the refreshed ID token says the user is now (name,
	// email and groups may have changed at the provider); nil when the
	// provider sent no ID token.
	Identity *Identity
}

// Identity is the profile an ID token carries.
type Identity struct {
	Subject, Name, Email string
	Groups               []string
}

// Refresh redeems a refresh token. Providers that rotate refresh tokens
// invalidate the old one, so a caller must never refresh the same session
// twice at once (the edge holds a farm-wide lease while it does). A refusal
// is ErrRefreshRefused; anything else (provider down, client misconfigured)
// wraps ErrProviderUnavailable and must not end the session.
func (f *Flow) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	if refreshToken == "" {
		return nil, fmt.Errorf("%w: no refresh token", ErrRefreshRefused)
	}
	p, err := f.provider(ctx)
	if err != nil {
		return nil, err
	}
	hctx := oidc.ClientContext(ctx, f.cfg.HTTPClient)
	// An expired token makes the source go to the token endpoint.
	src := p.oauth.TokenSource(hctx, &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)})
	tok, err := src.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			return nil, fmt.Errorf("%w: %s", ErrRefreshRefused, f.describe(err, refreshToken))
		}
		return nil, fmt.Errorf("%w: refresh: %s", ErrProviderUnavailable, f.describe(err, refreshToken))
	}
	out := &Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}
	if out.RefreshToken == "" {
		out.RefreshToken = refreshToken // the provider keeps the old one valid
	}
	out.IDToken, _ = tok.Extra("id_token").(string)
	if out.IDToken != "" {
		// OpenID Connect Core 12.2: a refreshed ID token is verified like
		// the first (issuer, audience, signature, expiry; it has no nonce).
		idt, err := p.verifier.Verify(hctx, out.IDToken)
		if err != nil {
			return nil, fmt.Errorf("%w: refreshed ID token: %s", ErrProviderUnavailable, f.describe(err, out.IDToken, out.AccessToken, out.RefreshToken))
		}
		var c claims
		if err := idt.Claims(&c); err != nil || c.Subject == "" {
			return nil, fmt.Errorf("%w: refreshed ID token has no subject", ErrProviderUnavailable)
		}
		out.Identity = &Identity{Subject: c.Subject, Name: firstNonEmpty(c.Name, c.PreferredUsername, c.Email, c.Subject),
			Email: c.Email, Groups: []string(c.Groups)}
	}
	return out, nil
}
