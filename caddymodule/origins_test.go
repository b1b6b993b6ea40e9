package caddymodule

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// loginWithHost starts a sign-in with the Host header given and returns
// the status and, on a redirect to the provider, its redirect_uri.
func loginWithHost(t *testing.T, e *edgeEnv, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", e.URL+"/oauth2/login", nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return resp.StatusCode, ""
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, u.Query().Get("redirect_uri")
}

// Without redirect_url, a Host header must not choose the redirect_uri:
// only loopback addresses (development) or the configured public_origins
// may start a sign-in.
func TestSignInRefusesHostsTheConfigurationDoesNotName(t *testing.T) {
	t.Run("default: loopback only", func(t *testing.T) {
		e := startEdge(t, edgeOptions{oidc: true, anyHost: true})
		if code, ru := loginWithHost(t, e, ""); code != http.StatusFound || ru != e.URL+CallbackPath {
			t.Fatalf("loopback sign-in: %d redirect_uri %q", code, ru)
		}
		if code, ru := loginWithHost(t, e, "evil.example"); code != http.StatusBadRequest {
			t.Fatalf("Host evil.example: %d redirect_uri %q, want 400", code, ru)
		}
	})
	t.Run("public_origins", func(t *testing.T) {
		e := startEdge(t, edgeOptions{oidc: true, anyHost: true, oidcLines: "public_origins http://SP.example.com/ https://sp.example.com"})
		if code, ru := loginWithHost(t, e, "sp.example.com"); code != http.StatusFound || ru != "http://sp.example.com"+CallbackPath {
			t.Fatalf("configured origin: %d redirect_uri %q", code, ru)
		}
		for _, h := range []string{"evil.example", "sp.example.com.evil.example", "127.0.0.1"} {
			if code, ru := loginWithHost(t, e, h); code != http.StatusBadRequest {
				t.Fatalf("Host %s: %d redirect_uri %q, want 400", h, code, ru)
			}
		}
	})
}

// Caddyfile.example sets public_origins {env.CESIVI_PUBLIC_ORIGINS}: one
// placeholder holding several origins, or none.
func TestPublicOriginsFromOnePlaceholder(t *testing.T) {
	t.Setenv("TEST_PUBLIC_ORIGINS", "https://a.example  http://sp.example.com")
	e := startEdge(t, edgeOptions{oidc: true, anyHost: true, oidcLines: "public_origins {env.TEST_PUBLIC_ORIGINS}"})
	if code, ru := loginWithHost(t, e, "sp.example.com"); code != http.StatusFound || ru != "http://sp.example.com"+CallbackPath {
		t.Fatalf("second origin of the placeholder: %d redirect_uri %q", code, ru)
	}
	if code, _ := loginWithHost(t, e, "evil.example"); code != http.StatusBadRequest {
		t.Fatalf("Host evil.example: %d, want 400", code)
	}
}

func TestNormalizeOrigins(t *testing.T) {
	got, err := normalizeOrigins([]string{" HTTPS://Sp.Example.com:8443/ ", "http://[::1]:8080"})
	if err != nil || len(got) != 2 || got[0] != "https://sp.example.com:8443" || got[1] != "http://[::1]:8080" {
		t.Fatalf("normalizeOrigins: %v %v", got, err)
	}
	for _, bad := range []string{"sp.example.com", "ftp://sp.example.com", "https://sp.example.com/app", "https://sp.example.com?x=1", "https://u@sp.example.com", "https://"} {
		if _, err := normalizeOrigins([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for h, want := range map[string]bool{
		"localhost": true, "LOCALHOST:8080": true, "127.0.0.1:5": true, "127.1.2.3": true, "[::1]:8443": true,
		"localhost.": true, "evil.example": false, "localhost.evil.example": false, "10.0.0.1:80": false, "": false,
	} {
		if got := isLoopbackHost(h); got != want {
			t.Errorf("isLoopbackHost(%q) = %v", h, got)
		}
	}
}

// The development provider has a second user with no rights (bob), so a
// permission can be tried from both sides; signing in as him gives his
// identity, not the administrator's.
func TestSecondDevelopmentUserSignsIn(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true})
	if len(e.IdP.Users) < 2 || !e.IdP.Users[0].Admin || e.IdP.Users[1].Admin {
		t.Fatalf("development users: %+v", e.IdP.Users)
	}
	bob := e.IdP.Users[1]
	c := client(t)
	resp, err := e.IdP.LoginAs(context.Background(), c, e.URL+LoginPath+"?rd=/api/session/get", bob.Username, bob.Password)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if done := get(t, c, resp.Header.Get("Location")); done.Status != http.StatusFound {
		t.Fatalf("callback: %d %s", done.Status, done.Body)
	}
	me := get(t, c, e.URL+"/api/session/get")
	if !me.Session.Authenticated || me.Session.UserID != bob.Subject || me.Session.Email != bob.Email || bob.Subject == e.IdP.Subject {
		t.Fatalf("signed in as bob: %d %s", me.Status, me.Body)
	}
}

// withHost sends method on rawURL with the Host header given (and a
// browser's Accept), and returns the status and Location. Like a browser,
// the client's jar sends the cookies of the Host given, not of rawURL's
// host; cookies are sent as well, whatever the Host.
func withHost(t *testing.T, c *http.Client, method, rawURL, host string, cookies ...*http.Cookie) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	req.Header.Set("Accept", "text/html")
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// A foreign Host header must not choose where the edge sends a browser:
// neither a protected page's sign-in redirect nor the provider's
// post-logout return may name it.
func TestLogoutAndProtectedPagesIgnoreForeignHosts(t *testing.T) {
	for _, tc := range []struct {
		name, lines, wantPost string
	}{
		{"default: loopback only", "", ""},
		{"public_origins", "public_origins https://sp.example.com", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startEdge(t, edgeOptions{oidc: true, anyHost: true, oidcLines: tc.lines})
			c := client(t)
			// A protected page: either refused or a relative redirect to
			// the edge's own sign-in, never an absolute URL on that host.
			code, loc := withHost(t, c, http.MethodGet, e.URL+"/sites/team/page.aspx", "evil.example")
			if strings.Contains(strings.ToLower(loc), "evil.example") {
				t.Fatalf("protected page with Host evil.example: %d Location %q", code, loc)
			}
			if code == http.StatusFound {
				if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
					t.Fatalf("protected page redirect is not on this edge: %q", loc)
				}
				// Following it under the same Host must not mint a
				// redirect_uri for that host either.
				if code2, loc2 := withHost(t, c, http.MethodGet, e.URL+loc, "evil.example"); code2 != http.StatusBadRequest || loc2 != "" {
					t.Fatalf("sign-in followed with Host evil.example: %d Location %q, want 400", code2, loc2)
				}
			}

			// Sign in at a loopback address (where this edge offers it),
			// then sign out as evil.example.
			if tc.lines != "" {
				code, loc = withHost(t, c, http.MethodPost, e.URL+LogoutPath, "evil.example")
				if code != http.StatusFound || loc != "/" {
					t.Fatalf("logout with Host evil.example: %d Location %q", code, loc)
				}
				return
			}
			resp, err := e.IdP.LoginAs(context.Background(), c, e.URL+LoginPath+"?rd=/api/session/get", e.IdP.Users[0].Username, e.IdP.Users[0].Password)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if done := get(t, c, resp.Header.Get("Location")); done.Status != http.StatusFound {
				t.Fatalf("callback: %d %s", done.Status, done.Body)
			}
			if me := get(t, c, e.URL+"/api/session/get"); !me.Session.Authenticated {
				t.Fatalf("not signed in: %d %s", me.Status, me.Body)
			}
			// The session cookie is sent along, as by a browser that
			// reaches this edge under another name: the client's jar
			// alone would not (it sends evil.example's cookies, none), and
			// the logout then had nothing to end.
			base, err := url.Parse(e.URL)
			if err != nil {
				t.Fatal(err)
			}
			var session *http.Cookie
			for _, ck := range c.Jar.Cookies(base) {
				if ck.Name == "cesivi_session" {
					session = ck
				}
			}
			if session == nil {
				t.Fatalf("no session cookie after the sign-in: %v", c.Jar.Cookies(base))
			}
			code, loc = withHost(t, c, http.MethodPost, e.URL+LogoutPath, "evil.example", session)
			// The session held an ID token: the browser goes on to the
			// provider's end-session endpoint.
			if code != http.StatusFound || !strings.HasPrefix(loc, e.IdP.Issuer) {
				t.Fatalf("logout with Host evil.example: %d Location %q", code, loc)
			}
			end, err := url.Parse(loc)
			if err != nil {
				t.Fatal(err)
			}
			if got := end.Query().Get("post_logout_redirect_uri"); got != tc.wantPost {
				t.Fatalf("post_logout_redirect_uri %q, want %q (Location %q)", got, tc.wantPost, loc)
			}
			if strings.Contains(strings.ToLower(loc), "evil.example") {
				t.Fatalf("logout Location names the foreign host: %q", loc)
			}
			// Ended in the store, not only forgotten by one cookie jar.
			me := get(t, c, e.URL+"/api/session/get", "Cookie", session.Name+"="+session.Value)
			if me.Session.Authenticated {
				t.Fatalf("the session outlived the logout with Host evil.example: %d %s", me.Status, me.Body)
			}
		})
	}
}
