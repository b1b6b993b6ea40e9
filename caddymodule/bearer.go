package caddymodule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/cesivi/cesivi/internal/oidclogin"
)

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header (the scheme is case-insensitive, RFC 6750).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// validateBearer asks the distributed token cache who the token is for;
// on a miss the provider's userinfo endpoint answers and the result is
// shared with every edge for at most the cache's TTL. The cache is keyed by
// the token's SHA-256, so Redis never holds a usable token. Refusals are not
// cached: a token the provider refuses is asked about again next time.
func (h *Session) validateBearer(ctx context.Context, token string) (*oidclogin.TokenIdentity, error) {
	sum := sha256.Sum256([]byte(token))
	val, err := h.app.res.provider.Tokens.Get(ctx, hex.EncodeToString(sum[:]), func(ctx context.Context) ([]byte, error) {
		id, err := h.app.flow.UserInfo(ctx, token)
		if err != nil {
			return nil, err
		}
		return json.Marshal(id)
	})
	if err != nil {
		return nil, err
	}
	var id oidclogin.TokenIdentity
	if err := json.Unmarshal(val, &id); err != nil || id.Subject == "" {
		return nil, oidclogin.ErrTokenInvalid
	}
	return &id, nil
}
