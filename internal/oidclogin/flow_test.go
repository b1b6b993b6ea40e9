package oidclogin_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/fakeclock"
	"github.com/cesivi/cesivi/internal/oidclogin"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/testenv"
)

func checkAlice(t *testing.T, p *idp, res *oidclogin.Result, returnTo string) {
	t.Helper()
	if res.Subject != p.Subject || res.Email != p.Email || res.Name != p.Name || res.PreferredUsername != p.Username {
		t.Errorf("result sub=%q email=%q name=%q preferred_username=%q; want %q %q %q %q",
			res.Subject, res.Email, res.Name, res.PreferredUsername, p.Subject, p.Email, p.Name, p.Username)
	}
	if res.ReturnTo != returnTo {
		t.Errorf("ReturnTo %q; want %q", res.ReturnTo, returnTo)
	}
	if res.IDToken == "" || res.AccessToken == "" {
		t.Errorf("tokens missing: id=%t access=%t", res.IDToken != "", res.AccessToken != "")
	}
	if !res.Expiry.After(time.Now()) {
		t.Errorf("expiry %v is not in the future", res.Expiry)
	}
}

func TestFullFlowInMemory(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	f := newFlow(t, p.config(), memTickets(t))
	q := p.begin(t, f, "/app/page?x=1#top", "cookie-value")
	res, err := complete(f, t.Context(), q, "cookie-value")
	if err != nil {
		t.Fatal(err)
	}
	checkAlice(t, p, res, "/app/page?x=1#top")

	// Replaying the same callback finds the state gone.
	if _, err := complete(f, t.Context(), q, "cookie-value"); !errors.Is(err, oidclogin.ErrStateUnknown) {
		t.Fatalf("replayed callback: %v; want ErrStateUnknown", err)
	}
}

func TestEmptyReturnToAndEmptyBinding(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	f := newFlow(t, p.config(), memTickets(t))
	res, err := complete(f, t.Context(), p.begin(t, f, "", ""), "")
	if err != nil {
		t.Fatal(err)
	}
	checkAlice(t, p, res, "/")

	// An empty binding at Begin demands an empty one at Complete.
	if _, err := complete(f, t.Context(), p.begin(t, f, "", ""), "late-cookie"); !errors.Is(err, oidclogin.ErrBindingMismatch) {
		t.Fatalf("binding added after Begin: %v; want ErrBindingMismatch", err)
	}
}

// Two edges of a farm: separate Flows and separate Redis clients on the same
// Redis. The login begun on one completes on the other, exactly once.
func TestBeginOnOneEdgeCompleteOnAnother(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	addr, db := testenv.RedisDB(t)
	connStr := fmt.Sprintf("%s,defaultDatabase=%d", addr, db)
	edgeA := newFlow(t, p.config(), redisTickets(t, connStr))
	edgeB := newFlow(t, p.config(), redisTickets(t, connStr))

	q := p.begin(t, edgeA, "/reports?year=2026", "browser-1")
	res, err := complete(edgeB, t.Context(), q, "browser-1")
	if err != nil {
		t.Fatal(err)
	}
	checkAlice(t, p, res, "/reports?year=2026")

	for name, edge := range map[string]*oidclogin.Flow{"A": edgeA, "B": edgeB} {
		if _, err := complete(edge, t.Context(), q, "browser-1"); !errors.Is(err, oidclogin.ErrStateUnknown) {
			t.Errorf("replay on edge %s: %v; want ErrStateUnknown", name, err)
		}
	}
}

func TestAuthorizationURL(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	f := newFlow(t, p.config(), memTickets(t))
	seen := map[string]bool{}
	for range 2 {
		raw, err := f.Begin(t.Context(), oidclogin.BeginRequest{RedirectURL: p.redirect, Binding: "b"})
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(raw, p.Issuer) {
			t.Errorf("auth URL %s is not on the provider %s", raw, p.Issuer)
		}
		q := u.Query()
		if s := q.Get("state"); len(s) != 22 || strings.ContainsAny(s, "+/=") {
			t.Errorf("state %q; want 22 characters of unpadded base64url", s)
		}
		if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
			t.Errorf("PKCE parameters: method=%q challenge=%q", q.Get("code_challenge_method"), q.Get("code_challenge"))
		}
		if q.Get("nonce") == "" || q.Get("response_type") != "code" || q.Get("client_id") != p.ClientID || q.Get("redirect_uri") != p.redirect {
			t.Errorf("auth URL query %v", q)
		}
		if q.Get("scope") != "openid profile email" {
			t.Errorf("scope %q; want the default", q.Get("scope"))
		}
		for _, k := range []string{"state", "nonce", "code_challenge"} {
			if seen[q.Get(k)] {
				t.Errorf("%s %q repeated across logins", k, q.Get(k))
			}
			seen[q.Get(k)] = true
		}
	}
}

func TestForgedStateIsUnknownWithoutTouchingTheStore(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	ct := &countingTickets{Tickets: memTickets(t)}
	f := newFlow(t, p.config(), ct)
	for _, s := range []string{"", "abc", "AAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAA+/", "AAAAAAAAAAAAAAAAAAAAAB", "../../../etc/passwd/xx"} {
		if _, err := f.Complete(t.Context(), oidclogin.CompleteRequest{State: s, Code: "c"}); !errors.Is(err, oidclogin.ErrStateUnknown) {
			t.Errorf("state %q: %v; want ErrStateUnknown", s, err)
		}
	}
	if ct.take != 0 {
		t.Errorf("malformed states reached the store %d times", ct.take)
	}
	// A well-formed id that was never issued.
	if _, err := f.Complete(t.Context(), oidclogin.CompleteRequest{State: "AAAAAAAAAAAAAAAAAAAAAA", Code: "c"}); !errors.Is(err, oidclogin.ErrStateUnknown) {
		t.Errorf("unissued state: %v; want ErrStateUnknown", err)
	}
	if ct.take != 1 {
		t.Errorf("a well-formed state reached the store %d times; want 1", ct.take)
	}
}

func TestWrongBindingConsumesTheState(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	f := newFlow(t, p.config(), memTickets(t))
	q := p.begin(t, f, "/", "victim-browser")
	for _, b := range []string{"attacker-browser", ""} {
		_, err := complete(f, t.Context(), q, b)
		if b == "attacker-browser" && !errors.Is(err, oidclogin.ErrBindingMismatch) {
			t.Fatalf("wrong binding: %v; want ErrBindingMismatch", err)
		}
		if b == "" && !errors.Is(err, oidclogin.ErrStateUnknown) {
			t.Fatalf("after a mismatch: %v; want ErrStateUnknown", err)
		}
	}
	// Even the right browser cannot use it any more.
	if _, err := complete(f, t.Context(), q, "victim-browser"); !errors.Is(err, oidclogin.ErrStateUnknown) {
		t.Fatalf("right binding after a mismatch: %v; want ErrStateUnknown", err)
	}
}

func TestProviderErrorParameter(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	f := newFlow(t, p.config(), memTickets(t))
	authURL, err := f.Begin(t.Context(), oidclogin.BeginRequest{RedirectURL: p.redirect, Binding: "b"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	desc := "User\r\ncancelled \x1b[31mthe\u202e login" + strings.Repeat("x", 500)
	_, err = f.Complete(t.Context(), oidclogin.CompleteRequest{State: u.Query().Get("state"), Binding: "b", Error: "access_denied", ErrorDescription: desc})
	if !errors.Is(err, oidclogin.ErrProvider) {
		t.Fatalf("provider error: %v; want ErrProvider", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "access_denied") || !strings.Contains(msg, "User cancelled") {
		t.Errorf("error %q lacks the provider's code or description", msg)
	}
	if strings.ContainsAny(msg, "\r\n\x1b\u202e") {
		t.Errorf("error %q keeps control characters", msg)
	}
	if d := strings.TrimPrefix(msg, oidclogin.ErrProvider.Error()+": access_denied: "); len([]rune(d)) > 200 {
		t.Errorf("description is %d characters; want at most 200", len([]rune(d)))
	}
}

func TestCallbackWithoutCode(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	f := newFlow(t, p.config(), memTickets(t))
	q := p.begin(t, f, "/", "b")
	q.Del("code")
	if _, err := complete(f, t.Context(), q, "b"); !errors.Is(err, oidclogin.ErrBadCallback) {
		t.Fatalf("no code: %v; want ErrBadCallback", err)
	}
}

func TestExpiredState(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	addr, db := testenv.RedisDB(t)
	stores := map[string]state.Tickets{
		"memory": memTickets(t),
		"redis":  redisTickets(t, fmt.Sprintf("%s,defaultDatabase=%d", addr, db)),
	}
	for name, tickets := range stores {
		t.Run(name, func(t *testing.T) {
			cfg := p.config()
			cfg.StateTTL = 200 * time.Millisecond
			f := newFlow(t, cfg, tickets)
			q := p.begin(t, f, "/", "b")
			time.Sleep(300 * time.Millisecond)
			if _, err := complete(f, t.Context(), q, "b"); !errors.Is(err, oidclogin.ErrStateUnknown) {
				t.Fatalf("expired state: %v; want ErrStateUnknown", err)
			}
		})
	}
}

func TestRedisDown(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	r := testenv.RedisPrivate(t, testenv.RedisOptions{})
	f := newFlow(t, p.config(), redisTickets(t, r.Addr))
	q := p.begin(t, f, "/", "b")
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	_, err := complete(f, t.Context(), q, "b")
	if !errors.Is(err, state.ErrStoreUnavailable) || errors.Is(err, oidclogin.ErrStateUnknown) {
		t.Fatalf("Complete with Redis down: %v; want a store-unavailable error", err)
	}
	t.Logf("Complete with Redis down: %v", err)
	_, err = f.Begin(t.Context(), oidclogin.BeginRequest{RedirectURL: p.redirect, Binding: "b"})
	if !errors.Is(err, state.ErrStoreUnavailable) {
		t.Fatalf("Begin with Redis down: %v; want a store-unavailable error", err)
	}
}

// An edge starts while the provider is down; Begin fails clearly, is not
// retried for RetryInterval, and works once the provider is back.
func TestProviderDownAtStart(t *testing.T) {
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// The provider's tokens carry real times: the clock follows the real
	// one until the test moves it.
	clk := fakeclock.Real()
	f := newFlow(t, oidclogin.Config{Issuer: "http://" + addr + "/", ClientID: "web", ClientSecret: "s3cret", Now: clk.Now}, memTickets(t))
	redirect := "http://127.0.0.1:1/oauth2/callback"
	begin := func() error {
		_, err := f.Begin(t.Context(), oidclogin.BeginRequest{RedirectURL: redirect, Binding: "b"})
		return err
	}
	err = begin()
	if !errors.Is(err, oidclogin.ErrProviderUnavailable) || !strings.HasPrefix(err.Error(), "oidclogin: provider unavailable: ") {
		t.Fatalf("Begin with the provider down: %v; want ErrProviderUnavailable", err)
	}
	if url, err := f.EndSessionURL(t.Context(), "", ""); url != "" || !errors.Is(err, oidclogin.ErrProviderUnavailable) {
		t.Fatalf("EndSessionURL with the provider down: %q, %v", url, err)
	}

	p := testenv.IdentityProviderT(t, testenv.IdPOptions{Addr: addr, ClientSecret: "s3cret", RedirectURIs: []string{redirect}})
	// Within RetryInterval the failure is answered from memory.
	if err := begin(); !errors.Is(err, oidclogin.ErrProviderUnavailable) {
		t.Fatalf("Begin right after a failure: %v; want the remembered failure", err)
	}
	clk.Advance(oidclogin.RetryInterval + time.Second)
	if err := begin(); err != nil {
		t.Fatalf("Begin after the provider came back: %v", err)
	}
	_ = p
}

// Errors from the token endpoint never carry the code or the client
// secret, even when the provider refuses both.
func TestErrorsHideCodeAndSecret(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	tickets := memTickets(t)

	wrong := p.config()
	wrong.ClientSecret = "not-the-secret-0123456789"
	f := newFlow(t, wrong, tickets)
	q := p.begin(t, f, "/", "b")
	_, err := complete(f, t.Context(), q, "b")
	if !errors.Is(err, oidclogin.ErrExchange) {
		t.Fatalf("wrong client secret: %v; want ErrExchange", err)
	}
	assertNoSecret(t, err, q.Get("code"), wrong.ClientSecret, p.ClientSecret)

	// A code redeemed once, presented again with a fresh state.
	good := newFlow(t, p.config(), tickets)
	used := p.begin(t, good, "/", "b")
	if _, err := complete(good, t.Context(), used, "b"); err != nil {
		t.Fatal(err)
	}
	fresh := p.begin(t, good, "/", "b")
	fresh.Set("code", used.Get("code"))
	_, err = complete(good, t.Context(), fresh, "b")
	if !errors.Is(err, oidclogin.ErrExchange) {
		t.Fatalf("reused code: %v; want ErrExchange", err)
	}
	assertNoSecret(t, err, used.Get("code"), p.ClientSecret)
	t.Logf("exchange error as logged: %v", err)
}

// Many requests arriving at a fresh edge share one discovery (run with
// -race).
func TestConcurrentFirstUse(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	f := newFlow(t, p.config(), memTickets(t))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := f.Begin(t.Context(), oidclogin.BeginRequest{RedirectURL: p.redirect, Binding: "b"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestEndSessionURL(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	signedOut := strings.Replace(p.redirect, "/oauth2/callback", "/signed-out", 1)
	p.AddPostLogoutRedirectURIs(signedOut)
	f := newFlow(t, p.config(), memTickets(t))
	res, err := complete(f, t.Context(), p.begin(t, f, "/", "b"), "b")
	if err != nil {
		t.Fatal(err)
	}
	end, err := f.EndSessionURL(t.Context(), res.IDToken, signedOut)
	if err != nil || end == "" {
		t.Fatalf("EndSessionURL: %q, %v", end, err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(end)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, signedOut) {
		t.Fatalf("end_session answered %d to %q; want a redirect to %s", resp.StatusCode, loc, signedOut)
	}
}

func TestBeginRejectsBadInput(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	ct := &countingTickets{Tickets: memTickets(t)}
	f := newFlow(t, p.config(), ct)
	_, err := f.Begin(t.Context(), oidclogin.BeginRequest{ReturnTo: "//evil.example/", RedirectURL: p.redirect})
	if !errors.Is(err, oidclogin.ErrBadReturnTo) {
		t.Errorf("open redirect: %v; want ErrBadReturnTo", err)
	}
	for _, r := range []string{"", "/oauth2/callback", "ftp://x/cb", "http:///cb", "http://h/cb#frag"} {
		if _, err := f.Begin(t.Context(), oidclogin.BeginRequest{RedirectURL: r}); err == nil {
			t.Errorf("redirect URL %q accepted", r)
		}
	}
	if ct.puts != 0 {
		t.Errorf("rejected requests stored %d states", ct.puts)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tickets := memTickets(t)
	for _, c := range []oidclogin.Config{
		{Issuer: "", ClientID: "c"},
		{Issuer: "issuer.example", ClientID: "c"},
		{Issuer: "/relative", ClientID: "c"},
		{Issuer: "ftp://issuer.example", ClientID: "c"},
		{Issuer: "https://", ClientID: "c"},
		{Issuer: "https://issuer.example/?tenant=1", ClientID: "c"},
		{Issuer: "https://issuer.example"},
	} {
		if _, err := oidclogin.New(c, tickets); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	if _, err := oidclogin.New(oidclogin.Config{Issuer: "https://issuer.example", ClientID: "c"}, nil); err == nil {
		t.Error("New without a ticket store accepted")
	}
	if _, err := oidclogin.New(oidclogin.Config{Issuer: "https://issuer.example/realms/x", ClientID: "c"}, tickets); err != nil {
		t.Errorf("valid config: %v", err)
	}
}
