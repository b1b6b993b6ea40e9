package oidclogin_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/oidclogin"
	"github.com/cesivi/cesivi/internal/testenv"
)

func TestVerifyLogoutToken(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	f := newFlow(t, p.config(), memTickets(t))
	ctx := context.Background()

	tok, err := p.LogoutToken("u-1", "sid-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.VerifyLogoutToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "u-1" || c.SID != "sid-1" || c.JTI == "" || time.Until(c.Expires) <= 0 {
		t.Fatalf("claims %+v", c)
	}

	// An ID-token-shaped token (a nonce) and every other malformation fail
	// with ErrLogoutToken.
	bad := map[string]func(map[string]any){
		"nonce":        func(c map[string]any) { c["nonce"] = "n" },
		"no event":     func(c map[string]any) { c["events"] = map[string]any{"other": map[string]any{}} },
		"no jti":       func(c map[string]any) { delete(c, "jti") },
		"no sub, sid":  func(c map[string]any) { delete(c, "sub"); delete(c, "sid") },
		"other issuer": func(c map[string]any) { c["iss"] = "https://elsewhere.example/" },
		"other client": func(c map[string]any) { c["aud"] = "other" },
		"expired":      func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() },
	}
	for name, edit := range bad {
		tok, err := p.LogoutToken("u-1", "sid-1", edit)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.VerifyLogoutToken(ctx, tok); !errors.Is(err, oidclogin.ErrLogoutToken) {
			t.Errorf("%s: err = %v, want ErrLogoutToken", name, err)
		}
	}
	for _, raw := range []string{"", "a.b.c", tok[:len(tok)-4] + "AAAA"} {
		if _, err := f.VerifyLogoutToken(ctx, raw); !errors.Is(err, oidclogin.ErrLogoutToken) {
			t.Errorf("%q: err = %v, want ErrLogoutToken", raw, err)
		}
	}
}

// Forged tokens naming made-up key ids must not make the edge fetch the
// provider's keys on every request.
func TestForgedKeyIDsDoNotFloodTheProvidersKeyEndpoint(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	f := newFlow(t, p.config(), memTickets(t))
	ctx := context.Background()
	good, err := p.LogoutToken("u-1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.VerifyLogoutToken(ctx, good); err != nil {
		t.Fatal(err)
	}
	jwks := jwksPath(t, p.Issuer)
	before := p.Requests(jwks)
	for i := range 50 {
		if _, err := f.VerifyLogoutToken(ctx, forge(good, fmt.Sprintf("forged-%d", i))); !errors.Is(err, oidclogin.ErrLogoutToken) {
			t.Fatalf("forged token: %v", err)
		}
	}
	if n := p.Requests(jwks) - before; n > 1 {
		t.Fatalf("50 forged tokens made %d key fetches; want at most 1", n)
	}
	// The provider's own key is known: its tokens still verify at once.
	good2, _ := p.LogoutToken("u-2", "", nil)
	if _, err := f.VerifyLogoutToken(ctx, good2); err != nil {
		t.Fatalf("a genuine token after the forged ones: %v", err)
	}
}

// forge returns good's claims under a header naming kid, with a
// signature that is not the provider's.
func forge(good, kid string) string {
	_, payload, _ := strings.Cut(good, ".")
	payload, _, _ = strings.Cut(payload, ".")
	head := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"alg":"RS256","kid":%q}`, kid)))
	return head + "." + payload + "." + base64.RawURLEncoding.EncodeToString([]byte("not a signature"))
}

// On an edge that has just started, a forged token naming a made-up key
// id comes first; the genuine token after it verifies (the forged one
// must not use up the key fetch the genuine one needs).
func TestAForgedKeyIDOnAFreshEdgeDoesNotRefuseTheGenuineToken(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	f := newFlow(t, p.config(), memTickets(t))
	ctx := context.Background()
	good, err := p.LogoutToken("u-1", "sid-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := f.VerifyLogoutToken(ctx, forge(good, fmt.Sprintf("made-up-%d", i))); !errors.Is(err, oidclogin.ErrLogoutToken) {
			t.Fatalf("forged token: %v", err)
		}
	}
	if _, err := f.VerifyLogoutToken(ctx, good); err != nil {
		t.Fatalf("the genuine token after forged ones on a fresh flow: %v", err)
	}
	// ID tokens share the key set: a sign-in completes while forged
	// tokens keep arriving, 10 a second.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				_, _ = f.VerifyLogoutToken(ctx, forge(good, fmt.Sprintf("flood-%d", i)))
			}
		}
	}()
	defer func() { close(stop); <-done }()
	res, err := complete(f, ctx, p.begin(t, f, "/app", "b"), "b")
	if err != nil {
		t.Fatalf("a sign-in while forged tokens arrive: %v", err)
	}
	checkAlice(t, p, res, "/app")
}

// Forged tokens that name the provider's real key id but carry a bad
// signature are refused against that key: they never cause a fetch.
func TestForgedSignaturesUnderTheRealKeyIDDoNotFetchTheKeys(t *testing.T) {
	p := newIdP(t, testenv.IdPOptions{})
	f := newFlow(t, p.config(), memTickets(t))
	ctx := context.Background()
	good, err := p.LogoutToken("u-1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.VerifyLogoutToken(ctx, good); err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(good, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(head)
	var h struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil || h.KID == "" {
		t.Fatalf("the provider's token names no key id: %s", raw)
	}
	jwks := jwksPath(t, p.Issuer)
	before := p.Requests(jwks)
	for range 200 {
		if _, err := f.VerifyLogoutToken(ctx, forge(good, h.KID)); !errors.Is(err, oidclogin.ErrLogoutToken) {
			t.Fatalf("forged signature: %v", err)
		}
	}
	if n := p.Requests(jwks) - before; n != 0 {
		t.Fatalf("200 forged signatures under the real key id made %d key fetches; want 0", n)
	}
}

func jwksPath(t *testing.T, issuer string) string {
	t.Helper()
	resp, err := http.Get(issuer + ".well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(d.JWKS)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}
