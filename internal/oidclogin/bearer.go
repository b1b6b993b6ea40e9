package oidclogin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ErrTokenInvalid: the access token is not active at the provider, or was
// issued to a client this site does not accept (another application of the
// same provider).
var ErrTokenInvalid = errors.New("oidclogin: the access token is not valid for this site")

// TokenIdentity is who an access token is for.
type TokenIdentity struct {
	Subject string   `json:"sub"`
	Name    string   `json:"name,omitempty"`
	Email   string   `json:"email,omitempty"`
	Groups  []string `json:"groups,omitempty"`
	// Expires is the token's own expiry (zero: the provider did not say).
	Expires time.Time `json:"exp,omitzero"`
}

// WellFormedToken reports whether s can be a bearer token at all (RFC 6750
// b64token, sensible length), so garbage never reaches the provider.
func WellFormedToken(s string) bool {
	if len(s) < 8 || len(s) > 8<<10 {
		return false
	}
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for _, c := range body {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// Introspect validates a bearer access token with the provider's token
// introspection endpoint (RFC 7662), authenticated as this client. A token
// is accepted only when it is active and was issued for this site: its
// client_id or azp is this client or one of accepted, or its audience names
// one of them. Without that check any application of the same provider
// that obtains a user's token could replay it here (OAuth 2.0 security
// BCP, RFC 9700 section 4.10). A refusal is ErrTokenInvalid; an unreachable
// provider, or one that refuses this client's credentials, is
// ErrProviderUnavailable (the token's fault is not established).
func (f *Flow) Introspect(ctx context.Context, token string, accepted []string) (*TokenIdentity, error) {
	if !WellFormedToken(token) {
		return nil, ErrTokenInvalid
	}
	p, err := f.provider(ctx)
	if err != nil {
		return nil, err
	}
	if p.introspection == "" {
		return nil, fmt.Errorf("%w: the provider offers no token introspection endpoint, which bearer tokens need", ErrProviderUnavailable)
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.introspection, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrProviderUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 section 2.3.1: the credentials are form-encoded first.
	req.SetBasicAuth(url.QueryEscape(f.cfg.ClientID), url.QueryEscape(f.cfg.ClientSecret))
	resp, err := f.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: introspection: %s", ErrProviderUnavailable, f.describe(err, token))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK || err != nil {
		return nil, fmt.Errorf("%w: introspection answered %s", ErrProviderUnavailable, resp.Status)
	}
	var r struct {
		Active   bool       `json:"active"`
		Subject  string     `json:"sub"`
		ClientID string     `json:"client_id"`
		AZP      string     `json:"azp"`
		Audience stringList `json:"aud"`
		Expiry   int64      `json:"exp"`
		// TokenType is RFC 7662's token_type; Typ is Keycloak's typ
		// ("Bearer", "ID", "Refresh", ...).
		TokenType string `json:"token_type"`
		Typ       string `json:"typ"`
		claims
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%w: introspection answer is not JSON", ErrProviderUnavailable)
	}
	if !r.Active {
		return nil, ErrTokenInvalid
	}
	if !isAccessToken(r.TokenType, r.Typ) {
		return nil, fmt.Errorf("%w: not an access token", ErrTokenInvalid)
	}
	if !issuedFor(append([]string{f.cfg.ClientID}, accepted...), r.ClientID, r.AZP, r.Audience) {
		return nil, fmt.Errorf("%w: issued to another client", ErrTokenInvalid)
	}
	if r.Subject == "" {
		r.Subject = r.claims.Subject
	}
	if r.Subject == "" {
		return nil, fmt.Errorf("%w: no subject", ErrTokenInvalid)
	}
	id := &TokenIdentity{
		Subject: r.Subject, Name: firstNonEmpty(r.Name, r.PreferredUsername, r.Email, r.Subject),
		Email: r.Email, Groups: []string(r.Groups),
	}
	if r.Expiry > 0 {
		id.Expires = time.Unix(r.Expiry, 0)
	}
	return id, nil
}

// isAccessToken reports whether an active token's introspection says it is
// an access token. Some providers (Keycloak) answer "active" for ID and
// refresh tokens too, with typ "ID" or "Refresh"; a client that holds one
// of those must not use it as a bearer token. A provider that names no
// type is taken at its word that it introspected an access token (the
// request's token_type_hint says which kind is expected).
func isAccessToken(tokenType, typ string) bool {
	for _, v := range []string{tokenType, typ} {
		switch strings.ToLower(v) {
		case "", "bearer", "access_token", "urn:ietf:params:oauth:token-type:access_token", "at+jwt", "application/at+jwt":
		default:
			return false
		}
	}
	return true
}

// issuedFor reports whether an introspected token was issued to one of the
// accepted clients: its client_id or azp is one, or its audience names one.
// Some providers (the zitadel example) already answer "inactive" to a
// client outside the audience; others (Keycloak) answer "active" for every
// token of the realm, which is why the edge checks again.
func issuedFor(accepted []string, clientID, azp string, aud []string) bool {
	if clientID != "" && slices.Contains(accepted, clientID) || azp != "" && slices.Contains(accepted, azp) {
		return true
	}
	for _, a := range aud {
		if a != "" && slices.Contains(accepted, a) {
			return true
		}
	}
	return false
}
