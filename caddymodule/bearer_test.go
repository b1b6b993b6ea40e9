package caddymodule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/connstr"
	"github.com/cesivi/cesivi/internal/identity"
	"github.com/cesivi/cesivi/internal/oidclogin"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/memstate"
)

// accessToken signs alice in at the provider as an API client would (its
// own redirect URI, nothing to do with the edge) and returns the access
// token.
func accessToken(t *testing.T, e *edgeEnv) string {
	t.Helper()
	redirect := "http://127.0.0.1:1/api-client/callback"
	e.IdP.AddRedirectURIs(redirect)
	p, err := memstate.New(state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f, err := oidclogin.New(oidclogin.Config{Issuer: e.IdP.Issuer, ClientID: e.IdP.ClientID, ClientSecret: e.IdP.ClientSecret}, p.Tickets)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	authURL, err := f.Begin(ctx, oidclogin.BeginRequest{RedirectURL: redirect})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.IdP.Login(ctx, nil, authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb, _ := url.Parse(resp.Header.Get("Location"))
	q := cb.Query()
	res, err := f.Complete(ctx, oidclogin.CompleteRequest{State: q.Get("state"), Code: q.Get("code")})
	if err != nil {
		t.Fatal(err)
	}
	if res.AccessToken == "" {
		t.Fatal("the provider issued no access token")
	}
	return res.AccessToken
}

func TestBearerTokensFromTheProviderAreAcceptedAndCachedFarmWide(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true})
	token := accessToken(t, e)
	c := client(t)

	// Valid: the app server sees a signed-in user (its own 404 for an
	// unknown path, not the edge's 401).
	a := get(t, c, e.URL+"/_api/web", "Authorization", "Bearer "+token, "Accept", "application/json")
	if a.Status != 404 {
		t.Fatalf("with a valid token: %d %s; want the app server's 404", a.Status, a.Body)
	}
	if sessionCookie(t, a.Header) != nil {
		t.Error("a bearer request got a session cookie")
	}
	// The validation is in Redis, under the token's hash only.
	opts, err := connstr.ParseRedis(e.RedisConn)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewUniversalClient(opts.Universal())
	defer rdb.Close()
	sum := sha256.Sum256([]byte(token))
	raw, err := rdb.HGet(context.Background(), "token:{"+hex.EncodeToString(sum[:])+"}", "data").Result()
	if err != nil {
		t.Fatalf("no shared token cache entry: %v", err)
	}
	var id oidclogin.TokenIdentity
	if json.Unmarshal([]byte(raw), &id) != nil || id.Subject != e.IdP.Subject || strings.Contains(raw, token) {
		t.Fatalf("token cache entry %q", raw)
	}

	// Invalid tokens: 401 with the RFC 6750 challenge, nothing forwarded.
	for name, h := range map[string]string{"unknown": "Bearer not-a-token", "tampered": "Bearer " + token + "x", "with spaces": "Bearer a b"} {
		a := get(t, c, e.URL+"/_api/web", "Authorization", h, "Accept", "application/json")
		if a.Status != 401 || a.Error.Code != "InvalidToken" || !strings.Contains(a.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%s token: %d %s %v", name, a.Status, a.Body, a.Header.Get("WWW-Authenticate"))
		}
	}
	// Another scheme is not a bearer token: login required, as without one.
	if a := get(t, c, e.URL+"/_api/web", "Authorization", "Basic YTpi", "Accept", "application/json"); a.Status != 401 || a.Error.Code != "LoginRequired" {
		t.Errorf("basic auth: %d %s", a.Status, a.Body)
	}
}

func TestBearerTokenNeverReachesTheAppServer(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true, echo: true})
	token := accessToken(t, e)
	a := get(t, client(t), e.URL+"/_api/web", "Authorization", "Bearer "+token)
	var seen map[string][]string
	if err := json.Unmarshal([]byte(a.Body), &seen); err != nil {
		t.Fatalf("%d %s", a.Status, a.Body)
	}
	if _, ok := seen["Authorization"]; ok {
		t.Error("the access token was forwarded to the app server")
	}
	if len(seen[identity.AssertionHeader]) != 1 {
		t.Errorf("no assertion: %v", seen)
	}
}
