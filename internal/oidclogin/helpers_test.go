package oidclogin_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/oidclogin"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/memstate"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/testenv"
)

// idp is a real in-process OpenID provider with the edge's callback URL
// registered. Nothing serves the callback: Login stops at the redirect to
// it, which is all a test needs.
type idp struct {
	*testenv.IdentityProvider
	redirect string
}

func newIdP(t *testing.T, opt testenv.IdPOptions) *idp {
	t.Helper()
	p := testenv.IdentityProviderT(t, opt)
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	redirect := fmt.Sprintf("http://127.0.0.1:%d/oauth2/callback", port)
	p.AddRedirectURIs(redirect)
	return &idp{IdentityProvider: p, redirect: redirect}
}

func (p *idp) config() oidclogin.Config {
	return oidclogin.Config{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret}
}

// login signs alice in at authURL and returns the query the provider sent
// the browser back to the callback with.
func (p *idp) login(t *testing.T, authURL string) url.Values {
	t.Helper()
	resp, err := p.Login(t.Context(), nil, authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("login ended with HTTP %d at %s, not a redirect", resp.StatusCode, resp.Request.URL)
	}
	if !strings.HasPrefix(loc.String(), p.redirect+"?") {
		t.Fatalf("login redirected to %s; want %s", loc, p.redirect)
	}
	return loc.Query()
}

// begin starts a login on f and drives the provider; it returns the
// callback's query.
func (p *idp) begin(t *testing.T, f *oidclogin.Flow, returnTo, binding string) url.Values {
	t.Helper()
	authURL, err := f.Begin(t.Context(), oidclogin.BeginRequest{ReturnTo: returnTo, RedirectURL: p.redirect, Binding: binding})
	if err != nil {
		t.Fatal(err)
	}
	return p.login(t, authURL)
}

func complete(f *oidclogin.Flow, ctx context.Context, q url.Values, binding string) (*oidclogin.Result, error) {
	return f.Complete(ctx, oidclogin.CompleteRequest{
		State: q.Get("state"), Code: q.Get("code"), Binding: binding,
		Error: q.Get("error"), ErrorDescription: q.Get("error_description"),
	})
}

func newFlow(t *testing.T, cfg oidclogin.Config, tickets state.Tickets) *oidclogin.Flow {
	t.Helper()
	f, err := oidclogin.New(cfg, tickets)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func memTickets(t *testing.T) state.Tickets {
	t.Helper()
	p, err := memstate.New(state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p.Tickets
}

// redisTickets opens a provider of its own (its own client) on connStr, as
// each edge of a farm would.
func redisTickets(t *testing.T, connStr string) state.Tickets {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := redisstate.Open(ctx, connStr, "", state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p.Tickets
}

// countingTickets counts the store calls, to prove some errors are decided
// without the store.
type countingTickets struct {
	state.Tickets
	mu         sync.Mutex
	puts, take int
}

func (c *countingTickets) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	c.mu.Lock()
	c.puts++
	c.mu.Unlock()
	return c.Tickets.Put(ctx, key, value, ttl)
}

func (c *countingTickets) Take(ctx context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	c.take++
	c.mu.Unlock()
	return c.Tickets.Take(ctx, key)
}

// assertNoSecret fails if err's message contains one of the secrets.
func assertNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q reveals a secret (%q)", err, s)
		}
	}
}
