package caddymodule

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/appserver"
	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/connstr"
	"github.com/cesivi/cesivi/internal/identity"
	"github.com/cesivi/cesivi/internal/logging"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/keyring"
)

// edgeEnv is one edge in front of one real app server, sharing a Redis
// (sessions, login state, notices) and a key ring in a shared directory.
type edgeEnv struct {
	URL string // the edge
	// URL2 is a second site of the same Caddy (edgeOptions.secondSite):
	// its own handlers (and their rate limiters), the same Redis and
	// sessions, as a second edge of the farm would have.
	URL2 string
	// MetricsURL serves the edge's Prometheus registry (a second site).
	MetricsURL string
	Server     *appserver.Server
	IdP        *testenv.IdentityProvider
	Redis      *testenv.RedisServer
	RedisConn  string           // the distributed state's connection string
	Environ    []string         // the Cesivi__* settings edge and server share
	echo       *httptest.Server // an upstream that reports what it received
}

type edgeOptions struct {
	oidc      bool
	privRedis bool
	echo      bool   // proxy to the echo upstream instead of the app server
	refresh   bool   // ask the provider for refresh tokens
	cacheTTL  string // session_cache_ttl (default 1m)
	// otherClient registers a second client "other" at the provider.
	otherClient bool
	// global lines added to the cesivi global option.
	global string
	// oidcLines are added to the oidc block.
	oidcLines string
	// anyHost serves the site for every Host header, not only 127.0.0.1.
	anyHost bool
	// site lines are added to the site block.
	site string
	// secondSite serves a second site (URL2) with the same lines.
	secondSite bool
}

func startEdge(t testing.TB, o edgeOptions) *edgeEnv {
	t.Helper()
	e := &edgeEnv{}
	var conn string
	if o.privRedis {
		e.Redis = testenv.RedisPrivate(t, testenv.RedisOptions{})
		conn = e.Redis.Addr + ",abortConnect=false"
	} else {
		addr, db := testenv.RedisDB(t)
		conn = fmt.Sprintf("%s,defaultDatabase=%d", addr, db)
	}
	e.RedisConn = conn
	env := map[string]string{
		"Cesivi__DistributedState__Provider":         "Redis",
		"Cesivi__DistributedState__ConnectionString": conn,
		"Cesivi__DataProtection__Provider":           "SharedDirectory",
		"Cesivi__DataProtection__KeysPath":           t.TempDir(),
		// The provider's administrator may use every site, as in make run.
		"Cesivi__Sites__Administrators": testenv.DevUsers()[0].Subject,
	}
	var environ []string
	for k, v := range env {
		t.Setenv(k, v) // the edge reads the process environment
		environ = append(environ, k+"="+v)
	}
	e.Environ = environ
	s, err := config.Load(t.TempDir(), environ)
	if err != nil {
		t.Fatal(err)
	}
	logs, _ := logging.New(io.Discard, "simple", nil)
	e.Server, err = appserver.New(s, logs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Server.Close)
	upstream := httptest.NewServer(e.Server.Handler())
	t.Cleanup(upstream.Close)
	e.echo = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(r.Header)
	}))
	t.Cleanup(e.echo.Close)
	target := upstream.Listener.Addr().String()
	if o.echo {
		target = e.echo.Listener.Addr().String()
	}

	cacheTTL := o.cacheTTL
	if cacheTTL == "" {
		cacheTTL = "1m"
	}
	port, metricsPort := freePort(t), freePort(t)
	e.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
	e.MetricsURL = fmt.Sprintf("http://127.0.0.1:%d/", metricsPort)
	oidcBlock := ""
	if o.oidc {
		idpOpt := testenv.IdPOptions{}
		if o.otherClient {
			idpOpt.ExtraClients = map[string]string{"other": "other-secret"}
		}
		e.IdP = testenv.IdentityProviderT(t, idpOpt)
		e.IdP.AddRedirectURIs(e.URL + CallbackPath)
		e.IdP.AddPostLogoutRedirectURIs(e.URL + "/")
		t.Setenv("TEST_OIDC_SECRET", e.IdP.ClientSecret)
		scopes := "openid profile email"
		if o.refresh {
			scopes += " offline_access" // the example provider issues refresh tokens only then
		}
		oidcBlock = fmt.Sprintf(`oidc {
			issuer %s
			client_id %s
			client_secret {env.TEST_OIDC_SECRET}
			scopes %s
			%s
		}`, e.IdP.Issuer, e.IdP.ClientID, scopes, o.oidcLines)
	}
	siteHost := "http://127.0.0.1"
	if o.anyHost {
		siteHost = "http://"
	}
	caddyfileText := fmt.Sprintf(`{
	admin off
	storage file_system %s
	persist_config off
	cesivi {
		session_cache_ttl %s
		%s
		%s
	}
}
%s:%d {
	%s
	cesivi_session
	reverse_proxy %s
}
http://127.0.0.1:%d {
	metrics
}`, t.TempDir(), cacheTTL, o.global, oidcBlock, siteHost, port, o.site, target, metricsPort)
	if o.secondSite {
		port2 := freePort(t)
		e.URL2 = fmt.Sprintf("http://127.0.0.1:%d", port2)
		caddyfileText += fmt.Sprintf(`
http://127.0.0.1:%d {
	%s
	cesivi_session
	reverse_proxy %s
}`, port2, o.site, target)
		if e.IdP != nil {
			e.IdP.AddRedirectURIs(e.URL2 + CallbackPath)
		}
	}
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfileText), nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.oidc && strings.Contains(string(cfg), e.IdP.ClientSecret) {
		t.Fatal("the client secret is in the JSON config")
	}
	if err := caddy.Load(cfg, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = caddy.Stop() })
	return e
}

// client is a browser-like client that does not follow redirects.
func client(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type answer struct {
	Status  int
	Header  http.Header
	Body    string
	Session struct {
		SessionID     string `json:"sessionId"`
		Authenticated bool   `json:"authenticated"`
		UserID        string `json:"userId"`
		Email         string `json:"email"`
		ServerID      string `json:"serverId"`
		Created       bool   `json:"created"`
	}
	Error struct{ Code, Message, LoginURL string }
}

func get(t testing.TB, c *http.Client, rawURL string, header ...string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if resp.StatusCode == 200 {
			_ = json.Unmarshal(b, &a.Session)
		} else {
			var e struct {
				Error struct {
					Code, Message string
					LoginURL      string `json:"loginUrl"`
				}
			}
			_ = json.Unmarshal(b, &e)
			a.Error.Code, a.Error.Message, a.Error.LoginURL = e.Error.Code, e.Error.Message, e.Error.LoginURL
		}
	}
	return a
}

func sessionCookie(t *testing.T, h http.Header) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == DefaultCookieName {
			return c
		}
	}
	return nil
}

func TestSeedSessionCheckThroughTheEdge(t *testing.T) {
	e := startEdge(t, edgeOptions{})
	c := client(t)
	created := get(t, c, e.URL+"/api/session/create")
	if created.Status != 200 || created.Session.SessionID == "" || created.Session.Authenticated {
		t.Fatalf("create: %d %s", created.Status, created.Body)
	}
	ck := sessionCookie(t, created.Header)
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.MaxAge <= 0 {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, a lifetime", ck)
	}
	if len(ck.Value) != 71 {
		t.Errorf("cookie value of %d chars, want the constant 71", len(ck.Value))
	}
	got := get(t, c, e.URL+"/api/session/get")
	if got.Status != 200 || got.Session.SessionID != created.Session.SessionID {
		t.Fatalf("get: %d %s; want session %s", got.Status, got.Body, created.Session.SessionID)
	}
	// Creating again with a live session keeps it.
	again := get(t, c, e.URL+"/api/session/create")
	if again.Session.SessionID != created.Session.SessionID || sessionCookie(t, again.Header) != nil {
		t.Fatalf("create with a session made another one: %s", again.Body)
	}
	// Without a cookie there is no session.
	if none := get(t, client(t), e.URL+"/api/session/get"); none.Status != 401 || none.Error.Code != "NoSession" {
		t.Fatalf("get without cookie: %d %s", none.Status, none.Body)
	}
}

func TestBadCookiesAreClearedAndNeverReachTheServer(t *testing.T) {
	e := startEdge(t, edgeOptions{})
	c := client(t)
	get(t, c, e.URL+"/api/session/create")
	u, _ := url.Parse(e.URL)
	good := c.Jar.Cookies(u)[0].Value
	for name, v := range map[string]string{"tampered": good[:30] + flip(good[30]) + good[31:], "truncated": good[:50], "garbage": "x"} {
		a := get(t, http.DefaultClient, e.URL+"/api/session/get", "Cookie", DefaultCookieName+"="+v)
		ck := sessionCookie(t, a.Header)
		if a.Status != 401 || a.Error.Code != "NoSession" || ck == nil || ck.MaxAge >= 0 {
			t.Errorf("%s cookie: %d %s, Set-Cookie %+v; want NoSession and the cookie cleared", name, a.Status, a.Body, ck)
		}
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

func TestEdgeStripsSpoofedIdentityAndItsOwnCookies(t *testing.T) {
	e := startEdge(t, edgeOptions{echo: true})
	c := client(t)
	get(t, c, e.URL+"/api/session/create")
	u, _ := url.Parse(e.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "app_pref", Value: "dark"}, {Name: bindingCookie, Value: "b"}})
	a := get(t, c, e.URL+"/api/session/get", identity.AssertionHeader, "forged", "X-Forwarded-User", "admin", "Remote-User", "admin")
	var seen http.Header
	if err := json.Unmarshal([]byte(a.Body), &seen); err != nil {
		t.Fatalf("%d %s", a.Status, a.Body)
	}
	if seen.Get(identity.AssertionHeader) == "forged" || seen.Get(identity.AssertionHeader) == "" {
		t.Errorf("upstream assertion %q: want the edge's own", seen.Get(identity.AssertionHeader))
	}
	for _, h := range []string{"X-Forwarded-User", "Remote-User"} {
		if seen.Get(h) != "" {
			t.Errorf("upstream received %s", h)
		}
	}
	cookies := seen.Get("Cookie")
	if strings.Contains(cookies, DefaultCookieName) || strings.Contains(cookies, bindingCookie) || !strings.Contains(cookies, "app_pref=dark") {
		t.Errorf("upstream Cookie header %q: want the app's cookie only", cookies)
	}
	// A space before "=" does not smuggle the session cookie through: Go
	// reads it as the session cookie, and so does the edge's filter.
	var jarCookie string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == DefaultCookieName {
			jarCookie = ck.Value
		}
	}
	a = get(t, http.DefaultClient, e.URL+"/api/session/get", "Cookie", DefaultCookieName+" ="+jarCookie+"; app_pref=dark")
	if err := json.Unmarshal([]byte(a.Body), &seen); err != nil {
		t.Fatalf("%d %s", a.Status, a.Body)
	}
	if cookies := seen.Get("Cookie"); strings.Contains(cookies, jarCookie) || cookies != "app_pref=dark" {
		t.Errorf("upstream Cookie header %q: want app_pref=dark only", cookies)
	}
}

func TestLoginThroughARealProviderThenLogout(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true})
	c := client(t)

	// An API client without a session gets 401 and the login URL.
	api := get(t, c, e.URL+"/_api/web", "Accept", "application/json")
	if api.Status != 401 || api.Error.Code != "LoginRequired" || api.Error.LoginURL != LoginPath+"?rd=%2F_api%2Fweb" {
		t.Fatalf("API call without session: %d %s", api.Status, api.Body)
	}
	// A browser navigation goes to the edge's sign-in, which sends it on
	// to the provider.
	nav := get(t, c, e.URL+"/_api/web", "Accept", "text/html")
	if nav.Status != 302 || nav.Header.Get("Location") != LoginPath+"?rd=%2F_api%2Fweb" {
		t.Fatalf("navigation without session: %d Location %q", nav.Status, nav.Header.Get("Location"))
	}
	if start := get(t, c, e.URL+nav.Header.Get("Location")); start.Status != 302 || !strings.HasPrefix(start.Header.Get("Location"), e.IdP.Issuer) {
		t.Fatalf("sign-in start: %d Location %q", start.Status, start.Header.Get("Location"))
	}

	// Anonymous session first, to check it is replaced at sign-in.
	anon := get(t, c, e.URL+"/api/session/create")
	resp, err := e.IdP.Login(context.Background(), c, e.URL+LoginPath+"?rd=/api/session/get")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	callback := resp.Header.Get("Location")
	if !strings.HasPrefix(callback, e.URL+CallbackPath) {
		t.Fatalf("provider sent the browser to %q", callback)
	}
	done := get(t, c, callback)
	if done.Status != 302 || done.Header.Get("Location") != "/api/session/get" || sessionCookie(t, done.Header) == nil {
		t.Fatalf("callback: %d %s (Location %q)", done.Status, done.Body, done.Header.Get("Location"))
	}
	me := get(t, c, e.URL+"/api/session/get")
	if me.Status != 200 || !me.Session.Authenticated || me.Session.UserID != e.IdP.Subject || me.Session.Email != e.IdP.Email {
		t.Fatalf("after sign-in: %d %s", me.Status, me.Body)
	}
	if me.Session.SessionID == anon.Session.SessionID {
		t.Fatal("sign-in kept the anonymous session's id (fixation)")
	}
	if api := get(t, c, e.URL+"/_api/web", "Accept", "application/json"); api.Status != 200 {
		t.Fatalf("signed-in API call: %d %s; want 200, the app server's SharePoint web", api.Status, api.Body)
	}

	// The edge counts what happened (outcomes only, no user ids).
	metrics := get(t, client(t), e.MetricsURL).Body
	for _, want := range []string{
		`cesivi_edge_logins_total{result="ok"} 1`,
		`cesivi_edge_login_required_total 2`,
		"cesivi_edge_session_cache_hits_total",
		`cesivi_edge_sessions_total{result="valid"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("edge metrics lack %s", want)
		}
	}
	if strings.Contains(metrics, e.IdP.Subject) {
		t.Error("edge metrics name a user")
	}

	// The callback cannot be replayed.
	if replay := get(t, c, callback); replay.Status != 400 || !strings.Contains(replay.Body, "expired or was already used") {
		t.Fatalf("replayed callback: %d %s", replay.Status, replay.Body)
	}

	// Logout: the provider's end-session endpoint, and the session is gone.
	u, _ := url.Parse(e.URL)
	cookie := c.Jar.Cookies(u)
	// A GET (a link, or another site's image tag) only shows the button.
	if page := get(t, c, e.URL+LogoutPath); page.Status != 200 || !strings.Contains(page.Body, `method="post"`) {
		t.Fatalf("GET logout: %d %s", page.Status, page.Body)
	}
	if me := get(t, c, e.URL+"/api/session/get"); !me.Session.Authenticated {
		t.Fatal("a GET on the logout URL signed the user out")
	}
	out := post(t, c, e.URL+LogoutPath)
	if out.Status != 302 || !strings.HasPrefix(out.Header.Get("Location"), e.IdP.Issuer) || !strings.Contains(out.Header.Get("Location"), "id_token_hint=") {
		t.Fatalf("logout: %d Location %q", out.Status, out.Header.Get("Location"))
	}
	stale := &http.Client{}
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/session/get", nil)
	for _, ck := range cookie {
		req.AddCookie(ck)
	}
	r2, err := stale.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 401 {
		t.Fatalf("the logged-out cookie still works: %d", r2.StatusCode)
	}
}

func TestForgedCallbacksAreRefused(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true})
	c := client(t)
	for name, q := range map[string]string{
		"unknown state":  "state=AAAAAAAAAAAAAAAAAAAAAA&code=x",
		"no state":       "code=x",
		"provider error": "state=AAAAAAAAAAAAAAAAAAAAAA&error=access_denied&error_description=internal-detail",
	} {
		a := get(t, c, e.URL+CallbackPath+"?"+q)
		if a.Status != 400 || !strings.Contains(a.Body, "Sign in again") || sessionCookie(t, a.Header) != nil {
			t.Errorf("%s: %d %s", name, a.Status, a.Body)
		}
	}
	// A provider error on a live state: the page says so in its own words,
	// without the provider's details (they go to the log).
	resp, err := c.Get(e.URL + LoginPath + "?rd=/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	authURL, _ := url.Parse(resp.Header.Get("Location"))
	a := get(t, c, e.URL+CallbackPath+"?state="+authURL.Query().Get("state")+"&error=access_denied&error_description=internal-detail-10.0.0.7")
	if a.Status != 400 || !strings.Contains(a.Body, "refused the sign-in") || strings.Contains(a.Body, "internal-detail") {
		t.Errorf("provider error page: %d %s", a.Status, a.Body)
	}
	if a := get(t, c, e.URL+LoginPath+"?rd=//evil.example/"); a.Status != 400 {
		t.Errorf("open redirect: %d %s", a.Status, a.Body)
	}
}

func TestRedisDownAnswers503AndKeepsTheCookie(t *testing.T) {
	e := startEdge(t, edgeOptions{privRedis: true})
	c := client(t)
	if a := get(t, c, e.URL+"/api/session/create"); a.Status != 200 {
		t.Fatalf("create: %d %s", a.Status, a.Body)
	}
	if err := e.Redis.Kill(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		a := get(t, c, e.URL+"/_api/web", "Accept", "application/json")
		if ck := sessionCookie(t, a.Header); ck != nil {
			t.Fatalf("Redis down cleared the cookie: %d %s", a.Status, a.Body)
		}
		if a.Status == 503 {
			if a.Header.Get("Retry-After") == "" || a.Error.Code != "SessionStoreUnavailable" {
				t.Fatalf("503 without Retry-After or code: %v %s", a.Header, a.Body)
			}
			// The session endpoints are anonymous paths, but their answer
			// is the session: not "no session", a 503 that keeps the cookie.
			g := get(t, c, e.URL+"/api/session/get")
			if g.Status != 503 || g.Error.Code != "SessionStoreUnavailable" || g.Header.Get("Retry-After") == "" || sessionCookie(t, g.Header) != nil {
				t.Fatalf("/api/session/get with Redis down: %d %v %s; want 503 SessionStoreUnavailable, the cookie kept", g.Status, g.Header, g.Body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d %s 10 s after Redis died", a.Status, a.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func postLogoutToken(t *testing.T, e *edgeEnv, token string) answer {
	t.Helper()
	resp, err := http.PostForm(e.URL+BackChannelLogoutPath, url.Values{"logout_token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// completeSignIn signs in at the provider and returns the client with the
// edge's answer to the callback (which sets the session cookie).
func completeSignIn(t testing.TB, e *edgeEnv) (*http.Client, answer) {
	t.Helper()
	c := client(t)
	resp, err := e.IdP.Login(context.Background(), c, e.URL+LoginPath+"?rd=/api/session/get")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	done := get(t, c, resp.Header.Get("Location"))
	if done.Status != 302 {
		t.Fatalf("callback: %d %s", done.Status, done.Body)
	}
	return c, done
}

// signIn runs the whole browser sign-in on the edge and returns the client
// holding the session.
func signIn(t testing.TB, e *edgeEnv) *http.Client {
	t.Helper()
	c, _ := completeSignIn(t, e)
	if me := get(t, c, e.URL+"/api/session/get"); !me.Session.Authenticated {
		t.Fatalf("not signed in: %d %s", me.Status, me.Body)
	}
	return c
}

func TestBackChannelLogoutEndsTheUsersSessions(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true})
	c1, c2 := signIn(t, e), signIn(t, e)

	// Bad tokens change nothing.
	wrongAud, _ := e.IdP.LogoutToken(e.IdP.Subject, "", func(c map[string]any) { c["aud"] = "someone-else" })
	noEvent, _ := e.IdP.LogoutToken(e.IdP.Subject, "", func(c map[string]any) { delete(c, "events") })
	withNonce, _ := e.IdP.LogoutToken(e.IdP.Subject, "", func(c map[string]any) { c["nonce"] = "n" })
	expired, _ := e.IdP.LogoutToken(e.IdP.Subject, "", func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() })
	noSubject, _ := e.IdP.LogoutToken("", "", nil)
	good, _ := e.IdP.LogoutToken(e.IdP.Subject, "", nil)
	tampered := good[:len(good)-6] + "AAAAAA"
	for name, tok := range map[string]string{"wrong audience": wrongAud, "no event": noEvent, "a nonce": withNonce,
		"expired": expired, "neither sub nor sid": noSubject, "bad signature": tampered, "empty": "", "garbage": "x.y.z"} {
		if a := postLogoutToken(t, e, tok); a.Status != 400 || !strings.Contains(a.Body, `"error":"invalid_request"`) {
			t.Errorf("%s: %d %s; want 400 invalid_request", name, a.Status, a.Body)
		}
	}
	if me := get(t, c1, e.URL+"/api/session/get"); !me.Session.Authenticated {
		t.Fatalf("a refused logout token ended the session: %d %s", me.Status, me.Body)
	}
	if a := get(t, client(t), e.URL+BackChannelLogoutPath); a.Status != 405 {
		t.Errorf("GET: %d", a.Status)
	}

	if a := postLogoutToken(t, e, good); a.Status != 200 {
		t.Fatalf("logout token: %d %s", a.Status, a.Body)
	}
	for i, c := range []*http.Client{c1, c2} {
		if me := get(t, c, e.URL+"/api/session/get"); me.Status != 401 {
			t.Errorf("session %d still answers after back-channel logout: %d %s", i+1, me.Status, me.Body)
		}
	}
	if a := postLogoutToken(t, e, good); a.Status != 400 || !strings.Contains(a.Body, "already used") {
		t.Errorf("replayed logout token: %d %s", a.Status, a.Body)
	}
}

// A cookie naming a key this edge cannot see (made up, or created
// elsewhere a moment ago while the key store is unreachable) is ignored
// but not cleared: clearing it could log out a valid session.
func TestACookieWithAnUnknownKeyIsKept(t *testing.T) {
	e := startEdge(t, edgeOptions{})
	other, err := keyring.New(context.Background(), keyring.Options{Store: keyring.NewMemoryStore(), NoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	v, err := other.MintSessionCookie(keyring.NewSessionID(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	a := get(t, http.DefaultClient, e.URL+"/api/session/get", "Cookie", DefaultCookieName+"="+v)
	if a.Status != 401 || a.Error.Code != "NoSession" {
		t.Fatalf("%d %s; want NoSession", a.Status, a.Body)
	}
	if ck := sessionCookie(t, a.Header); ck != nil {
		t.Fatalf("the cookie was cleared: %+v", ck)
	}
	// Nor is it replaced by a new anonymous session: during a key
	// roll-out it names the user's real session.
	a = get(t, http.DefaultClient, e.URL+"/api/session/create", "Cookie", DefaultCookieName+"="+v)
	if ck := sessionCookie(t, a.Header); ck != nil {
		t.Fatalf("create replaced the cookie: %d %+v", a.Status, ck)
	}
}

// A logout token with a sid ends that sid's sessions (and the subject's
// sessions that carry no sid), never the subject's other sessions.
func TestBackChannelLogoutWithASidEndsOnlyThatSid(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true})
	p, _ := backstage(t, e)
	ctx := context.Background()
	mk := func(sid string) string {
		s := &state.Session{UserID: e.IdP.Subject, SID: sid}
		if err := p.Sessions.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	laptop, phone, noSID := mk("sid-laptop"), mk("sid-phone"), mk("")
	tok, err := e.IdP.LogoutToken(e.IdP.Subject, "sid-laptop", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := postLogoutToken(t, e, tok); a.Status != 200 {
		t.Fatalf("logout token: %d %s", a.Status, a.Body)
	}
	for id, want := range map[string]bool{laptop: false, phone: true, noSID: false} {
		_, err := p.Sessions.Load(ctx, id)
		if alive := err == nil; alive != want {
			t.Errorf("session %s alive = %v, want %v (%v)", id, alive, want, err)
		}
	}
	// A sid that matches nothing ends nothing else.
	tok, _ = e.IdP.LogoutToken(e.IdP.Subject, "sid-gone", nil)
	if a := postLogoutToken(t, e, tok); a.Status != 200 {
		t.Fatalf("logout token: %d %s", a.Status, a.Body)
	}
	if _, err := p.Sessions.Load(ctx, phone); err != nil {
		t.Errorf("a logout token for another sid ended the phone's session: %v", err)
	}
}

// Dot segments could make a protected path look like an anonymous one
// ("/health/../admin") to the edge while the upstream serves /admin.
func TestDotSegmentsAreRefused(t *testing.T) {
	e := startEdge(t, edgeOptions{echo: true})
	for _, p := range []string{"/health/../admin/secret", "/health/%2e%2e/admin/secret", "/api/session/../../admin",
		"/health/..;/admin", "/./health", "/health/."} {
		req, _ := http.NewRequest(http.MethodGet, e.URL+p, nil)
		req.URL.Opaque = p // send it as written, not cleaned by the client
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), "BadPath") {
			t.Errorf("%s: %d %s; want 400 BadPath", p, resp.StatusCode, b)
		}
	}
	if a := get(t, client(t), e.URL+"/health/live"); a.Status != 200 {
		t.Errorf("a clean anonymous path: %d", a.Status)
	}
}

func post(t *testing.T, c *http.Client, rawURL string) answer {
	t.Helper()
	resp, err := c.Post(rawURL, "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// Each sign-in start stores a login state in Redis: one client cannot
// start them without bound.
func TestSignInStartsAreLimitedPerClient(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true})
	c := client(t)
	started, limited := 0, 0
	// Until the first refusal: a slow machine may refill a token or two
	// while the loop runs, so the count of starts is at least the burst
	// and the loop is bounded far above it rather than at burst + a few.
	for attempt := 0; limited == 0 && attempt < 2*loginEvents; attempt++ {
		a := get(t, c, e.URL+LoginPath+"?rd=/")
		switch a.Status {
		case 302:
			started++
		case 429:
			limited++
			if a.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		default:
			t.Fatalf("%d %s", a.Status, a.Body)
		}
	}
	if started < loginEvents || limited < 1 {
		t.Fatalf("%d started, %d limited; want at least %d started, then refusals", started, limited, loginEvents)
	}
}

// Behind a load balancer that terminates TLS, cookie_secure always gives
// the HTTPS cookies although the edge itself is reached over HTTP.
func TestCookieSecureAlways(t *testing.T) {
	e := startEdge(t, edgeOptions{global: "cookie_secure always"})
	a := get(t, http.DefaultClient, e.URL+"/api/session/create")
	var ck *http.Cookie
	for _, c := range (&http.Response{Header: a.Header}).Cookies() {
		if c.Name == "__Host-"+DefaultCookieName {
			ck = c
		}
	}
	if a.Status != 200 || ck == nil || !ck.Secure || ck.Path != "/" {
		t.Fatalf("%d, Set-Cookie %v; want __Host-%s, Secure", a.Status, a.Header["Set-Cookie"], DefaultCookieName)
	}
	if a := get(t, http.DefaultClient, e.URL+"/api/session/get", "Cookie", ck.Name+"="+ck.Value); a.Status != 200 {
		t.Fatalf("the cookie does not name the session: %d %s", a.Status, a.Body)
	}
}

// TestParallelSignInsInOneBrowserAllComplete: five tabs of one browser
// whose session has ended are reloaded together, each on its own
// protected page; every sign-in completes, in whatever order the
// callbacks come back (issue: on plain HTTP each start overwrote the
// binding of the one before).
func TestParallelSignInsInOneBrowserAllComplete(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true})
	c := client(t)
	var callbacks []string
	for i := range 5 {
		nav := get(t, c, fmt.Sprintf("%s/tab/%d", e.URL, i), "Accept", "text/html")
		if nav.Status != 302 || nav.Header.Get("Location") != fmt.Sprintf("%s?rd=%%2Ftab%%2F%d", LoginPath, i) {
			t.Fatalf("tab %d: %d Location %q", i, nav.Status, nav.Header.Get("Location"))
		}
		resp, err := e.IdP.Login(context.Background(), c, e.URL+nav.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		callbacks = append(callbacks, resp.Header.Get("Location"))
	}
	for i := len(callbacks) - 1; i >= 0; i-- {
		done := get(t, c, callbacks[i])
		if done.Status != 302 || done.Header.Get("Location") != fmt.Sprintf("/tab/%d", i) {
			t.Errorf("tab %d's callback: %d %s (Location %q)", i, done.Status, done.Body, done.Header.Get("Location"))
		}
	}
}

// TestAHungRedisAnswers503Promptly: Redis paused (it accepts connections
// and answers nothing): a request with a session cookie gets its 503 and
// Retry-After within the edge's store budget, and keeps its cookie
// (before: 30 s, go-redis' timeouts times its retries).
func TestAHungRedisAnswers503Promptly(t *testing.T) {
	e := startEdge(t, edgeOptions{privRedis: true, cacheTTL: "-1s"})
	c := client(t)
	if a := get(t, c, e.URL+"/api/session/create"); a.Status != 200 {
		t.Fatalf("create: %d %s", a.Status, a.Body)
	}
	if err := syscall.Kill(e.Redis.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(e.Redis.PID, syscall.SIGCONT) })
	for i := range 3 {
		start := time.Now()
		a := get(t, c, e.URL+"/_api/web", "Accept", "application/json")
		took := time.Since(start)
		if a.Status != 503 || a.Header.Get("Retry-After") == "" || a.Error.Code != "SessionStoreUnavailable" {
			t.Fatalf("request %d with Redis paused: %d %s (Retry-After %q)", i, a.Status, a.Body, a.Header.Get("Retry-After"))
		}
		if ck := sessionCookie(t, a.Header); ck != nil {
			t.Fatalf("a hung Redis cleared the cookie: %+v", ck)
		}
		// The budget is 1.5 s; far below the 30 s this took before.
		if took > 8*time.Second {
			t.Fatalf("request %d took %v with Redis paused", i, took)
		}
	}
}

// TestAnonymousSessionsAreLimitedPerClient: one address creating sessions
// in a loop gets 429 after the burst, and Redis holds no more sessions
// than that.
func TestAnonymousSessionsAreLimitedPerClient(t *testing.T) {
	e := startEdge(t, edgeOptions{})
	for i := range sessionBurst + 10 {
		a := get(t, http.DefaultClient, e.URL+"/api/session/create") // no cookie jar: a new session each time
		switch {
		case i < sessionBurst && a.Status != 200:
			t.Fatalf("create %d within the burst: %d %s", i, a.Status, a.Body)
		case i >= sessionBurst && (a.Status != 429 || a.Header.Get("Retry-After") == "" || a.Error.Code != "TooManySessions"):
			t.Fatalf("create %d past the burst: %d %s", i, a.Status, a.Body)
		}
		if i >= sessionBurst && sessionCookie(t, a.Header) != nil {
			t.Fatalf("a refused create set a cookie")
		}
	}
	opts, err := connstr.ParseRedis(e.RedisConn)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewUniversalClient(opts.Universal())
	defer rdb.Close()
	keys, err := rdb.Keys(context.Background(), "session:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != sessionBurst {
		t.Fatalf("%d sessions in Redis after %d creates from one address; want the burst, %d", len(keys), sessionBurst+10, sessionBurst)
	}
}

// TestASlowLogoutBodyDoesNotHoldTheEdge: a client that sends the headers
// of a back-channel logout and then trickles (here: stops) its body is
// answered when the read deadline passes, instead of holding a goroutine
// for as long as it likes.
func TestASlowLogoutBodyDoesNotHoldTheEdge(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true})
	old := backChannelReadTimeout
	backChannelReadTimeout = 300 * time.Millisecond
	t.Cleanup(func() { backChannelReadTimeout = old })
	u, _ := url.Parse(e.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nlogout_token=", BackChannelLogoutPath, u.Host)
	conn.SetReadDeadline(time.Now().Add(8 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer while the body is withheld: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
}
