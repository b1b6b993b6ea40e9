package caddymodule

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/backends"
	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/websession"
	"github.com/cesivi/cesivi/keyring"
)

// backstage opens what an operator of the farm could: the distributed
// state and the key ring, to look at and tamper with a session.
func backstage(t *testing.T, e *edgeEnv) (*state.Provider, *keyring.Ring) {
	t.Helper()
	s, err := config.Load(t.TempDir(), e.Environ)
	if err != nil {
		t.Fatal(err)
	}
	b, err := backends.Open(context.Background(), s, backends.Options{Role: backends.Admin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b.State, b.KeyRing
}

func sessionOf(t *testing.T, e *edgeEnv, c *http.Client) string {
	t.Helper()
	me := get(t, c, e.URL+"/api/session/get")
	if me.Status != 200 || me.Session.SessionID == "" {
		t.Fatalf("no session: %d %s", me.Status, me.Body)
	}
	return me.Session.SessionID
}

func readTokens(t *testing.T, ring *keyring.Ring, p *state.Provider, id string) websession.Tokens {
	t.Helper()
	sealed, err := p.Sessions.Tokens(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := websession.OpenTokens(ring, sealed)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// expire makes the session's access token look expired (its expiry is data).
func expire(t *testing.T, p *state.Provider, id string) {
	t.Helper()
	if err := p.Sessions.Update(context.Background(), id, state.SessionUpdate{Set: map[string]string{websession.DataTokenExpiry: "1"}}); err != nil {
		t.Fatal(err)
	}
}

func TestExpiringTokensAreRefreshedOnceAndARefusedRefreshEndsTheSession(t *testing.T) {
	// No session cache: the test changes the session behind the edge's back.
	e := startEdge(t, edgeOptions{oidc: true, refresh: true, cacheTTL: "-1s"})
	p, ring := backstage(t, e)
	c := signIn(t, e)
	id := sessionOf(t, e, c)
	sess, err := p.Sessions.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	before := readTokens(t, ring, p, id)
	if before.RefreshToken == "" || sess.Data[websession.DataTokenExpiry] == "" {
		t.Fatalf("the session holds no refresh token (data %v)", sess.Data)
	}

	// The access token expires: the next requests (answered at once) get
	// it refreshed, once.
	expire(t, p, id)
	deadline := time.Now().Add(15 * time.Second)
	for {
		// Concurrent requests: still one refresh (with a rotating
		// provider a second one would be refused and end the session).
		var wg sync.WaitGroup
		codes := make(chan int, 16)
		for range 16 {
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/session/get", nil)
				for _, ck := range c.Jar.Cookies(mustURL(e.URL)) {
					req.AddCookie(ck)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					codes <- 0
					return
				}
				resp.Body.Close()
				codes <- resp.StatusCode
			})
		}
		wg.Wait()
		close(codes)
		for code := range codes {
			if code != 200 {
				t.Fatalf("a request during the refresh got %d", code)
			}
		}
		s, err := p.Sessions.Load(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if exp, _ := strconv.ParseInt(s.Data[websession.DataTokenExpiry], 10, 64); exp > time.Now().Unix() {
			after := readTokens(t, ring, p, id)
			if after.RefreshToken == before.RefreshToken || after.AccessToken == before.AccessToken {
				t.Fatalf("tokens unchanged by the refresh")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the expired access token was not refreshed within 15 s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The provider rotates refresh tokens: the old one is now refused.
	// Put it back (as if a second edge had replayed it) and let it expire:
	// the provider's refusal ends the session everywhere.
	tok := readTokens(t, ring, p, id)
	tok.RefreshToken = before.RefreshToken
	sealed, err := websession.SealTokens(ring, tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Sessions.Update(context.Background(), id, state.SessionUpdate{Tokens: &sealed,
		Set: map[string]string{websession.DataTokenExpiry: "1"}}); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		me := get(t, c, e.URL+"/api/session/get")
		if me.Status == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a refused refresh did not end the session within 15 s: %d %s", me.Status, me.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// signInExpired signs in like signIn, but makes the new session's access
// token look expired before the edge ever loads (and caches) the session.
func signInExpired(t *testing.T, e *edgeEnv, p *state.Provider) (*http.Client, string) {
	t.Helper()
	c, done := completeSignIn(t, e)
	ck := sessionCookie(t, done.Header)
	if ck == nil {
		t.Fatalf("the callback set no session cookie: %v", done.Header)
	}
	_, ring := backstage(t, e)
	v, err := ring.VerifySessionCookie(ck.Value)
	if err != nil {
		t.Fatal(err)
	}
	id := v.SessionID.String()
	expire(t, p, id)
	return c, id
}

// refreshAttempts is how many times an edge took the session's refresh
// lease: each acquisition increments the lease's fencing counter, so the
// next token handed out is one more than the acquisitions so far.
func refreshAttempts(t *testing.T, p *state.Provider, id string) uint64 {
	t.Helper()
	l, err := p.Locks.Acquire(context.Background(), "token-refresh:"+id, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	return l.Token - 1
}

func TestWithTheSessionCacheOnAnExpiringTokenIsRefreshedOncePerExpiryNotOncePerRequest(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true, refresh: true, cacheTTL: "1m"})
	p, _ := backstage(t, e)
	c, id := signInExpired(t, e, p)

	// The first request loads the session (token expired) into the cache
	// and starts the refresh; wait until the store has the new tokens.
	deadline := time.Now().Add(15 * time.Second)
	for {
		if me := get(t, c, e.URL+"/api/session/get"); me.Status != 200 {
			t.Fatalf("a request during the refresh got %d %s", me.Status, me.Body)
		}
		s, err := p.Sessions.Load(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if exp, _ := strconv.ParseInt(s.Data[websession.DataTokenExpiry], 10, 64); exp > time.Now().Unix() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the expired access token was not refreshed within 15 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Every later request must see the refreshed session, from the cache
	// or the store, and leave its tokens alone.
	for range 30 {
		if me := get(t, c, e.URL+"/api/session/get"); me.Status != 200 {
			t.Fatalf("a request after the refresh got %d %s", me.Status, me.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let a background attempt, if any, take its lease
	if n := refreshAttempts(t, p, id); n != 1 {
		t.Fatalf("%d refresh attempts for one expiry; want 1", n)
	}
}
