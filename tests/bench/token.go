package bench

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"time"

	"github.com/cesivi/cesivi/internal/oidclogin"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/memstate"
	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/tests/farm"
)

// tokenRenewAfter is well inside the development provider's access token
// lifetime (5 minutes).
const tokenRenewAfter = 2 * time.Minute

// FarmToken returns a Token function for Library: the farm's development
// user's access token, from its provider by the code flow with edge's
// callback, fetched again when it gets old.
func FarmToken(f *farm.Farm, edge string) func(ctx context.Context) (string, error) {
	var (
		mu    sync.Mutex
		token string
		at    time.Time
	)
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if token != "" && time.Since(at) < tokenRenewAfter {
			return token, nil
		}
		t, err := MintToken(ctx, f, edge)
		if err != nil {
			return "", err
		}
		token, at = t, time.Now()
		return token, nil
	}
}

// MintToken signs the development user in at the farm's provider (the
// code flow with edge's callback as the redirect URI) and reads the code
// from the redirect instead of following it: an access token, as an API
// client would hold.
func MintToken(ctx context.Context, f *farm.Farm, edge string) (string, error) {
	return MintTokenAs(ctx, f, edge, f.IdP.Username, f.IdP.Password)
}

// MintTokenAs is MintToken for another user of the farm's provider.
func MintTokenAs(ctx context.Context, f *farm.Farm, edge, username, password string) (string, error) {
	return MintTokenFrom(ctx, Provider{Issuer: f.IdP.Issuer, ClientID: f.ClientID, ClientSecret: f.ClientSecret}, edge, username, password)
}

// Provider names an OpenID provider and the confidential client a token
// is minted for.
type Provider struct {
	Issuer, ClientID, ClientSecret string
}

// MintTokenFrom is MintTokenAs against any development provider (the
// edge benchmark's is in its own process).
func MintTokenFrom(ctx context.Context, p Provider, edge, username, password string) (string, error) {
	mem, err := memstate.New(state.Options{})
	if err != nil {
		return "", err
	}
	defer mem.Close()
	flow, err := oidclogin.New(oidclogin.Config{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret}, mem.Tickets)
	if err != nil {
		return "", err
	}
	authURL, err := flow.Begin(ctx, oidclogin.BeginRequest{RedirectURL: edge + "/oauth2/callback"})
	if err != nil {
		return "", err
	}
	idp := &testenv.IdentityProvider{Issuer: p.Issuer}
	resp, err := idp.LoginAs(ctx, nil, authURL, username, password)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "", err
	}
	res, err := flow.Complete(ctx, oidclogin.CompleteRequest{State: cb.Query().Get("state"), Code: cb.Query().Get("code")})
	if err != nil {
		return "", err
	}
	if res.AccessToken == "" {
		return "", errors.New("the provider issued no access token")
	}
	return res.AccessToken, nil
}
