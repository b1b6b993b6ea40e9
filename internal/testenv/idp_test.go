package testenv_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cesivi/cesivi/internal/testenv"
)

func TestIdPDiscovery(t *testing.T) {
	p := testenv.IdentityProviderT(t, testenv.IdPOptions{})
	if !strings.HasPrefix(p.Issuer, "http://127.0.0.1:") || !strings.HasSuffix(p.Issuer, "/") {
		t.Fatalf("issuer %q; want http://127.0.0.1:<port>/", p.Issuer)
	}
	resp, err := http.Get(p.Issuer + ".well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer                string   `json:"issuer"`
		AuthorizationEndpoint string   `json:"authorization_endpoint"`
		TokenEndpoint         string   `json:"token_endpoint"`
		JWKSURI               string   `json:"jwks_uri"`
		EndSessionEndpoint    string   `json:"end_session_endpoint"`
		PKCEMethods           []string `json:"code_challenge_methods_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Issuer != p.Issuer || doc.AuthorizationEndpoint == "" || doc.TokenEndpoint == "" || doc.JWKSURI == "" || doc.EndSessionEndpoint == "" {
		t.Fatalf("discovery document: %+v", doc)
	}
	if len(doc.PKCEMethods) != 1 || doc.PKCEMethods[0] != "S256" {
		t.Errorf("PKCE methods %v; want [S256]", doc.PKCEMethods)
	}
}

func TestIdPRefusesNonLoopback(t *testing.T) {
	if _, err := testenv.StartIdentityProvider(testenv.IdPOptions{Addr: "0.0.0.0:0"}); err == nil {
		t.Fatal("provider started on all interfaces")
	}
}

// callback is a relying party's redirect_uri that records what it received.
type callback struct {
	*httptest.Server
	got chan url.Values
}

func newCallback(t *testing.T) *callback {
	cb := &callback{got: make(chan url.Values, 1)}
	cb.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cb.got <- r.URL.Query()
		w.Write([]byte("signed in"))
	}))
	t.Cleanup(cb.Close)
	return cb
}

func TestIdPLoginAuthCodePKCE(t *testing.T) {
	ctx := t.Context()
	cb := newCallback(t)
	p := testenv.IdentityProviderT(t, testenv.IdPOptions{PostLogoutRedirectURIs: []string{cb.URL + "/signed-out"}})
	// The callback is often known only after the issuer.
	p.AddRedirectURIs(cb.URL + "/callback")
	// A second provider in the same process must not disturb the first
	// (the upstream example keeps clients in a package-global map).
	other := testenv.IdentityProviderT(t, testenv.IdPOptions{RedirectURIs: []string{cb.URL + "/other"}})
	if other.ClientSecret == p.ClientSecret {
		t.Fatal("two providers share a client secret")
	}

	provider, err := oidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret,
		Endpoint:     provider.Endpoint(),
		RedirectURL:  cb.URL + "/callback",
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess},
	}
	state, nonce, verifier := "state-123", "nonce-456", oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := p.Login(ctx, client, authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("Login ended with HTTP %d at %s, not a redirect", resp.StatusCode, resp.Request.URL)
	}
	if !strings.HasPrefix(loc.String(), cb.URL+"/callback?") {
		t.Fatalf("Login redirected to %s; want the callback", loc)
	}
	// Login stops at the relying party; deliver the redirect like a browser.
	final, err := client.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	final.Body.Close()
	q := <-cb.got
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("callback got %v", q)
	}

	if _, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption("wrong-verifier-wrong-verifier-wrong-verifier")); err == nil {
		t.Fatal("token exchange with a wrong PKCE verifier succeeded")
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	rawID, ok := tok.Extra("id_token").(string)
	if !ok {
		t.Fatal("no id_token in the token response")
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: p.ClientID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatal(err)
	}
	if idt.Nonce != nonce {
		t.Errorf("nonce %q; want %q", idt.Nonce, nonce)
	}
	if idt.Subject != p.Subject {
		t.Errorf("subject %q; want %q", idt.Subject, p.Subject)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: "someone-else"}).Verify(ctx, rawID); err == nil {
		t.Error("ID token verified for another audience")
	}

	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Name              string `json:"name"`
		PreferredUsername string `json:"preferred_username"`
	}
	info.Claims(&claims)
	if info.Subject != p.Subject || info.Email != p.Email || claims.Name != p.Name || claims.PreferredUsername != p.Username {
		t.Errorf("userinfo sub=%q email=%q name=%q preferred_username=%q", info.Subject, info.Email, claims.Name, claims.PreferredUsername)
	}

	// RP-initiated logout to a registered post_logout_redirect_uri.
	var endSession struct {
		URL string `json:"end_session_endpoint"`
	}
	provider.Claims(&endSession)
	logout := endSession.URL + "?" + url.Values{
		"id_token_hint":            {rawID},
		"client_id":                {p.ClientID},
		"post_logout_redirect_uri": {cb.URL + "/signed-out"},
		"state":                    {"bye"},
	}.Encode()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	out, err := noFollow.Get(logout)
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	if where := out.Header.Get("Location"); !strings.HasPrefix(where, cb.URL+"/signed-out") {
		t.Fatalf("end_session answered %d to %q; want a redirect to the post-logout URI", out.StatusCode, where)
	}
}

func TestIdPWrongPasswordIsRefused(t *testing.T) {
	cb := newCallback(t)
	p := testenv.IdentityProviderT(t, testenv.IdPOptions{RedirectURIs: []string{cb.URL + "/callback"}})
	provider, err := oidc.NewProvider(t.Context(), p.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: p.ClientID, Endpoint: provider.Endpoint(), RedirectURL: cb.URL + "/callback", Scopes: []string{oidc.ScopeOpenID}}
	authURL := conf.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))

	resp, err := p.LoginAs(t.Context(), nil, authURL, p.Username, "not-the-password")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("login with a wrong password answered HTTP %d (%s)", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !errors.Is(err, testenv.ErrLoginRefused) {
		t.Fatalf("error %v; want ErrLoginRefused", err)
	}
	t.Logf("refused: %v", err)
}

func TestIdPRejectsUnregisteredRedirectURI(t *testing.T) {
	p := testenv.IdentityProviderT(t, testenv.IdPOptions{RedirectURIs: []string{"http://127.0.0.1:1/callback"}})
	provider, err := oidc.NewProvider(t.Context(), p.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: p.ClientID, Endpoint: provider.Endpoint(), RedirectURL: "http://127.0.0.1:2/evil", Scopes: []string{oidc.ScopeOpenID}}
	resp, err := p.Login(t.Context(), nil, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("login with an unregistered redirect_uri answered HTTP %d to %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}
