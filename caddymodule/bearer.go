package caddymodule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

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

// Limits on what unauthenticated clients can make the provider do.
const (
	// refusedTTL: a token the provider refused is refused locally for
	// this long without asking again.
	refusedTTL = 30 * time.Second
	maxRefused = 10_000
	// maxIntrospections in flight per edge; more wait up to
	// introspectionWait, then get 503.
	maxIntrospections = 8
	introspectionWait = 2 * time.Second
)

// bearerGuard keeps invalid tokens and floods away from the provider.
type bearerGuard struct {
	mu      sync.Mutex
	refused map[string]time.Time // token hash → refused until
	slots   chan struct{}
}

func newBearerGuard() *bearerGuard {
	return &bearerGuard{refused: map[string]time.Time{}, slots: make(chan struct{}, maxIntrospections)}
}

func (g *bearerGuard) isRefused(hash string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.refused[hash]
	return ok && time.Now().Before(until)
}

func (g *bearerGuard) refuse(hash string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.refused) >= maxRefused {
		g.refused = map[string]time.Time{}
	}
	g.refused[hash] = time.Now().Add(refusedTTL)
}

// validateBearer asks the distributed token cache who the token is for; on
// a miss the provider's introspection endpoint answers and the result is
// shared with every edge for at most the cache's TTL (and never past the
// token's own expiry). The cache is keyed by the token's SHA-256, so Redis
// never holds a usable token. Malformed tokens never leave the edge,
// refused ones are refused locally for a while, and at most a few
// introspections per edge run at once.
func (h *SessionGate) validateBearer(ctx context.Context, token string) (*oidclogin.TokenIdentity, error) {
	if !oidclogin.WellFormedToken(token) {
		return nil, oidclogin.ErrTokenInvalid
	}
	res := h.app.res
	sum := sha256.Sum256([]byte(token))
	hash := hex.EncodeToString(sum[:])
	if res.bearer.isRefused(hash) {
		return nil, oidclogin.ErrTokenInvalid
	}
	val, err := res.provider.Tokens.Get(ctx, hash, func(ctx context.Context) ([]byte, error) {
		wait, cancel := context.WithTimeout(ctx, introspectionWait)
		defer cancel()
		select {
		case res.bearer.slots <- struct{}{}:
			defer func() { <-res.bearer.slots }()
		case <-wait.Done():
			return nil, fmt.Errorf("%w: too many token validations in progress", oidclogin.ErrProviderUnavailable)
		}
		id, err := h.app.flow.Introspect(ctx, token, h.app.oidc.BearerClients)
		if err != nil {
			return nil, err
		}
		return json.Marshal(id)
	})
	if err != nil {
		if errors.Is(err, oidclogin.ErrTokenInvalid) {
			res.bearer.refuse(hash)
		}
		return nil, err
	}
	var id oidclogin.TokenIdentity
	if err := json.Unmarshal(val, &id); err != nil || id.Subject == "" {
		return nil, oidclogin.ErrTokenInvalid
	}
	if !id.Expires.IsZero() && time.Now().After(id.Expires) {
		return nil, fmt.Errorf("%w: expired", oidclogin.ErrTokenInvalid)
	}
	return &id, nil
}
