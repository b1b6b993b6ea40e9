package oidclogin_test

import (
	"context"
	"errors"
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
