package tests

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/oidclogin"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/memstate"
	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/tests/farm"
)

type sessionView struct {
	SessionID     string `json:"sessionId"`
	Authenticated bool   `json:"authenticated"`
	UserID        string `json:"userId"`
	ServerID      string `json:"serverId"`
}

// sessionGet asks edge for /api/session/get with the cookie (name=value;
// empty: none) and returns the status and the session it reports.
func sessionGet(t *testing.T, edge, cookie string) (int, sessionView) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, edge+"/api/session/get", nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var v sessionView
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%s: %v: %s", edge, err, body)
		}
	}
	return resp.StatusCode, v
}

// createSession runs the seed's first curl command and returns the cookie.
func createSession(t *testing.T, edge string) (cookie string, v sessionView) {
	t.Helper()
	resp, body := get(t, edge+"/api/session/create")
	if resp.StatusCode != 200 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "cesivi_session" {
			return c.Name + "=" + c.Value, v
		}
	}
	t.Fatalf("create set no session cookie: %v", resp.Header)
	return "", v
}

// everyServerSees checks that the session answers through every edge and
// from every server (round robin: 2 rounds per edge cover 3 servers).
func everyServerSees(t *testing.T, f *farm.Farm, cookie, sessionID string) {
	t.Helper()
	servers := map[string]bool{}
	for _, edge := range f.Edges {
		for range 2 * len(f.Servers) {
			code, v := sessionGet(t, edge, cookie)
			if code != 200 || v.SessionID != sessionID {
				t.Fatalf("%s: %d, session %q; want 200 and %s", edge, code, v.SessionID, sessionID)
			}
			servers[v.ServerID] = true
		}
	}
	if len(servers) != len(f.Servers) {
		t.Fatalf("answers came from %v; want all %d servers", servers, len(f.Servers))
	}
}

// everyServerSeesWithin is everyServerSees for a farm coming back from an
// outage: every answer must still be the session, but a server the edges'
// health checks took out of rotation (its readiness needs Redis) comes
// back at their next passing check, so the servers are collected until
// each has answered, for at most timeout.
func everyServerSeesWithin(t *testing.T, f *farm.Farm, cookie, sessionID string, timeout time.Duration) {
	t.Helper()
	servers := map[string]bool{}
	waitFor(t, timeout, "every server answering through every edge", func() bool {
		for _, edge := range f.Edges {
			for range 2 * len(f.Servers) {
				code, v := sessionGet(t, edge, cookie)
				if code != 200 || v.SessionID != sessionID {
					t.Fatalf("%s: %d, session %q; want 200 and %s", edge, code, v.SessionID, sessionID)
				}
				servers[v.ServerID] = true
			}
		}
		return len(servers) == len(f.Servers)
	})
}

// TestSeedSessionCheckSurvivesAStoppedServer is the seed's three curl
// commands: create through the edge, get, stop a server, get again.
func TestSeedSessionCheckSurvivesAStoppedServer(t *testing.T) {
	f := startFarm(t, farm.Options{})
	cookie, created := createSession(t, f.Edges[0])
	everyServerSees(t, f, cookie, created.SessionID)
	if err := f.StopServer(0); err != nil {
		t.Fatal(err)
	}
	for _, edge := range f.Edges {
		for range 6 {
			if code, v := sessionGet(t, edge, cookie); code != 200 || v.SessionID != created.SessionID || v.ServerID == "server-1" {
				t.Fatalf("after stopping server-1, %s: %d %+v", edge, code, v)
			}
		}
	}
}

// TestCookieSurvivesRotationAndDiesWithItsKeyEverywhere is the key ring's
// acceptance: `keyring rotate` while the farm runs leaves a cookie minted
// before it working; `keyring revoke` of the key that minted it refuses it
// through every edge on every server within a second.
func TestCookieSurvivesRotationAndDiesWithItsKeyEverywhere(t *testing.T) {
	f := startFarm(t, farm.Options{})
	ids := currentKeyIDs(t, f)
	var oldKey string
	for id := range ids {
		oldKey = id
	}
	cookie, created := createSession(t, f.Edges[0])
	everyServerSees(t, f, cookie, created.SessionID)

	admin(t, f, "keyring", "rotate")
	within(t, time.Second, "every server on the rotated key", func() bool {
		ids := currentKeyIDs(t, f)
		return len(ids) == 1 && !ids[oldKey]
	})
	everyServerSees(t, f, cookie, created.SessionID)

	admin(t, f, "keyring", "revoke", oldKey, "--reason", "farm test")
	start := time.Now()
	within(t, time.Second, "the cookie refused through every edge", func() bool {
		for _, edge := range f.Edges {
			for range len(f.Servers) {
				if code, _ := sessionGet(t, edge, cookie); code != 401 {
					return false
				}
			}
		}
		return true
	})
	t.Logf("cookie refused everywhere %v after revoke returned", time.Since(start).Round(time.Millisecond))
	// A new session works (minted with the new key).
	cookie2, created2 := createSession(t, f.Edges[1])
	everyServerSees(t, f, cookie2, created2.SessionID)
}

// TestLoginStartedOnOneEdgeCompletesOnAnother: the login state lives in
// Redis, so the provider's callback can land on any edge; a logout on one
// edge ends the session on every edge at once.
func TestLoginStartedOnOneEdgeCompletesOnAnother(t *testing.T) {
	f := startFarm(t, farm.Options{})
	a, b := f.Edges[0], f.Edges[1]
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	idp := &testenv.IdentityProvider{Issuer: f.IdP.Issuer}
	resp, err := idp.LoginAs(context.Background(), browser, a+"/oauth2/login?rd=/api/session/get", f.IdP.Username, f.IdP.Password)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	callback := resp.Header.Get("Location")
	if !strings.HasPrefix(callback, a+"/oauth2/callback?") {
		t.Fatalf("provider redirected to %q", callback)
	}
	// The load balancer in front of the edges sends the callback to b.
	resp, err = browser.Get(b + strings.TrimPrefix(callback, a))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == "cesivi_session" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if resp.StatusCode != 302 || cookie == "" {
		t.Fatalf("callback on the other edge: %d, cookie %q", resp.StatusCode, cookie)
	}
	for _, edge := range f.Edges {
		if code, v := sessionGet(t, edge, cookie); code != 200 || !v.Authenticated || v.UserID == "" {
			t.Fatalf("%s after sign-in: %d %+v", edge, code, v)
		}
	}

	// Log out on b; a (which has the session in its cache) refuses it.
	req, _ := http.NewRequest(http.MethodPost, b+"/oauth2/logout", nil)
	req.Header.Set("Cookie", cookie)
	noFollow := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	out, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	if out.StatusCode != 302 {
		t.Fatalf("logout: %d", out.StatusCode)
	}
	start := time.Now()
	within(t, time.Second, "the logged-out session refused on the other edge", func() bool {
		code, _ := sessionGet(t, a, cookie)
		return code == 401
	})
	t.Logf("logout on one edge refused on the other after %v", time.Since(start).Round(time.Millisecond))
}

// TestHTTPSEdgeSetsSecureCookies: on the edges' HTTPS sites (tls internal)
// the session cookie is __Host- prefixed, Secure, HttpOnly and
// SameSite=Lax, and the session is the same whichever edge and server
// answer.
func TestHTTPSEdgeSetsSecureCookies(t *testing.T) {
	f := startFarm(t, farm.Options{})
	// The edges' certificates come from their own local CAs; this test
	// checks cookies, not certificates.
	tlsClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := tlsClient.Get(f.EdgesTLS[0] + "/api/session/create")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var created sessionView
	if resp.StatusCode != 200 || json.Unmarshal(body, &created) != nil {
		t.Fatalf("create over HTTPS: %d %s", resp.StatusCode, body)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-cesivi_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Domain != "" {
		t.Fatalf("session cookie over HTTPS: %+v; want __Host-cesivi_session, Secure, HttpOnly, SameSite=Lax, Path=/", cookie)
	}
	for _, edge := range f.EdgesTLS {
		req, _ := http.NewRequest(http.MethodGet, edge+"/api/session/get", nil)
		req.AddCookie(cookie)
		resp, err := tlsClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var v sessionView
		if resp.StatusCode != 200 || json.Unmarshal(body, &v) != nil || v.SessionID != created.SessionID {
			t.Fatalf("%s: %d %s", edge, resp.StatusCode, body)
		}
	}
}

// TestBearerTokenWorksThroughEveryEdge: an API client's access token,
// validated once, is honoured by every edge (the token cache is shared),
// and a garbage token is refused everywhere.
func TestBearerTokenWorksThroughEveryEdge(t *testing.T) {
	f := startFarm(t, farm.Options{})
	ctx := context.Background()
	mem, err := memstate.New(state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	flow, err := oidclogin.New(oidclogin.Config{Issuer: f.IdP.Issuer, ClientID: f.ClientID, ClientSecret: f.ClientSecret}, mem.Tickets)
	if err != nil {
		t.Fatal(err)
	}
	// Any redirect URI the provider knows will do: the client reads the
	// code from the redirect instead of following it.
	authURL, err := flow.Begin(ctx, oidclogin.BeginRequest{RedirectURL: f.Edges[0] + "/oauth2/callback"})
	if err != nil {
		t.Fatal(err)
	}
	idp := &testenv.IdentityProvider{Issuer: f.IdP.Issuer}
	resp, err := idp.LoginAs(ctx, nil, authURL, f.IdP.Username, f.IdP.Password)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb, _ := url.Parse(resp.Header.Get("Location"))
	res, err := flow.Complete(ctx, oidclogin.CompleteRequest{State: cb.Query().Get("state"), Code: cb.Query().Get("code")})
	if err != nil {
		t.Fatal(err)
	}
	call := func(edge, token string) int {
		req, _ := http.NewRequest(http.MethodGet, edge+"/_api/web", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, edge := range f.Edges {
		for range 3 { // every server
			// The app server answers (the SharePoint web): the request arrived signed in.
			if code := call(edge, res.AccessToken); code != 200 {
				t.Fatalf("%s with a valid token: %d", edge, code)
			}
		}
		if code := call(edge, "not-a-valid-token"); code != 401 {
			t.Fatalf("%s with a garbage token: %d", edge, code)
		}
	}
}
