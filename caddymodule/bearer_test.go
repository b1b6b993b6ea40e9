package caddymodule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

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
func accessToken(t testing.TB, e *edgeEnv) string {
	t.Helper()
	return accessTokenFor(t, e, e.IdP.ClientID, e.IdP.ClientSecret)
}

// accessTokenFor is accessToken for another client of the provider.
func accessTokenFor(t testing.TB, e *edgeEnv, clientID, secret string) string {
	t.Helper()
	redirect := "http://127.0.0.1:1/api-client/callback"
	e.IdP.AddRedirectURIs(redirect)
	p, err := memstate.New(state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f, err := oidclogin.New(oidclogin.Config{Issuer: e.IdP.Issuer, ClientID: clientID, ClientSecret: secret}, p.Tickets)
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

	// Valid: the app server sees a signed-in user (it answers the
	// SharePoint web, not the edge's 401).
	a := get(t, c, e.URL+"/_api/web", "Authorization", "Bearer "+token, "Accept", "application/json")
	if a.Status != 200 {
		t.Fatalf("with a valid token: %d %s; want 200, the app server's SharePoint web", a.Status, a.Body)
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

	// The edge, the token cache's only user, counts its lookups (the
	// seed's DistributedTokenCache metrics); a second request is a hit.
	get(t, c, e.URL+"/_api/web", "Authorization", "Bearer "+token, "Accept", "application/json")
	metrics := get(t, c, e.MetricsURL).Body
	if reqs, hits := metricValue(t, metrics, "token_cache_requests_total"), metricValue(t, metrics, "token_cache_hits_total"); reqs < 2 || hits < 1 {
		t.Errorf("token_cache_requests_total %v, token_cache_hits_total %v after two requests with one token; want >= 2 and >= 1", reqs, hits)
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

// introspectionPath is where the provider's introspection endpoint is.
func introspectionPath(t *testing.T, e *edgeEnv) string {
	t.Helper()
	resp, err := http.Get(e.IdP.Issuer + ".well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		Introspection string `json:"introspection_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || d.Introspection == "" {
		t.Fatalf("no introspection endpoint: %v", err)
	}
	u, _ := url.Parse(d.Introspection)
	return u.Path
}

// A token another application of the same provider obtained for the user
// is refused: it could otherwise be replayed here. (This provider itself
// reports such tokens inactive to the edge; for providers that do not, the
// edge's own client check is tested in oidclogin.TestIssuedFor.)
func TestBearerTokensOfOtherClientsAreRefused(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true, otherClient: true})
	token := accessTokenFor(t, e, "other", "other-secret")
	a := get(t, client(t), e.URL+"/_api/web", "Authorization", "Bearer "+token, "Accept", "application/json")
	if a.Status != 401 || a.Error.Code != "InvalidToken" {
		t.Errorf("another client's token: %d %s; want 401 InvalidToken", a.Status, a.Body)
	}
}

// Refused and malformed tokens do not make the edge ask the provider on
// every request.
func TestInvalidBearerTokensDoNotFloodTheProvider(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true})
	path := introspectionPath(t, e)
	c := client(t)
	before := e.IdP.Requests(path)
	for range 20 {
		get(t, c, e.URL+"/_api/web", "Authorization", "Bearer unknown-but-well-formed-token", "Accept", "application/json")
		get(t, c, e.URL+"/_api/web", "Authorization", "Bearer <script>", "Accept", "application/json")
	}
	if n := e.IdP.Requests(path) - before; n != 1 {
		t.Fatalf("40 requests with bad tokens made %d introspection calls; want 1", n)
	}
	// A good token is introspected once, then served from the token cache.
	token := accessToken(t, e)
	before = e.IdP.Requests(path)
	for range 10 {
		if a := get(t, c, e.URL+"/_api/web", "Authorization", "Bearer "+token, "Accept", "application/json"); a.Status != 200 {
			t.Fatalf("valid token: %d %s", a.Status, a.Body)
		}
	}
	if n := e.IdP.Requests(path) - before; n != 1 {
		t.Fatalf("10 requests with one token made %d introspection calls; want 1", n)
	}
}

// metricValue reads an unlabelled sample from a Prometheus text page.
func metricValue(t *testing.T, page, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(page, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no %s on the metrics page", name)
	return 0
}

// TestAFloodOfNewBearerTokensCostsItsSenderNotEveryone: 100 distinct
// well-formed garbage tokens from one address make at most its budget of
// introspections (the rest: 429), and a valid token from another address
// is served during the flood.
func TestAFloodOfNewBearerTokensCostsItsSenderNotEveryone(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true})
	path := introspectionPath(t, e)
	token := accessToken(t, e)
	c := client(t)
	before := e.IdP.Requests(path)
	start := time.Now()
	throttled := 0
	for i := range 100 {
		a := get(t, c, e.URL+"/_api/web", "Authorization", fmt.Sprintf("Bearer garbage-token-%03d", i), "Accept", "application/json")
		switch a.Status {
		case 401:
		case 429:
			throttled++
			if a.Header.Get("Retry-After") == "" || a.Error.Code != "TooManyTokenChecks" {
				t.Fatalf("429 without Retry-After or code: %s", a.Body)
			}
		default:
			t.Fatalf("garbage token %d: %d %s", i, a.Status, a.Body)
		}
	}
	budget := introspectionBurst + int(time.Since(start)/introspectionEvery) + 1
	if n := e.IdP.Requests(path) - before; n > budget {
		t.Fatalf("100 garbage tokens made %d introspections; want at most the budget, %d", n, budget)
	}
	if throttled == 0 {
		t.Fatal("no garbage token was throttled")
	}
	// Another client, during the flood: served.
	other := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}}
	if a := get(t, other, e.URL+"/_api/web", "Authorization", "Bearer "+token, "Accept", "application/json"); a.Status != 200 {
		t.Fatalf("a valid token from another address during the flood: %d %s; want 200, the app server's SharePoint web", a.Status, a.Body)
	}
}

// TestTokensSeenValidKeepAReservedIntrospectionSlot: with every ordinary
// slot taken by new tokens, a token this edge has seen valid still gets
// one.
func TestTokensSeenValidKeepAReservedIntrospectionSlot(t *testing.T) {
	g := newBearerGuard()
	ctx := context.Background()
	for range maxIntrospections - reservedIntrospections {
		if _, err := g.slot(ctx, false); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := g.slot(short, false); err == nil {
		t.Fatal("a new token got a slot kept for known ones")
	}
	release, err := g.slot(ctx, true)
	if err != nil {
		t.Fatalf("a known token found no slot: %v", err)
	}
	release()
}

func TestRefusedTokensAreForgottenOldestFirst(t *testing.T) {
	s := newExpiringSet(3)
	now := time.Now()
	for i := range 5 {
		s.add(fmt.Sprint(i), now.Add(time.Minute))
	}
	if s.len() != 3 || s.has("0", now) || s.has("1", now) || !s.has("4", now) {
		t.Fatalf("len %d; want the 3 newest kept", s.len())
	}
	if s.has("4", now.Add(2*time.Minute)) {
		t.Fatal("an entry outlived its time")
	}
}
