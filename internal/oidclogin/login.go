package oidclogin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cesivi/cesivi/internal/state"
)

// keyPrefix names login states in the ticket store.
const keyPrefix = "oidc:state:"

// recordVersion is bumped when record changes incompatibly; an edge that
// finds a record of another version treats the state as unknown (the user
// starts again) rather than misreading it during a rolling upgrade.
const recordVersion = 1

// record is what Begin stores and Complete takes.
type record struct {
	V           int       `json:"v"`
	Nonce       string    `json:"nonce"`
	Verifier    string    `json:"verifier"`
	ReturnTo    string    `json:"returnTo"`
	RedirectURL string    `json:"redirectURL"`
	BindingHash string    `json:"bindingHash,omitempty"` // base64url SHA-256; "" for no binding
	Created     time.Time `json:"created"`
}

// BeginRequest starts a login.
type BeginRequest struct {
	// ReturnTo is the same-site path to land on after login (see
	// SafeReturnTo); empty means "/".
	ReturnTo string
	// RedirectURL is the absolute URL of the edge's callback. It is stored
	// with the state so that Complete, on whichever edge, redeems the code
	// with exactly the same redirect_uri.
	RedirectURL string
	// Binding is an opaque random value the caller keeps in a short-lived
	// browser cookie and passes again to Complete. Only its SHA-256 is
	// stored. An empty Binding is accepted only because Complete then
	// demands an empty one too; an edge should always set one, or it loses
	// the protection against login CSRF.
	Binding string
}

// CompleteRequest is the callback's query plus the binding cookie's value.
type CompleteRequest struct {
	State, Code      string
	Binding          string
	Error            string // the callback's "error" parameter
	ErrorDescription string // its "error_description"
}

// Result is a verified login.
type Result struct {
	Subject           string
	Name              string // falls back to PreferredUsername, Email, Subject
	Email             string
	PreferredUsername string
	Groups            []string
	SID               string // OpenID Connect session id, for back-channel logout; may be empty
	ReturnTo          string // the cleaned path given to Begin
	IDToken           string
	AccessToken       string
	RefreshToken      string
	Expiry            time.Time // of the access token; zero if the provider did not say
}

// Begin stores a new login state and returns the provider's authorization
// URL to redirect the browser to.
func (f *Flow) Begin(ctx context.Context, req BeginRequest) (string, error) {
	returnTo := "/"
	if req.ReturnTo != "" {
		var ok bool
		if returnTo, ok = SafeReturnTo(req.ReturnTo); !ok {
			return "", ErrBadReturnTo
		}
	}
	if u, err := url.Parse(req.RedirectURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return "", fmt.Errorf("oidclogin: redirect URL %q must be an absolute http(s) URL without fragment", req.RedirectURL)
	}
	p, err := f.provider(ctx)
	if err != nil {
		return "", err
	}
	rec := record{
		V:           recordVersion,
		Nonce:       randomID(),
		Verifier:    oauth2.GenerateVerifier(),
		ReturnTo:    returnTo,
		RedirectURL: req.RedirectURL,
		BindingHash: bindingHash(req.Binding),
		Created:     f.cfg.Now().UTC(),
	}
	value, err := json.Marshal(rec)
	if err != nil {
		return "", err
	}
	// A conflict means a 128-bit collision: practically impossible, but a
	// fresh id is the right answer if it ever happens.
	var id string
	for range 3 {
		id = randomID()
		err = f.tickets.Put(ctx, keyPrefix+id, value, f.cfg.StateTTL)
		if !errors.Is(err, state.ErrConflict) {
			break
		}
	}
	if err != nil {
		return "", fmt.Errorf("oidclogin: cannot save the sign-in state: %w", err)
	}
	conf := p.oauth
	conf.RedirectURL = req.RedirectURL
	return conf.AuthCodeURL(id, oidc.Nonce(rec.Nonce), oauth2.S256ChallengeOption(rec.Verifier)), nil
}

// Complete finishes the login the callback belongs to. The state is
// consumed by the first call whatever its outcome, so every error after the
// state is found means the user must start again.
func (f *Flow) Complete(ctx context.Context, req CompleteRequest) (*Result, error) {
	if !validID(req.State) {
		return nil, ErrStateUnknown
	}
	raw, err := f.tickets.Take(ctx, keyPrefix+req.State)
	if errors.Is(err, state.ErrNotFound) {
		return nil, ErrStateUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("oidclogin: cannot read the sign-in state: %w", err)
	}
	var rec record
	if err := json.Unmarshal(raw, &rec); err != nil || rec.V != recordVersion {
		return nil, ErrStateUnknown
	}
	if subtle.ConstantTimeCompare([]byte(rec.BindingHash), []byte(bindingHash(req.Binding))) != 1 {
		return nil, ErrBindingMismatch
	}
	if req.Error != "" {
		msg := sanitize(req.Error, 64)
		if d := sanitize(req.ErrorDescription, 200); d != "" {
			msg += ": " + d
		}
		return nil, fmt.Errorf("%w: %s", ErrProvider, msg)
	}
	if req.Code == "" {
		return nil, ErrBadCallback
	}
	// The provider is needed only now: a forged or replayed callback never
	// makes the edge contact it.
	p, err := f.provider(ctx)
	if err != nil {
		return nil, err
	}
	// Token, JWKS and userinfo requests all take the client from here.
	hctx := oidc.ClientContext(ctx, f.cfg.HTTPClient)
	conf := p.oauth
	conf.RedirectURL = rec.RedirectURL
	tok, err := conf.Exchange(hctx, req.Code, oauth2.VerifierOption(rec.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) {
			// No answer from the token endpoint: the provider is down,
			// not the sign-in wrong.
			return nil, fmt.Errorf("%w: token endpoint: %s", ErrProviderUnavailable, f.describe(err, req.Code))
		}
		return nil, fmt.Errorf("%w: %s", ErrExchange, f.describe(err, req.Code))
	}
	rawID, _ := tok.Extra("id_token").(string)
	secrets := []string{req.Code, rawID, tok.AccessToken, tok.RefreshToken}
	if rawID == "" {
		return nil, fmt.Errorf("%w: the token response has no id_token", ErrIDToken)
	}
	idt, err := p.verifier.Verify(hctx, rawID)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrIDToken, f.describe(err, secrets...))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(rec.Nonce)) != 1 {
		return nil, fmt.Errorf("%w: nonce mismatch", ErrIDToken)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, fmt.Errorf("%w: access token does not match at_hash", ErrIDToken)
		}
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("%w: claims: %s", ErrIDToken, f.describe(err, secrets...))
	}
	if c.Subject == "" {
		return nil, fmt.Errorf("%w: no subject", ErrIDToken)
	}
	// Many providers put the profile only in the userinfo response (the
	// ID token stays small); ask for it when the ID token has none.
	if c.Email == "" && c.Name == "" && c.PreferredUsername == "" && p.oidc.UserInfoEndpoint() != "" {
		info, err := p.oidc.UserInfo(hctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return nil, fmt.Errorf("%w: userinfo: %s", ErrExchange, f.describe(err, secrets...))
		}
		var u claims
		if err := info.Claims(&u); err != nil {
			return nil, fmt.Errorf("%w: userinfo claims: %s", ErrExchange, f.describe(err, secrets...))
		}
		// OpenID Connect Core 5.3.2: a userinfo of another subject must
		// not be used.
		if u.Subject != c.Subject {
			return nil, fmt.Errorf("%w: userinfo is for another subject", ErrIDToken)
		}
		c.merge(u)
	}
	res := &Result{
		Subject:           c.Subject,
		Name:              firstNonEmpty(c.Name, c.PreferredUsername, c.Email, c.Subject),
		Email:             c.Email,
		PreferredUsername: c.PreferredUsername,
		Groups:            []string(c.Groups),
		SID:               c.SID,
		ReturnTo:          rec.ReturnTo,
		IDToken:           rawID,
		AccessToken:       tok.AccessToken,
		RefreshToken:      tok.RefreshToken,
		Expiry:            tok.Expiry,
	}
	return res, nil
}

// claims are the ID token (or userinfo) claims the edge uses.
type claims struct {
	Subject           string     `json:"sub"`
	Name              string     `json:"name"`
	Email             string     `json:"email"`
	PreferredUsername string     `json:"preferred_username"`
	Groups            stringList `json:"groups"`
	SID               string     `json:"sid"`
}

func (c *claims) merge(u claims) {
	c.Name = firstNonEmpty(c.Name, u.Name)
	c.Email = firstNonEmpty(c.Email, u.Email)
	c.PreferredUsername = firstNonEmpty(c.PreferredUsername, u.PreferredUsername)
	if len(c.Groups) == 0 {
		c.Groups = u.Groups
	}
}

// stringList decodes a JSON array of strings, a single string (some providers
// send one group that way) or null.
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = nil
		return nil
	}
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("groups claim is neither a string nor an array of strings")
	}
	*s = many
	return nil
}

// describe renders an error for a log line without anything secret: the
// client secret and the given secrets (the code, tokens) are cut out of it,
// in case a provider or a library echoes them.
func (f *Flow) describe(err error, secrets ...string) string {
	var re *oauth2.RetrieveError
	msg := err.Error()
	if errors.As(err, &re) {
		// Its Error() includes the whole response body; keep the
		// standard fields only.
		msg = "token endpoint answered"
		if re.Response != nil {
			msg += " " + re.Response.Status
		}
		if re.ErrorCode != "" {
			msg += ": " + re.ErrorCode
		}
		if re.ErrorDescription != "" {
			msg += ": " + re.ErrorDescription
		}
	}
	return redact(sanitize(msg, 300), append(secrets, f.cfg.ClientSecret)...)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// randomID returns 128 random bits as 22 characters of base64url.
func randomID() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validID reports whether s is something randomID could have returned.
// Strict decoding rejects the non-canonical spellings (nonzero trailing
// bits) so that one id has one key.
func validID(s string) bool {
	if len(s) != 22 {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == 16
}

func bindingHash(binding string) string {
	if binding == "" {
		return ""
	}
	h := sha256.Sum256([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(h[:])
}
