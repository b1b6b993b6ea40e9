package oidclogin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ErrTokenInvalid: the provider does not accept the access token (expired,
// revoked, forged, or for another provider).
var ErrTokenInvalid = errors.New("oidclogin: the access token is not valid")

// TokenIdentity is who an access token is for, as the provider's userinfo
// endpoint says.
type TokenIdentity struct {
	Subject string   `json:"sub"`
	Name    string   `json:"name,omitempty"`
	Email   string   `json:"email,omitempty"`
	Groups  []string `json:"groups,omitempty"`
}

// UserInfo validates a bearer access token by presenting it to the
// provider's userinfo endpoint, which works for opaque and JWT access
// tokens alike and honours revocation at the provider. The caller caches
// the answer (the distributed token cache); a refusal is ErrTokenInvalid,
// an unreachable provider ErrProviderUnavailable.
func (f *Flow) UserInfo(ctx context.Context, accessToken string) (*TokenIdentity, error) {
	if accessToken == "" || len(accessToken) > 16<<10 || strings.ContainsAny(accessToken, " \t\r\n") {
		return nil, ErrTokenInvalid
	}
	p, err := f.provider(ctx)
	if err != nil {
		return nil, err
	}
	endpoint := p.oidc.UserInfoEndpoint()
	if endpoint == "" {
		return nil, fmt.Errorf("%w: the provider has no userinfo endpoint", ErrProviderUnavailable)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrProviderUnavailable, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := f.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo: %s", ErrProviderUnavailable, redact(sanitize(err.Error(), 200), accessToken))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, ErrTokenInvalid
	case resp.StatusCode != http.StatusOK || err != nil:
		return nil, fmt.Errorf("%w: userinfo answered %s", ErrProviderUnavailable, resp.Status)
	}
	var c claims
	if err := json.Unmarshal(body, &c); err != nil || c.Subject == "" {
		// Some providers answer a signed JWT here; not supported yet.
		return nil, fmt.Errorf("%w: userinfo is not a JSON object with a subject", ErrProviderUnavailable)
	}
	return &TokenIdentity{
		Subject: c.Subject, Name: firstNonEmpty(c.Name, c.PreferredUsername, c.Email, c.Subject),
		Email: c.Email, Groups: []string(c.Groups),
	}, nil
}
